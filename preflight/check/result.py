"""The typed Python API behind the ``preflight`` console script.

>>> from preflight.api import check
>>> result = check("clip.mp4", profile="aleph-2")   # doctest: +SKIP
>>> result.passed, [f.id for f in result.findings]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..media.decode import DEFAULT_ANALYSIS_SIZE
from ..media.probe import Probe
from ..profile import Profile, load_profile
from ..sinks import ProgressSink, WarningSink
from .analyze import Analysis, analyze
from .verdict import Finding, ShotVerdict, evaluate, judge_shots, passed

CHECK_SCHEMA = "preflight.check/1"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of ``preflight check`` for one clip."""

    profile: Profile
    analysis: Analysis
    findings: tuple[Finding, ...]
    shots: tuple[ShotVerdict, ...]
    """The measured shots with their shake classes and exposure flags under ``profile``."""

    @property
    def passed(self) -> bool:
        return passed(self.findings)

    def to_dict(self) -> dict[str, object]:
        """The ``--json`` document (schema ``preflight.check/1``)."""
        a = self.analysis
        probe = a.probe.to_dict()
        probe["frame_count_decoded"] = a.frame_count
        return {
            "schema": CHECK_SCHEMA,
            "path": a.probe.path,
            "passed": self.passed,
            "profile": self.profile.name,
            "probe": probe,
            "analysis": {
                "width": a.geometry.width,
                "height": a.geometry.height,
                "frames": a.frame_count,
            },
            "transitions": [t.to_dict() for t in a.transitions],
            "cut_count": len(a.transitions),
            "shots": [s.to_dict() for s in self.shots],
            "findings": [f.to_dict() for f in self.findings],
            "comparisons": {
                kind: [t.to_dict() for t in found] for kind, found in a.comparisons.items()
            },
            "warnings": list(a.warnings),
        }


def check(
    path: str | os.PathLike[str],
    *,
    profile: str | os.PathLike[str] | Profile = "aleph-2",
    detectors: Sequence[str] = (),
    analysis_size: int = DEFAULT_ANALYSIS_SIZE,
    fast_decode: bool = True,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
    probe_result: Probe | None = None,
) -> CheckResult:
    """Probe, analyse in one decode pass, and judge ``path`` against an editor profile.

    ``probe_result`` reuses a probe the caller already made (the CLI probes first to size its
    progress bar).

    Raises
    ------
    preflight.errors.InputError
        Unreadable or invalid input.
    preflight.errors.UsageError
        Unknown profile or invalid option.
    """
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    analysis = analyze(
        path,
        detectors=detectors,
        analysis_size=analysis_size,
        fast_decode=fast_decode,
        progress=progress,
        on_warning=on_warning,
        probe_result=probe_result,
    )
    shots = judge_shots(analysis, prof)
    findings = evaluate(analysis, prof, shots=shots)
    return CheckResult(profile=prof, analysis=analysis, findings=findings, shots=shots)
