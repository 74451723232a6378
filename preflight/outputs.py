"""Writing outputs safely: temp file in the target directory, then an atomic rename.

A crash or an error never leaves a half-written file under the final name, and an input file
is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import OutputError, path_text_problem, preview


def check_output_path(
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Validate an output path before any work starts.

    Raises
    ------
    OutputError
        ``path`` is one of ``inputs`` (same file), exists without ``force``, is a directory,
        or its directory does not exist or is not writable.
    """
    problem = path_text_problem(os.fspath(path))
    if problem is not None:
        raise OutputError(f"{preview(os.fspath(path))}: not a usable output path: it {problem}")
    out = Path(path)
    for item in inputs:
        src = Path(item)
        if src.exists() and (out.resolve() == src.resolve() or (out.exists() and out.samefile(src))):
            raise OutputError(f"{out}: refusing to overwrite the input file")
    if out.is_dir():
        raise OutputError(f"{out}: is a directory; give a file name")
    if out.exists() and not force:
        raise OutputError(f"{out}: already exists (use --force to overwrite)")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{out}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: directory {parent} is not writable")
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary name keeps the extension (``suffix`` or ``path``'s) so muxers that pick a
    format from the name still work. On any exception the temporary file is removed.
    """
    final = Path(path)
    ext = suffix if suffix is not None else final.suffix
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".part{ext}", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp makes the file private (0600); an output should get the permissions any newly
        # created file would, i.e. follow the user's umask.
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
