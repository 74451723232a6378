"""Writing outputs safely: temp file in the target directory, then an atomic rename.

A crash or an error never leaves a half-written file under the final name, and an input file
is never overwritten.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from ..errors import OutputError, path_text_problem, preview, shown_path


def same_file(out: str | os.PathLike[str], src: str | os.PathLike[str]) -> bool:
    """``out`` names ``src``: the same resolved path, or the same inode (a hard link)."""
    out, src = Path(out), Path(src)
    if out.resolve() == src.resolve():
        return True
    with contextlib.suppress(OSError):
        return out.exists() and src.exists() and out.samefile(src)
    return False


def refuse_inputs(
    out: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None],
    *,
    input_dirs: Iterable[str | os.PathLike[str] | None] = (),
) -> None:
    """Refuse an output that is one of ``inputs``, or is or lies inside one of ``input_dirs``
    (folders read as input, e.g. ``qa --mask-dir``).

    Paths are compared resolved (symlinks followed) and by inode (hard links), so no spelling of
    an input can turn it into an output. ``None`` entries (options not given) are skipped.

    Raises
    ------
    OutputError
        ``out`` is an input, an input folder, or inside an input folder.
    """
    o = Path(out)
    for item in inputs:
        if item is not None and str(item) != "" and same_file(o, item):
            raise OutputError(f"{shown_path(o)}: refusing to overwrite the input {shown_path(item)}")
    for item in input_dirs:
        if item is not None and str(item) != "" and o.resolve().is_relative_to(Path(item).resolve()):
            folder = shown_path(item)
            raise OutputError(f"{shown_path(o)}: refusing to write inside the input folder {folder}")


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    input_dirs: Sequence[str | os.PathLike[str] | None] = (),
    force: bool = False,
) -> Path:
    """Validate an output path before any work starts.

    ``force`` allows replacing an existing file, never an input nor a file in ``input_dirs``
    (see :func:`refuse_inputs`).

    Raises
    ------
    OutputError
        ``path`` is one of ``inputs`` or inside an input folder, exists without ``force``, is a
        directory, or its directory does not exist or is not writable.
    """
    problem = path_text_problem(os.fspath(path))
    if problem is not None:
        raise OutputError(f"{preview(os.fspath(path))}: not a usable output path: it {problem}")
    out = Path(path)
    refuse_inputs(out, inputs, input_dirs=input_dirs)
    shown = shown_path(out)
    if out.is_dir():
        raise OutputError(f"{shown}: is a directory; give a file name")
    if out.exists() and not force:
        raise OutputError(f"{shown}: already exists (use --force to overwrite)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{shown}: directory {shown_path(parent)} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{shown}: directory {shown_path(parent)} is not writable")
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary name keeps the extension (``suffix`` or ``path``'s) so muxers that pick a
    format from the name still work. On any exception the temporary file is removed.
    """
    final = Path(path)
    ext = suffix if suffix is not None else final.suffix
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".part{ext}", dir=final.parent)
    except OSError as exc:
        reraise_as_storage_error(final, exc)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); an output should get the permissions any newly
        # created file would, i.e. follow the user's umask.
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        reraise_as_storage_error(final, exc)


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})
"""Write failures that say the disk (full, over quota, read-only, file too large), not a bug."""


def reraise_as_storage_error(path: str | os.PathLike[str], exc: BaseException) -> NoReturn:
    """Raise ``exc`` again, or in its place the :class:`OutputError` of :func:`storage_error`."""
    storage = storage_error(path, exc)
    if storage is not None:
        raise storage from None
    raise exc


def storage_error(path: str | os.PathLike[str], exc: BaseException) -> OutputError | None:
    """An :class:`OutputError` for a write the storage refused (exit 2, not an internal error),
    or ``None`` when ``exc`` is something else."""
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        reason = os.strerror(exc.errno)
        return OutputError(f"{shown_path(path)}: cannot write it: {reason}")
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def file_digest(path: str | os.PathLike[str]) -> tuple[int, str]:
    """``(size in bytes, sha256 hex)`` of a file: how a later run recognises a file it wrote."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def is_unchanged(path: str | os.PathLike[str], *, size: object, sha256: object) -> bool:
    """``path`` is a regular file of exactly ``size`` bytes hashing to ``sha256`` (no symlink)."""
    p = Path(path)
    if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha256, str):
        return False
    try:
        if p.is_symlink() or not p.is_file() or p.stat().st_size != size:
            return False
        return file_digest(p) == (size, sha256)
    except OSError:
        return False


# --------------------------------------------------------------------------- one writer per folder

LOCK_NAME = ".preflight.lock"

# mkstemp's random part: 8 characters of this set (tempfile._RandomNameSequence).
_RANDOM = "[a-z0-9_]{8}"


@contextlib.contextmanager
def output_lock(directory: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``directory/.preflight.lock`` for the block.

    The kernel drops the lock when its holder dies (even by SIGKILL), so a lock file left by a
    killed run never blocks the next one; the file itself is removed on exit.

    Raises
    ------
    OutputError
        Another process holds the lock (another run is writing to ``directory``).
    """
    path = Path(directory) / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                why = "another run is writing to this folder (try again when it ends)"
                raise OutputError(f"{directory}: {why}") from None
            raise
        # The previous holder may have unlinked the file between our open and flock: retry then.
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_ino == os.stat(path, follow_symlinks=False).st_ino:
                break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


def temp_name_pattern(stem: str, *, regex: bool = False) -> re.Pattern[str]:
    """The names :func:`atomic_path` and :func:`make_temp` give temporaries of ``stem``.

    ``stem`` is a literal file stem, or a regular expression when ``regex``.
    """
    s = stem if regex else re.escape(stem)
    return re.compile(rf"\.(?:{s})\.{_RANDOM}\.(?:part(?:\.[A-Za-z0-9]+)?|intermediate\.[A-Za-z0-9]+)")


def make_temp(directory: str | os.PathLike[str], stem: str, *, suffix: str) -> Path:
    """Create an empty hidden temporary ``.<stem>.<random><suffix>`` in ``directory``."""
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=directory)
    os.close(fd)
    return Path(name)


def remove_stale_temporaries(directory: str | os.PathLike[str], pattern: re.Pattern[str]) -> list[str]:
    """Remove files in ``directory`` whose whole name matches ``pattern``; returns their names.

    Call it only while holding :func:`output_lock` on ``directory``: then no live run owns them,
    they are what a killed run left.
    """
    removed = []
    for entry in sorted(Path(directory).iterdir()):
        if pattern.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            with contextlib.suppress(OSError):
                entry.unlink()
                removed.append(entry.name)
    return removed


# --------------------------------------------------------------------------- failure clean-up


class FolderRollback:
    """Create ``directory`` if missing and remember what it holds; :meth:`rollback` removes the
    files matching ``pattern`` (glob) that appeared since, and the directory if this object
    created it (when then empty). For outputs that are many files in one folder."""

    def __init__(self, directory: str | os.PathLike[str], *, pattern: str) -> None:
        self.directory = Path(directory)
        self.pattern = pattern
        self.created = not self.directory.exists()
        self.directory.mkdir(exist_ok=True)
        self._before = set(self.directory.glob(pattern))

    def rollback(self) -> None:
        """Undo: remove what appeared (best effort, never raises)."""
        for p in set(self.directory.glob(self.pattern)) - self._before:
            with contextlib.suppress(OSError):
                p.unlink()
        if self.created:
            with contextlib.suppress(OSError):
                self.directory.rmdir()


class Terminated(SystemExit):
    """Raised by the SIGTERM handler of :func:`sigterm_as_exit`: exit status 143 (128 + 15)."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Terminated` in the main thread, so every ``finally``
    and ``except BaseException`` clean-up runs as on Ctrl-C (for console scripts' ``main``)."""
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
