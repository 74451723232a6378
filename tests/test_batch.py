"""Batch mode of ``preflight check`` and ``qa score --pairs``: results lines, statuses, resume, Dask."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fixtures import bad
from fixtures import qa as FQ
from fixtures.synth import MEDIA, cached_clip, real_frames, real_still, write_clip
from preflight.batch.inputs import expand_inputs, looks_like_video
from preflight.batch.runner import DEFAULT_JOBS_CAP
from preflight.batch.store import BATCH_SCHEMA, ItemRecord, ResultsStore, Status, read_records
from preflight.cli.main import cli as preflight_cli
from preflight.errors import InputError, OutputError
from qa.cli import cli as qa_cli

BIN = Path(sys.executable).parent
FIELDS = ["schema", "key", "status", "exit_code", "result", "error", "seconds"]


def compliant_clip() -> Path:
    """640x480 30 fps, 2 s pan over a real still: passes aleph-2."""

    def build(path: Path) -> None:
        still = real_still((640 + 60, 480))
        write_clip(path, (still[:, i : i + 640] for i in range(60)), fps=30)

    return cached_clip("batch_compliant", {"v": 1}, build)


def cut_clip() -> Path:
    """320x240 25 fps: 20 frames of Bikes then 20 of Foreman (one hard cut at frame 20)."""

    def build(path: Path) -> None:
        import cv2

        a = [cv2.resize(f, (320, 240)) for f in list(real_frames("skv_bikes.mp4"))[:20]]
        b = [cv2.resize(f, (320, 240)) for f in list(real_frames("foreman_cif_handheld.mp4"))[:20]]
        write_clip(path, a + b, fps=25)

    return cached_clip("batch_cut", {"v": 1}, build)


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    """Good clips, a clip without extension, a zero-byte file, a text file named .mp4, a truncated
    clip and a text file that is not an item."""
    d = tmp_path_factory.mktemp("clips")
    scratch = tmp_path_factory.mktemp("scratch")
    shutil.copy(compliant_clip(), d / "good.mp4")
    shutil.copy(cut_clip(), d / "cut.mp4")
    sub = d / "sub"
    sub.mkdir()
    shutil.copy(MEDIA / "skv_carphone_distorted.mp4", sub / "small_noext")
    bad.zero_byte(d)
    bad.text_as_mp4(d)
    shutil.move(bad.truncated_half(scratch), d / "truncated.mp4")
    (d / "readme.txt").write_text("not a video\n")
    return d


EXPECTED = {
    "good.mp4": "passed",
    "cut.mp4": "failed",
    "sub/small_noext": "failed",
    "empty.mp4": "error",
    "notes.mp4": "error",
    "truncated.mp4": "error",
}


def _single(cli, args: list[str]) -> tuple[int, dict | None, str]:
    res = CliRunner().invoke(cli, args)
    return res.exit_code, (json.loads(res.stdout) if res.stdout.strip() else None), res.stderr.strip()


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_inputs_found_by_content(clip_dir):
    found = expand_inputs([str(clip_dir)])
    rel = sorted(os.path.relpath(p, clip_dir) for p in found)
    assert rel == sorted(EXPECTED)  # readme.txt left out, extensionless MP4 found by its ftyp box
    assert looks_like_video((MEDIA / "vmaf_src01_ref_160x90.y4m").read_bytes()[:64])
    assert not looks_like_video(b"hello world, this is text")


def test_globs_expand_to_the_files_they_match(clip_dir):
    top = expand_inputs([str(clip_dir / "*.mp4")])
    names = ["cut.mp4", "empty.mp4", "good.mp4", "notes.mp4", "truncated.mp4"]
    assert [os.path.basename(p) for p in top] == names
    deep = expand_inputs([str(clip_dir / "**" / "small_*")])  # ** recurses
    assert [os.path.relpath(p, clip_dir) for p in deep] == ["sub/small_noext"]
    both = expand_inputs([str(clip_dir / "good.mp4"), str(clip_dir / "*.mp4")])
    assert both[0].endswith("good.mp4") and len(both) == len(top)  # no item twice


def test_directory_batch_records_every_item_like_single_runs(clip_dir, tmp_path):
    results = tmp_path / "r.jsonl"
    res = CliRunner().invoke(preflight_cli, ["check", str(clip_dir), "--results", str(results), "-q"])
    assert res.exit_code == 3, res.output  # an unreadable item wins over failed ones
    lines = _lines(results)
    assert len(lines) == len(EXPECTED)
    by_key = {os.path.relpath(d["key"], clip_dir): d for d in lines}
    assert {k: d["status"] for k, d in by_key.items()} == EXPECTED
    for d in lines:
        assert list(d)[: len(FIELDS)] == FIELDS and d["schema"] == BATCH_SCHEMA
        code, doc, err = _single(preflight_cli, ["check", d["key"], "--json", "-q"])
        assert d["exit_code"] == code and d["result"] == doc
        if d["status"] == "error":
            assert err == f"preflight: error: {d['error']}" and d["result"] is None
    # the cut clip carries its plot signals (not part of the single-item document)
    cut = by_key["cut.mp4"]
    assert cut["result"]["cut_count"] == 1 and max(cut["signals"]["cut_score"]) > 0.5
    assert "6 items: 1 passed, 2 failed, 3 errors" in res.stdout


def test_batch_without_results_streams_lines_and_resume_skips(clip_dir, tmp_path):
    good = clip_dir / "good.mp4"
    res = CliRunner().invoke(preflight_cli, ["check", str(good), str(clip_dir / "cut.mp4"), "-q"])
    assert res.exit_code == 1
    assert [json.loads(x)["status"] for x in res.stdout.splitlines()] == ["passed", "failed"] or sorted(
        json.loads(x)["status"] for x in res.stdout.splitlines()
    ) == ["failed", "passed"]
    results = tmp_path / "r.jsonl"
    for _ in range(2):
        res = CliRunner().invoke(preflight_cli, ["check", str(good), "--results", str(results), "-q"])
        assert res.exit_code == 0
    assert len(_lines(results)) == 1 and "already in" in res.stdout


def test_store_truncates_a_torn_last_line_and_refuses_a_bad_middle_line(tmp_path):
    path = tmp_path / "r.jsonl"
    rec = ItemRecord(key="a", status=Status.PASSED, exit_code=0, result={"x": 1}, error=None, seconds=0.5)
    with ResultsStore(path) as store:
        store.append(rec)
    whole = path.read_bytes()
    torn = ItemRecord(key="b", status=Status.FAILED, exit_code=1, result={}, error=None, seconds=1).to_line()
    path.write_bytes(whole + torn[: len(torn) // 2])
    with ResultsStore(path) as store:
        assert store.statuses == {"a": Status.PASSED} and store.truncated_bytes == len(torn) // 2
        with pytest.raises(OutputError, match="another batch"):  # a second writer is locked out
            ResultsStore(path).__enter__()
    assert path.read_bytes() == whole
    path.write_bytes(b"garbage\n" + whole)
    with pytest.raises(InputError, match="line 1"):
        read_records(str(path))


def _kill_and_resume_dir(tmp_path: Path, n: int) -> Path:
    d = tmp_path / "many"
    d.mkdir()
    for i in range(n):
        shutil.copy(MEDIA / "skv_carphone_distorted.mp4", d / f"clip{i:02d}.mp4")
    return d


def test_sigkill_at_random_moments_then_resume_records_each_item_once(tmp_path):
    n = 20
    d = _kill_and_resume_dir(tmp_path, n)
    results = tmp_path / "r.jsonl"
    cmd = [str(BIN / "preflight"), "check", str(d), "--results", str(results), "--jobs", "2", "-q"]
    rng = random.Random(7)

    def lines() -> int:
        return results.read_bytes().count(b"\n") if results.exists() else 0

    kills = 0
    gap = 0.4  # the shortest time between two recorded lines seen so far (this machine's item pace)
    # Each run is killed once it has recorded `target` items, at a random moment within about one
    # item's time after that (between items, inside one, or while a line is being written). At
    # least 11 items are left at every kill, so it lands mid-batch whatever the machine's speed.
    for target in (0, 1, 3, 5, 7, 9):
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 120
        seen, last = lines(), None
        while lines() < target and proc.poll() is None and time.monotonic() < deadline:
            now, count = time.monotonic(), lines()
            if count > seen:
                if last is not None:
                    gap = min(gap, (now - last) / (count - seen))
                seen, last = count, now
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 2 * gap))
        if proc.poll() is not None:
            break
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, as a crash or OOM kill would
        proc.wait()
        kills += 1
    assert kills == 6, f"a run finished before its kill ({kills} kills)"
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 1, res.stderr  # every clip fails aleph-2 (144 px)
    data = results.read_bytes()
    assert data.endswith(b"\n")
    keys = [json.loads(line)["key"] for line in data.decode().splitlines()]
    assert sorted(keys) == sorted(str(p) for p in d.iterdir()) and len(set(keys)) == len(keys)


def test_same_batch_through_a_dask_localcluster(clip_dir, tmp_path):
    distributed = pytest.importorskip("distributed")
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    inputs = [str(clip_dir / "good.mp4"), str(clip_dir / "cut.mp4"), str(clip_dir / "notes.mp4")]
    res = CliRunner().invoke(preflight_cli, ["check", *inputs, "--results", str(local), "-q"])
    assert res.exit_code == 3, res.output
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        res = CliRunner().invoke(
            preflight_cli,
            ["check", *inputs, "--results", str(remote), "-q", "--scheduler", cluster.scheduler_address],
        )
        assert res.exit_code == 3, res.output

    def strip(lines: list[dict]) -> dict[str, dict]:
        return {d["key"]: {k: v for k, v in d.items() if k != "seconds"} for d in lines}

    assert strip(_lines(remote)) == strip(_lines(local))


def test_qa_pairs_batch_equals_single_pair_runs(tmp_path):
    pair = FQ.box_pair(frames=24)
    x, y, w, h = pair.boxes[0]
    pairs = tmp_path / "pairs.csv"
    src = os.path.relpath(pair.source, tmp_path)  # relative to the CSV's folder
    import cv2

    mask = np.zeros((288, 352), np.uint8)
    mask[y : y + h, x : x + w] = 255
    cv2.imwrite(str(tmp_path / "box_mask.png"), mask)
    pairs.write_text(
        f'source,edited,box,mask\n{src},{pair.edited},"{x},{y},{w},{h}",\n'
        f"{pair.source},{pair.edited},,\nmissing.mp4,{pair.edited},,\n{src},{pair.edited},,box_mask.png\n"
    )
    results = tmp_path / "q.jsonl"
    res = CliRunner().invoke(
        qa_cli, ["score", "--pairs", str(pairs), "--results", str(results), "--min-mean", "0.97", "-q"]
    )
    assert res.exit_code == 3, res.output
    lines = _lines(results)
    assert sorted(d["status"] for d in lines) == ["error", "failed", "passed", "passed"]
    assert f"{pair.source}|{pair.edited}|{tmp_path / 'box_mask.png'}" in {d["key"] for d in lines}
    for d in lines:
        source, edited, region = d["key"].split("|")
        args = ["score", source, edited, "--min-mean", "0.97", "--json", "-q"]
        if region:
            args += ["--mask", region] if region.endswith(".png") else ["--box", region]
        code, doc, err = _single(qa_cli, args)
        assert (d["exit_code"], d["result"]) == (code, doc)
        if doc is not None:
            assert len(d["signals"]["ssim_outside"]) == 24
        else:
            assert err == f"qa: error: {d['error']}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source\na.mp4\n", "line 1: header"),
        ("source,edited,color\na,b,c\n", "line 1: header"),
        ("source,edited\na.mp4\n", "line 2: 1 fields"),
        ('source,edited,mask,box\na,b,m.png,"1,2,3,4"\n', "line 2: give a mask or a box"),
        ('source,edited,box\na,b,"1,2"\n', "line 2: --box"),
        ("source,edited\na,b\na,b\n", "line 3: same pair as line 2"),
    ],
)
def test_pairs_file_errors_are_one_line_usage_errors(tmp_path, text, message):
    pairs = tmp_path / "p.csv"
    pairs.write_text(text)
    res = CliRunner().invoke(qa_cli, ["score", "--pairs", str(pairs)])
    assert res.exit_code == 2 and message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def _die_on_crash(key: str) -> ItemRecord:
    if key == "crash":
        os._exit(9)  # a worker killed mid-item (decoder segfault, OOM killer)
    return ItemRecord(key=key, status=Status.PASSED, exit_code=0, result={"k": key}, error=None, seconds=0.0)


def test_a_worker_that_dies_is_replaced_and_only_its_item_is_an_error():
    from preflight.batch.runner import local_executor, run_items
    from preflight.cli.batch import item_outcome

    records: list[ItemRecord] = []
    keys = ["a", "b", "crash", "c", "d", "e"]
    run_items(keys, _die_on_crash, executor=local_executor(2), window=4, key_of=str, outcome=item_outcome,
              on_record=records.append, renew=lambda: local_executor(2))
    status = {r.key: r.status for r in records}
    assert sorted(status) == sorted(keys)  # every item exactly once
    assert status.pop("crash") is Status.ERROR and set(status.values()) == {Status.PASSED}
    crash = next(r for r in records if r.key == "crash")
    assert "the worker process died" in crash.error and crash.exit_code == 3


def test_a_directory_is_a_batch_and_single_item_options_are_refused(clip_dir, tmp_path):
    # `check DIR` was an "is a directory" error (exit 3); it now runs the batch (issue 10).
    res = CliRunner().invoke(preflight_cli, ["check", str(clip_dir), "--csv", str(tmp_path / "s.csv")])
    assert res.exit_code == 2 and "take one input" in res.stderr
    assert not (tmp_path / "s.csv").exists()
    res = CliRunner().invoke(preflight_cli, ["check", str(tmp_path / "none" / "*.mp4")])
    assert res.exit_code == 2 and "matches no file" in res.stderr
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    res = CliRunner().invoke(preflight_cli, ["check", str(empty), "--results", str(tmp_path / "r.jsonl")])
    assert res.exit_code == 2 and "no video files" in res.stderr


def _on_a_tty(args: list[str]) -> str:
    """What ``args`` writes to its stderr when that is a 120-column terminal (stdout discarded)."""
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    out = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        out += chunk
    os.close(primary)
    proc.wait(timeout=300)
    return out.decode(errors="replace")


def test_progress_bar_shows_items_done_of_total_and_eta_on_a_tty(clip_dir, tmp_path):
    items = [str(clip_dir / n) for n in ("good.mp4", "cut.mp4", "notes.mp4")]
    shown = _on_a_tty([str(BIN / "preflight"), "check", *items, "--results", str(tmp_path / "r.jsonl")])
    assert "0/3 [" in shown, shown  # total known from the start
    assert re.search(r"[12]/3 \[\d\d:\d\d<\d\d:\d\d", shown), shown  # elapsed<ETA once an item is done
    assert "3 items: 1 passed, 1 failed, 1 errors" not in shown  # the summary goes to stdout
    quiet = _on_a_tty([str(BIN / "preflight"), "check", *items, "--results", str(tmp_path / "q.jsonl"), "-q"])
    assert "/3" not in quiet


def test_default_jobs_is_the_usable_cores_capped_and_used_when_jobs_is_not_given(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    from preflight.batch import runner
    from preflight.cli.batch import item_outcome

    for cores, want in ((1, 1), (2, 2), (16, runner.DEFAULT_JOBS_CAP)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert runner.default_jobs() == want
    asked: list[int] = []

    def executor(jobs: int) -> ThreadPoolExecutor:
        asked.append(jobs)
        return ThreadPoolExecutor(jobs)

    monkeypatch.setattr(runner, "local_executor", executor)
    summary = runner.run_batch(["a", "b", "c"], _die_on_crash, key_of=str, outcome=item_outcome)
    assert asked == [runner.DEFAULT_JOBS_CAP] and summary.counts == {Status.PASSED: 3}


def test_batch_exit_code_precedence_is_in_both_commands_help():
    for cli, args in ((preflight_cli, ["check", "--help"]), (qa_cli, ["score", "--help"])):
        text = " ".join(CliRunner().invoke(cli, args).output.split())
        assert "Batch exit code: 3 if any item was unreadable, else 1 if any failed, else 0" in text, text
        assert f"default: the usable cores, at most {DEFAULT_JOBS_CAP}" in text, text


@pytest.mark.parametrize("address", ["x", "tcp://", "ftp://host:1", "tcp://[::1", "inproc://x", "host:0",
                                     "tcp://host:99999", "tcp://host:1/path", "a b:1", "x" * 5000])
def test_a_malformed_scheduler_address_is_a_usage_error(clip_dir, tmp_path, address):
    """Refused before any connection, as bad input (exit 2) in one short line: Dask's own
    ValueError for these escaped as an internal error (exit 4)."""
    results = tmp_path / "r.jsonl"
    argv = ["check", str(clip_dir / "good.mp4"), "-q", "--scheduler", address, "--results", str(results)]
    res = CliRunner().invoke(preflight_cli, argv)
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert "\n" not in line and len(line) <= 300 and "tcp://host:8786" in line, line
    assert not results.exists()


def test_scheduler_addresses_dask_takes_are_accepted():
    from preflight.batch.runner import scheduler_address

    for address in ("tcp://127.0.0.1:8786", "127.0.0.1:8786", "tls://sched.example:8786",
                    " tcp://[::1]:8786 ", "ws://h:1"):
        assert scheduler_address(address) == address.strip()


_RECORD = ItemRecord("a.mp4", Status.ERROR, 3, None, "a.mp4: no such file", 0.0).to_dict()


@pytest.mark.parametrize(
    "line",
    [
        json.dumps(dict(_RECORD, exit_code=1e400)).replace("Infinity", "1e400"),  # int(inf): OverflowError
        json.dumps(dict(_RECORD, result=[1])),  # report: AttributeError
        json.dumps(dict(_RECORD, error=5)),  # report: AttributeError
        json.dumps(dict(_RECORD, exit_code=True)),
        json.dumps(dict(_RECORD, seconds="NaN")),
        json.dumps(dict(_RECORD, signals={"dx": ["x"]})),
        "[" * 100_000 + "]" * 100_000,  # RecursionError
    ],
    ids=["inf-exit-code", "list-result", "int-error", "bool-exit-code", "text-seconds", "text-signal",
         "deep"],
)
def test_a_results_line_our_writer_never_makes_is_an_input_error(tmp_path, line):
    """``preflight report`` and resuming read results files a user may have edited: a line with
    values of the wrong type is refused on one line (exit 3), not an internal error (exit 4)."""
    results = tmp_path / "r.jsonl"
    results.write_text(line + "\n" + json.dumps(_RECORD) + "\n")
    with pytest.raises(InputError, match=r"line 1 is not a preflight\.batch/1 record"):
        read_records(str(results))
    res = CliRunner().invoke(preflight_cli, ["report", str(results), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 3 and len(res.stderr.strip().splitlines()) == 1, res.output[-300:]
    assert not (tmp_path / "r.html").exists()
