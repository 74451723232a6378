"""The typed Python API: one call per command, each returning one typed, frozen result.

>>> from preflight.api import check, plan_fix, fix, join
>>> result = check("clip.mp4", profile="aleph-2")        # doctest: +SKIP
>>> plan = plan_fix("clip.mp4")                          # what fix would do    # doctest: +SKIP
>>> done = fix("clip.mp4", "clip_fixed/")                # FixResult: plan, anchors, files  # doctest: +SKIP
>>> joined = join(done.manifest_path, "edited/", "out.mp4")  # JoinResult  # doctest: +SKIP

Every function takes keyword-only options, reports through ``progress``/``on_warning``
callbacks (:mod:`preflight.sinks`) and raises only :mod:`preflight.errors`; the CLI
(:mod:`preflight.cli`) prints what they return and maps the errors to exit codes. The heavy
modules are imported on first call, so importing this module does no work.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import errors
from .profile import Profile, load_profile

if TYPE_CHECKING:
    from .check.result import CheckResult
    from .fix.anchors import AnchorSpec
    from .fix.execute import FixResult
    from .fix.join import JoinResult
    from .fix.plan import Plan
    from .media.probe import Probe
    from .sinks import ProgressSink, WarningSink

__all__ = ["check", "errors", "fix", "join", "load_profile", "plan_fix", "probe"]


def _profile(profile: str | os.PathLike[str] | Profile) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def probe(path: str | os.PathLike[str]) -> Probe:
    """Container and stream properties of ``path`` (reads no pixels)."""
    from .media.probe import probe as _probe

    return _probe(os.fspath(path))


def check(path: str | os.PathLike[str], **options: object) -> CheckResult:
    """``preflight check``: see :func:`preflight.check.result.check` for the options."""
    from .check.result import check as _check

    return _check(path, **options)  # type: ignore[arg-type]


def plan_fix(path: str | os.PathLike[str], **options: object) -> Plan:
    """``preflight fix --dry-run``: see :func:`preflight.fix.execute.plan_fix` for the options."""
    from .fix.execute import plan_fix as _plan_fix

    return _plan_fix(os.fspath(path), **options)  # type: ignore[arg-type]


def fix(
    path: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    *,
    profile: str | os.PathLike[str] | Profile = "aleph-2",
    crf: int = 18,
    preset: str = "medium",
    aspect: str | None = None,
    anchors: Sequence[AnchorSpec | str] = (),
    merge_ranges: Sequence[tuple[float, float]] = (),
    force: bool = False,
    progress: ProgressSink | None = None,
    on_warning: WarningSink | None = None,
) -> FixResult:
    """``preflight fix``: transcode into spec, split at shots, write the segments and manifest.

    Raises
    ------
    preflight.errors.FailedError
        No valid segmentation (``NoPlanError``: clip too short, cuts too dense).
    preflight.errors.OutputError, preflight.errors.UsageError, preflight.errors.InputError
        Output refused, bad option or anchor, unreadable input.
    """
    from .fix.anchors import parse_anchor
    from .fix.execute import fix_file
    from .fix.plan import validate_encoder_options

    validate_encoder_options(crf=crf, preset=preset)
    specs = [parse_anchor(a) if isinstance(a, str) else a for a in anchors]
    _plan, result = fix_file(os.fspath(path), profile=_profile(profile), output_dir=output_dir, crf=crf,
                             preset=preset, aspect=aspect, anchors=specs, force=force, progress=progress,
                             on_warning=on_warning, merge_ranges=merge_ranges)
    return result


def join(
    manifest: str | os.PathLike[str],
    edited_dir: str | os.PathLike[str],
    output: str | os.PathLike[str],
    **options: object,
) -> JoinResult:
    """``preflight join``: see :func:`preflight.fix.join.run_join` for the options."""
    from .fix.join import run_join

    return run_join(manifest, edited_dir, output, **options)  # type: ignore[arg-type]
