"""State files are written whole or not at all; a full disk is named as such.

The failing writes are real: a child process under ``RLIMIT_FSIZE`` (EFBIG past it)."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from goldenpath import gitmsg
from goldenpath.errors import DiskFull, FileSystemError
from goldenpath.statefile import ROOM, state_error, write_atomic

_WRITE = """
import sys
import tempfile
from pathlib import Path
from goldenpath.statefile import write_atomic
try:
    write_atomic(Path(sys.argv[1]), b"new" * 1000)
except OSError as error:
    print(error.errno)
"""


def _write_limited(path: Path, limit: int) -> str:
    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-c", _WRITE, str(path)], env=env, text=True,
                           capture_output=True, check=True, preexec_fn=limited,
                           timeout=60).stdout.strip()


def test_a_write_cut_short_leaves_the_old_file_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "index"
    path.write_bytes(b"old")
    assert _write_limited(path, 100) == str(errno.EFBIG)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


def test_a_write_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "index"
    path.write_bytes(b"old")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EFBIG])
def test_a_full_disk_is_disk_full(tmp_path: Path, code: int) -> None:
    error = state_error(tmp_path, OSError(code, os.strerror(code)))
    assert isinstance(error, DiskFull)
    assert str(error) == (f"cannot use the state directory {tmp_path}: {os.strerror(code)}; "
                          "free space (or raise the file size limit) where goldenpath "
                          f"writes: {tmp_path} and {tempfile.gettempdir()} (TMPDIR)")


def test_an_unwritable_directory_is_a_file_system_error(tmp_path: Path) -> None:
    error = state_error(tmp_path, PermissionError(errno.EACCES, "Permission denied",
                                                  str(tmp_path / "x")))
    assert type(error) is FileSystemError
    assert str(error) == (f"cannot use the state directory {tmp_path}: Permission denied "
                          f"({tmp_path / 'x'}); make {tmp_path} writable by goldenpath's "
                          "user, or set GOLDENPATH_STATE_DIR to a directory it can write")


def test_git_killed_by_a_signal_says_which_and_why() -> None:
    assert gitmsg.explanation("", -signal.SIGXFSZ) == (
        "git was killed by SIGXFSZ: a file it wrote outgrew the file size limit (the disk "
        f"is full); {ROOM}")
    assert gitmsg.explanation("", -signal.SIGKILL) == "git was killed by SIGKILL"
    assert gitmsg.explanation("", 128) == "git exited with status 128"
    assert gitmsg.disk_full("", -signal.SIGXFSZ)
    assert gitmsg.disk_full("fatal: sha1 file '.git/objects/x' write error: No space left "
                            "on device", 128)
    assert not gitmsg.disk_full("fatal: Authentication failed", 128)
