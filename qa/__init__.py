"""qa: score how well an edited clip preserved everything outside its edit region.

Python API (the ``qa score`` command wraps it)::

    from qa.score import score
    from qa.mask import StaticMask, BoxRegion, parse_box

    result = score("source.mp4", "edited.mp4", region=StaticMask("mask.png"))
    result.passed, result.ssim_outside.mean, result.to_dict()   # schema "qa.score/1"

Modules, in the order data flows through ``qa score``::

    qa.align (grid, values, time, offset search) ─┐
    qa.opening (read the openings until the offset is settled)
    qa.mask / qa.autoregion (the edit region) ────┼─> qa.score (the streaming pass: two
    qa.ssim (+ C kernel qa._ssimkernel) ──────────┘   preflight.media.prefetch readers, SSIM pool)
        -> qa.gate (pooling, thresholds) -> qa.result (ScoreResult, its JSON) -> qa.report
           (table, CSV, heat maps) -> qa.cli (thin: options, exit codes)

:mod:`qa.anchors` scores anchor images of a fix manifest; :mod:`qa.batch` runs many pairs.
Nothing heavy is imported here, so ``import qa`` stays cheap.
"""

__version__ = "0.1.0"
