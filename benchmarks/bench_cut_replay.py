"""Replay the transition detector's decision stage over many evaluation draws, with each
recent rule switched off in turn.

Usage::

    python benchmarks/bench_cut_replay.py [--set NAME ...] [--all] [--rules] [--list]

The decision stage (``preflight.check.analyzers.transitions.decision.Decider``) works on the
per-frame series, window signals and flash pairs that ``SignalStream`` reduces a clip to. This
script computes them once per clip of ``fixtures/transitions_eval.py`` (the draws of
``benchmarks/bench_cut_accuracy.py``, rendered and cached there) and caches them in
``benchmarks/out/cut_signals/`` (keyed by the source of the decode and signal stages and the
default ``TransitionParams``), then replays the decision in ~0.1 s per clip. So a change to a decision
rule can be measured over thirty draws (20,000 cuts) in a minute.

It prints, per set and in total, true, false and missed hard cuts at +-1 frame (scored as
``bench_cut_accuracy.py`` scores them) and gradual transitions found (any type). With
``--rules``, each rule named in ``RULES`` is switched off in turn, and the false cuts and
true cuts it costs or saves are printed with their clips and frames: what each rule is
worth, measured on every draw at once. ``--list`` lists every false and missed cut and every
missed gradual transition. Draws that were inspected to design a rule (``bench_cut_accuracy.py``
lists them) are not held out for it: fresh draws, run once with the detector frozen, are the
held-out measure; this replay is the regression check.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import inspect
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_cut_accuracy as acc  # noqa: E402

from fixtures import transitions_eval  # noqa: E402
from preflight.check.analyzers.transitions import TransitionParams, motion, returns, signals  # noqa: E402
from preflight.check.analyzers.transitions.decision import Decider  # noqa: E402
from preflight.check.analyzers.transitions.signals import SignalStream  # noqa: E402
from preflight.media import decode  # noqa: E402
from preflight.media.decode import AnalysisGeometry, iter_luma_batches  # noqa: E402
from preflight.media.probe import probe  # noqa: E402

CACHE = ROOT / "benchmarks" / "out" / "cut_signals"
Replayed = tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]


def _no_steady(diff: np.ndarray, steps: np.ndarray, share: float) -> np.ndarray:
    return np.zeros(diff.size, bool)


# Each rule: a name (the commit that added it) and how to switch it off.
RULES: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "same: half of the blocks kept next to motion (0c9f3e9)":
        lambda: mock.patch.object(motion, "_KEPT_SHARE", math.inf),
    "steady move on one side of a registered change (a9c112c)":
        lambda: mock.patch.object(motion, "steady_sides", _no_steady),
    "still source frames are steps of the motion veto (1d0b59c)":
        lambda: mock.patch.object(Decider, "_steps", Decider._cadence_steps),
    "alike: 4 blocks kept and two thirds alike next to motion (21828b4)":
        lambda: mock.patch.object(motion, "_ALIKE_SHARE", math.inf),
    "three cut-sized steps make a run, not four (21828b4)":
        lambda: mock.patch.object(motion, "_RUN_STEPS", 4),
    "the picture back in structure after an object (window field S)":
        lambda: mock.patch.object(returns, "_RETURN_STRUCT_SHARE", -1.0),
    "no return in luma that structure contradicts":
        lambda: mock.patch.object(returns, "_NO_RETURN_STRUCT", math.inf),
}


def _cache_key() -> str:
    """Changes with the code that makes the signals (the decode to analysis size and the signal
    stage) and with the default tunables."""
    source = inspect.getsource(decode) + inspect.getsource(signals) + repr(TransitionParams())
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def _signals(path: Path) -> Replayed:
    """The decision stage's inputs for the clip at ``path`` (one decode)."""
    geometry = AnalysisGeometry.for_probe(probe(path))
    stream = SignalStream(geometry, TransitionParams())
    for batch in iter_luma_batches(str(path), geometry):
        stream.process(batch)
    return stream.collect()


def _cached(split: str, truth: acc.Truth) -> Replayed:
    out = CACHE / _cache_key() / split / f"{truth.name.split()[0]}.npz"
    if out.exists():
        with np.load(out) as z:
            sig = {k.removeprefix("sig_"): z[k] for k in z.files if k.startswith("sig_")}
            return sig, z["lin"], z["bridge"]
    sig, lin, bridge = _signals(truth.path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, lin=lin, bridge=bridge, **{f"sig_{k}": v for k, v in sig.items()})
    tmp.replace(out)
    return sig, lin, bridge


def _decide(inputs: Replayed) -> tuple[list[int], list[tuple[str, int, int]]]:
    sig, lin, bridge = inputs
    found = Decider(TransitionParams(), dict(sig), lin, bridge).run()
    cuts = [int(a) for kind, a, _b, _c, _v in found if kind == "cut"]
    return cuts, [(str(kind), int(a), int(b)) for kind, a, b, _c, _v in found if kind != "cut"]


def _load(splits: list[str]) -> Iterator[tuple[str, acc.Truth, Replayed]]:
    for split in splits:
        for truth in acc.eval_clips(split):
            yield split, truth, _cached(split, truth)


def _outcomes(truth: acc.Truth, cuts: list[int]) -> tuple[set[int], set[int]]:
    """The reported cuts that are true (within +-1 of a true cut) and false (scored as false)."""
    return ({c for c in cuts if any(abs(c - g) <= acc.CUT_TOL for g in truth.cuts)},
            set(acc.false_cuts(truth, cuts)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", dest="sets", metavar="NAME",
                    choices=(*acc._TUNE_SETS, "heldout", *transitions_eval.HELDOUT_DRAWS),
                    help="a draw of bench_cut_accuracy.py (repeatable)")
    ap.add_argument("--all", action="store_true", help="every tune set and held-out draw")
    ap.add_argument("--rules", action="store_true", help="switch each rule of RULES off in turn")
    ap.add_argument("--list", action="store_true",
                    help="list every false and missed cut and missed gradual transition")
    args = ap.parse_args()
    splits = [*acc._TUNE_SETS, "heldout", *transitions_eval.HELDOUT_DRAWS] if args.all else args.sets
    if not splits:
        ap.error("give --set NAME (repeatable) or --all")
    t0 = time.perf_counter()
    clips = list(_load(splits))
    print(f"{len(clips)} clips of {len(splits)} sets, signals ready in {time.perf_counter() - t0:.0f} s "
          f"(cache {CACHE.relative_to(ROOT)}/{_cache_key()})")
    base = {(s, t.name): _decide(x) for s, t, x in clips}
    total = acc.Tally()
    print(f"{'set':12s} {'clips':>5s} {'minutes':>7s} {'cuts':>6s} {'TP':>6s} {'FP':>4s} {'FN':>4s} "
          f"{'gradual found':>14s}")
    for split in splits:
        tally = acc.Tally()
        mine = [(t, base[(s, t.name)]) for s, t, _x in clips if s == split]
        for truth, (cuts, gradual) in mine:
            tally.add(acc.score(truth, cuts, gradual))
        total.add(tally)
        n_grad = sum(len(t.gradual) for t, _ in mine)
        minutes = sum(t.seconds for t, _ in mine) / 60
        print(f"{split:12s} {len(mine):5d} {minutes:7.1f} {tally.tp + tally.fn:6d} {tally.tp:6d} "
              f"{tally.fp:4d} {tally.fn:4d} {tally.grad_any:6d} of {n_grad:<5d}")
    minutes = sum(t.seconds for _s, t, _x in clips) / 60
    print(f"{'total':12s} {len(clips):5d} {minutes:7.1f} {total.tp + total.fn:6d} {total.tp:6d} "
          f"{total.fp:4d} {total.fn:4d}")
    if args.list:
        _list(clips, base)
    if args.rules:
        _ablate(clips, base)


def _list(clips: list[tuple[str, acc.Truth, Replayed]],
          base: dict[tuple[str, str], tuple[list[int], list]]) -> None:
    """Each false cut (with the hard negatives whose range holds it), each missed cut and
    each missed gradual transition."""
    print("\nfalse and missed cuts, missed gradual transitions:")
    for split, truth, _inputs in clips:
        cuts, gradual = base[(split, truth.name)]
        _true, false = _outcomes(truth, cuts)
        for c in sorted(false):
            kinds = sorted(acc.negative_kinds(truth, c)) or ["other"]
            print(f"  false  {split}/{truth.name} @{c}: {', '.join(kinds)}")
        for g in truth.cuts:
            if not any(abs(c - g) <= acc.CUT_TOL for c in cuts):
                near = sorted(acc.negative_kinds(truth, g, reach=6) - {"cadence"})
                print(f"  missed {split}/{truth.name} @{g}" + (f" (near {', '.join(near)})" if near else ""))
        for kind, a, b in truth.gradual:
            if not acc.gradual_found((kind, a, b), cuts, gradual):
                print(f"  missed {split}/{truth.name} {kind} {a}-{b}")


def _ablate(clips: list[tuple[str, acc.Truth, Replayed]],
            base: dict[tuple[str, str], tuple[list[int], list]]) -> None:
    print("\nwith each rule switched off (changes against the detector as it is):")
    for name, off in RULES.items():
        lost, saved, added, removed = [], [], [], []
        with off():
            for split, truth, inputs in clips:
                now_true, now_false = _outcomes(truth, _decide(inputs)[0])
                was_true, was_false = _outcomes(truth, base[(split, truth.name)][0])
                where = f"{split}/{truth.name.split()[0]}"
                lost += [f"{where}@{c}" for c in sorted(was_true - now_true)]
                saved += [f"{where}@{c}" for c in sorted(now_true - was_true)]
                added += [f"{where}@{c}" for c in sorted(now_false - was_false)]
                removed += [f"{where}@{c}" for c in sorted(was_false - now_false)]
        print(f"- {name}: off adds {len(added)} false cuts and finds {len(saved)} more true ones, "
              f"loses {len(lost)} true cuts and {len(removed)} false ones")
        for label, items in (("false cuts it prevents", added), ("true cuts it costs", saved),
                             ("true cuts it finds", lost), ("false cuts it makes", removed)):
            if items:
                print(f"    {label}: {', '.join(items)}")


if __name__ == "__main__":
    main()
