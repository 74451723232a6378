"""Sharpness: the no-reference blur measure of Crété-Roffet et al. [1]_, per frame and per shot.

Idea: blurring a sharp image destroys much of its neighbour-to-neighbour variation; blurring an
already blurred image changes little. For each direction (horizontal, vertical) the frame ``F``
is re-blurred with a 9-tap box filter into ``B`` and

    D_F = |F(x) - F(x-1)|,   D_B = |B(x) - B(x-1)|,   V = max(0, D_F - D_B)
    s_dir = sum V / sum D_F                        (the share of variation the re-blur removes)

The frame's sharpness is ``min(s_horizontal, s_vertical)`` (the paper's blur is
``max(1 - s_h, 1 - s_v)``; the min catches motion blur along one axis). It is bounded 0-1 and,
being a ratio of two gradient sums, does not change when the contrast does (a 30%-contrast copy
of a frame scores the same), so it compares across content; computed on the ~320 px analysis
frame it compares across resolutions too. It measures sharpness *at analysis scale*: blur
under ~1 px of the analysis frame (e.g. a 2 px blur on 1080p, downscaled 6x) is invisible
there, and to the editor at its working resolution.

Implementation: the box filter telescopes, ``9 (B(x) - B(x-1)) = F(x+4) - F(x-5)``, so the
whole measure is two ``cv2.absdiff`` of shifted views, a saturating scale and a ``cv2.min`` in
8 bit (see :func:`_direction`, into reused buffers) and row sums, run on the batch stacked into one tall
image; sums are taken over pixels whose 10-pixel support lies inside their own frame, so frames
never mix. ~0.1 ms per 320x180 frame. Frames without texture (mean ``D_F`` below
``MIN_GRADIENT`` codes: black, flat or fully blown) have no defined sharpness: NaN.

References
----------
.. [1] F. Crété-Roffet, T. Dolmière, P. Ladret and M. Nicolas, "The blur effect: perception and
   estimation with a new no-reference perceptual blur metric", Proc. SPIE 6492, Human Vision
   and Electronic Imaging XII, 2007. (Also ``skimage.measure.blur_effect``, a variant with a
   Sobel operator and an 11-tap filter.)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...media.decode import AnalysisGeometry, FrameBatch
from ..shots import Shot
from .shake import check_shot

BOX = 9  # the paper's re-blur length
# Mean absolute neighbour difference (codes) below which a frame is flat: sharpness undefined.
MIN_GRADIENT = 0.5
_HEAD, _TAIL = BOX // 2 + 1, BOX // 2  # support of one D_B sample: x-5 .. x+4


@dataclass(frozen=True)
class SharpnessResult:
    """Sharpness of one shot.

    Attributes
    ----------
    value : float
        Median per-frame sharpness over the shot, 0 (blurred) to 1 (sharp); NaN when no frame
        of the shot has texture (the shot cannot be judged, so it is never flagged soft).
    low : float
        10th percentile of the per-frame values (the softest stretch), NaN likewise.
    frames : int
        Frames in the shot.
    measured_share : float
        Share (0-1) of frames with a defined value.
    """

    value: float
    low: float
    frames: int
    measured_share: float


def frame_sharpness(luma: np.ndarray, *, scratch: dict | None = None) -> np.ndarray:
    """Crété-Roffet sharpness ``min(s_h, s_v)`` of each frame of a batch.

    Parameters
    ----------
    luma : ndarray, shape (N, H, W), uint8
        Frames (any range; the measure is invariant to gain and offset). ``H, W >= 11``.
    scratch : dict, optional
        Reusable work buffers (pass the same empty dict on every call). Fresh multi-megabyte
        arrays per call cost page faults that more than double the run time.

    Returns
    -------
    ndarray, shape (N,), float64
        Values in [0, 1]; NaN for frames without texture.
    """
    if luma.ndim != 3 or luma.dtype != np.uint8:
        raise ValueError(f"luma must be an (N, H, W) uint8 array, got {luma.dtype} {luma.shape}")
    n, h, w = luma.shape
    if h < BOX + 2 or w < BOX + 2:
        raise ValueError(f"frames must be at least {BOX + 2}x{BOX + 2} px, got {w}x{h}")
    if n == 0:
        return np.zeros(0)
    rows = n * h
    tall = np.ascontiguousarray(luma).reshape(rows, w)
    # Horizontal: x = 5 .. w-5 (D_F pairs (x-1, x); 9 D_B pairs (x-5, x+4)). Rows never cross.
    bufs = scratch if scratch is not None else {}
    var_h, grad_h = _direction(tall[:, _HEAD : w - _TAIL], tall[:, _HEAD - 1 : w - _TAIL - 1],
                               tall[:, BOX:], tall[:, : w - BOX], bufs)
    sum_fh = grad_h.reshape(n, h).sum(axis=1)
    sum_vh = var_h.reshape(n, h).sum(axis=1)
    # Vertical on the stacked frames: global rows r = 5 .. N*H-5; keep only rows whose support
    # r-5 .. r+4 lies in one frame (in-frame y = 5 .. H-5).
    var_v, grad_v = _direction(tall[_HEAD : rows - _TAIL], tall[_HEAD - 1 : rows - _TAIL - 1],
                               tall[BOX:], tall[: rows - BOX], bufs)
    pad_f = np.zeros(rows, dtype=np.int64)
    pad_v = np.zeros(rows, dtype=np.int64)
    pad_f[_HEAD : rows - _TAIL] = grad_v
    pad_v[_HEAD : rows - _TAIL] = var_v
    sum_fv = pad_f.reshape(n, h)[:, _HEAD : h - _TAIL].sum(axis=1)
    sum_vv = pad_v.reshape(n, h)[:, _HEAD : h - _TAIL].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_h = sum_vh / (BOX * sum_fh.astype(np.float64))
        s_v = sum_vv / (BOX * sum_fv.astype(np.float64))
    sharp = np.minimum(s_h, s_v)
    pixels_h = h * (w - BOX)
    pixels_v = (h - BOX) * w
    flat = (sum_fh < MIN_GRADIENT * pixels_h) | (sum_fv < MIN_GRADIENT * pixels_v)
    sharp[flat] = np.nan
    return sharp


def _direction(
    a: np.ndarray, b: np.ndarray, far_a: np.ndarray, far_b: np.ndarray, bufs: dict
) -> tuple[np.ndarray, np.ndarray]:
    """Row sums of ``9 V`` and of ``D_F`` for one direction (views of equal shape).

    ``9 V = max(0, 9 D_F - 9 D_B) = 9 D_F - min(9 D_F, 9 D_B)``, and since ``9 D_B`` (an 8-bit
    difference) is at most 255, ``min(9 D_F, 9 D_B)`` is the same with ``9 D_F`` saturated to
    255: every per-pixel step stays in fast 8-bit arithmetic; only row sums are wider.
    """
    if a.shape not in bufs:
        if len(bufs) >= 2:  # one horizontal and one vertical shape per batch size
            bufs.clear()
        bufs[a.shape] = [np.empty(a.shape, np.uint8) for _ in range(3)]
    d_f, d_b9, work = bufs[a.shape]
    cv2.absdiff(a, b, d_f)
    cv2.absdiff(far_a, far_b, d_b9)
    cv2.convertScaleAbs(d_f, work, alpha=float(BOX))
    overlap = cv2.min(work, d_b9, work)
    grad = cv2.reduce(d_f, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    common = cv2.reduce(overlap, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel().astype(np.int64)
    return BOX * grad - common, grad


class SharpnessAnalyzer:
    """Per-frame Crété-Roffet sharpness; per-shot median with :meth:`shot_sharpness`."""

    name = "sharpness"

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []
        self._started = False
        self._scratch: dict = {}

    def start(self, geometry: AnalysisGeometry) -> None:
        """Reset. The measure needs frames of at least 11x11 px."""
        if geometry.width < BOX + 2 or geometry.height < BOX + 2:
            raise ValueError(
                f"analysis frames of {geometry.width}x{geometry.height} px are too small for the "
                f"sharpness measure: use an analysis size of at least {BOX + 2} px"
            )
        self._chunks = []
        self._started = True

    def process(self, batch: FrameBatch) -> None:
        """Measure every frame of ``batch``."""
        if not self._started:
            raise RuntimeError("SharpnessAnalyzer.process called before start(geometry)")
        if len(batch):
            self._chunks.append(frame_sharpness(batch.luma, scratch=self._scratch).astype(np.float32))

    def finish(self) -> None:
        """Release the work buffers."""
        self._scratch = {}
        self._collect()

    def frame_signals(self) -> dict[str, np.ndarray]:
        """``value``: per-frame sharpness 0-1 (NaN where the frame has no texture)."""
        return {"value": self._collect().astype(np.float64)}

    def shot_sharpness(self, shot: Shot) -> SharpnessResult:
        """Median (and 10th percentile) of the shot's per-frame sharpness.

        The median ignores a few frames blurred by a fast gesture or a focus pull; a shot is
        soft when most of it is.

        Raises
        ------
        ValueError
            ``shot`` lies outside the frames processed.
        """
        values = self._collect()
        check_shot(shot, len(values), "SharpnessAnalyzer")
        v = values[shot.start_frame : shot.end_frame + 1].astype(np.float64)
        ok = v[np.isfinite(v)]
        if ok.size == 0:
            return SharpnessResult(float("nan"), float("nan"), shot.frame_count, 0.0)
        return SharpnessResult(
            value=float(np.median(ok)),
            low=float(np.percentile(ok, 10)),
            frames=shot.frame_count,
            measured_share=ok.size / v.size,
        )

    def _collect(self) -> np.ndarray:
        if len(self._chunks) != 1:
            self._chunks = [np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)]
        return self._chunks[0]
