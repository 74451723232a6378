"""qa: score how well an edited clip preserved everything outside its edit region.

Python API (the ``qa score`` command wraps it)::

    from qa.score import score
    from qa.mask import StaticMask, BoxRegion, parse_box

    result = score("source.mp4", "edited.mp4", region=StaticMask("mask.png"))
    result.passed, result.ssim_outside.mean, result.to_dict()   # schema "qa.score/1"

Modules: :mod:`qa.ssim` (the SSIM kernel), :mod:`qa.mask` (regions), :mod:`qa.autoregion`,
:mod:`qa.align` (grid, values, time, offset), :mod:`qa.gate` (pooling, thresholds),
:mod:`qa.score` (the streaming pass), :mod:`qa.report` (table, CSV, PNGs), :mod:`qa.cli`.
Nothing heavy is imported here, so ``import qa`` stays cheap.
"""

__version__ = "0.1.0"
