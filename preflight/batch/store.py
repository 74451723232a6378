"""The results file of a batch: one JSON line per finished item, appended and fsync'd.

Crash safety rests on three rules:

* a line is written with one ``write`` on an ``O_APPEND`` descriptor and ``fsync``'d before the
  next item is recorded, so after a crash at most the last line is incomplete;
* on opening, a last line without its newline (or that does not parse) is a torn write: the file
  is truncated back to the end of the previous line and that item runs again, so it is never
  recorded twice; a bad line anywhere else is an error (the file is not ours, or was edited);
* an exclusive ``flock`` on the file keeps two batches from appending to it at once (the lock
  dies with its process, so a killed batch leaves no stale lock).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..errors import InputError, OutputError

BATCH_SCHEMA = "preflight.batch/1"


class Status(str, Enum):
    """Outcome of one item: what the single-item command's exit code says."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"


@dataclass(frozen=True)
class ItemRecord:
    """One line of a results file.

    ``result`` is the item's ``--json`` document (``None`` on error), ``exit_code`` what the
    single-item command returns, ``error`` its one-line message, ``seconds`` the wall time of the
    item in its worker. ``signals`` (optional, not part of the single-item document) holds a few
    per-frame curves, downsampled, for the HTML report.
    """

    key: str
    status: Status
    exit_code: int
    result: dict[str, Any] | None
    error: str | None
    seconds: float
    signals: dict[str, list[float | None]] | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "schema": BATCH_SCHEMA,
            "key": self.key,
            "status": self.status.value,
            "exit_code": self.exit_code,
            "result": self.result,
            "error": self.error,
            "seconds": round(self.seconds, 3),
        }
        if self.signals is not None:
            d["signals"] = self.signals
        return d

    def to_line(self) -> bytes:
        """The record as one newline-terminated JSON line."""
        return (json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ItemRecord:
        """Inverse of :meth:`to_dict`; ``ValueError`` when ``d`` is not a batch record."""
        if not isinstance(d, Mapping) or d.get("schema") != BATCH_SCHEMA or not isinstance(d.get("key"), str):
            raise ValueError(f"not a {BATCH_SCHEMA} record")
        exit_code, seconds, signals = d.get("exit_code"), d.get("seconds", 0.0), d.get("signals")
        if (
            type(exit_code) is not int
            or not 0 <= exit_code <= 255
            or not _is_number(seconds)
            or not isinstance(d.get("result"), (dict, type(None)))
            or not isinstance(d.get("error"), (str, type(None)))
            or not (signals is None or _is_curves(signals))
        ):  # a value our writer never puts there: the file was edited or is not ours
            raise ValueError(f"not a {BATCH_SCHEMA} record")
        return cls(
            key=d["key"],
            status=Status(d["status"]),
            exit_code=exit_code,
            result=d.get("result"),
            error=d.get("error"),
            seconds=float(seconds),
            signals=signals,
        )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_curves(value: object) -> bool:
    """``{name: [number or null, ...]}``, the shape of :attr:`ItemRecord.signals`."""
    return isinstance(value, dict) and all(
        isinstance(v, list) and all(x is None or _is_number(x) for x in v) for v in value.values()
    )


def _parse_lines(data: bytes, path: str) -> tuple[list[ItemRecord], int]:
    """Records of ``data`` and the byte length of its intact part (a torn last line excluded)."""
    records: list[ItemRecord] = []
    end = 0
    lines = data.split(b"\n")
    complete, tail = lines[:-1], lines[-1]
    for number, raw in enumerate(complete, start=1):
        if not raw.strip():
            end += len(raw) + 1
            continue
        try:
            records.append(ItemRecord.from_dict(json.loads(raw)))
        except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
            if number == len(complete) and not tail:
                return records, end  # a last line that does not parse: torn as well
            raise InputError(
                path,
                f"line {number} is not a {BATCH_SCHEMA} record; remove it or give another --results file",
            ) from None
        end += len(raw) + 1
    return records, end


def read_records(path: str) -> list[ItemRecord]:
    """Every intact record of a results file, in file order (a torn last line is left out)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InputError(path, exc.strerror or str(exc)) from None
    return _parse_lines(data, path)[0]


class ResultsStore:
    """An open results file: the records already there, and :meth:`append` for new ones.

    Use as a context manager; opening truncates a torn last line and takes the lock.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd = -1
        self.statuses: dict[str, Status] = {}
        """Key -> status of every item recorded (documents are not kept: memory stays flat)."""
        self.truncated_bytes = 0

    def __enter__(self) -> ResultsStore:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise OutputError(f"{self.path}: cannot open the results file ({exc.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"{self.path}: another batch is writing this results file") from None
        self._fd = fd
        try:
            self._load()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> None:
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0) if size else b""
        records, end = _parse_lines(data, self.path)
        if end < len(data):
            os.ftruncate(self._fd, end)
            os.fsync(self._fd)
            self.truncated_bytes = len(data) - end
        for r in records:
            self.statuses.setdefault(r.key, r.status)

    def append(self, record: ItemRecord) -> None:
        """Write ``record`` as one line and ``fsync`` it; a key already recorded is an error."""
        if self._fd < 0:
            raise RuntimeError("results store is not open")
        if record.key in self.statuses:
            raise ValueError(f"{record.key}: already recorded in {self.path}")
        line = memoryview(record.to_line())
        while line:
            line = line[os.write(self._fd, line) :]
        os.fsync(self._fd)
        self.statuses[record.key] = record.status

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # releases the flock
            self._fd = -1
