"""Fixing a clip: plan the conform (:mod:`.plan`), transcode and split it at shots
(:mod:`.transcode`), describe the segments (:mod:`.manifest`) and join edited segments back
(:mod:`.join`)."""
