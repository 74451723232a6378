"""Timeline export: OpenTimelineIO documents of a check or a fix, and a CMX 3600 EDL.

``otio.py`` builds the timelines (``opentimelineio``'s core wheel reads and writes OTIO JSON);
the EDL is written with the ``otio-cmx3600-adapter`` plugin.
"""

from .otio import check_edl_rate, check_timeline, segments_timeline, write_edl, write_otio

__all__ = ["check_edl_rate", "check_timeline", "segments_timeline", "write_edl", "write_otio"]
