"""Files goldenpath writes in its state directory: whole or not at all.

A cache file (the spec cache's index and models, the analysis of a base commit) is
written to a temporary file beside it, flushed to the disk (``fsync``), then renamed over
it: a reader sees the old file or the new one, never part of one, even when the disk
fills or the process is killed mid-write. A write that fails removes its temporary file
and raises the ``OSError``: the caller decides whether the file mattered (a cache does
not: the next run builds it again).

Readers do not rely on this alone: every cache file is checked when read (a MAC, a
digest, a length) and rebuilt when the check fails, since a file may have been cut
short by something other than goldenpath.

A write under the state directory that does matter and fails is :func:`state_error`: a
DiskFull (transient: the worker retries) when the disk is full, else a FileSystemError,
either naming the path and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from goldenpath.errors import DiskFull, FileSystemError

#: errno values that say the disk (or the process's share of it) is full
FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: what to do when a write met one of them
ROOM = ("free space (or raise the file size limit) where goldenpath writes: its state "
        "directory (GOLDENPATH_STATE_DIR) and TMPDIR")


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600), whole or not at all."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def fix_for(error: OSError, state_dir: Path) -> str:
    """What to do about ``error``, met writing under ``state_dir``."""
    if error.errno in FULL:
        return (f"free space (or raise the file size limit) where goldenpath writes: "
                f"{state_dir} and {tempfile.gettempdir()} (TMPDIR)")
    return (f"make {state_dir} writable by goldenpath's user, or set GOLDENPATH_STATE_DIR "
            "to a directory it can write")


def state_error(state_dir: Path, error: OSError) -> FileSystemError:
    """``error``, met writing under ``state_dir`` (or TMPDIR), as goldenpath's error:
    what failed, where, and what to do; DiskFull when the disk is full."""
    where = f" ({error.filename})" if error.filename else ""
    kind = DiskFull if error.errno in FULL else FileSystemError
    return kind(f"cannot use the state directory {state_dir}: {error.strerror or error}"
                f"{where}; {fix_for(error, state_dir)}")
