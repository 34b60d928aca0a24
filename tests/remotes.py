"""A bare control repository that counts the pushes it accepts, shared by the batching
tests and ``benchmarks/bench_api_batch.py``: "pushed together" is measured at the remote
(a ``post-receive`` hook appends one line per accepted push), not assumed."""

from __future__ import annotations

import subprocess
from pathlib import Path


def counted_remote(path: Path) -> Path:
    """A bare repository (branch ``main``) whose post-receive hook logs every push."""
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(path)], check=True)
    hook = path / "hooks" / "post-receive"
    hook.write_text('#!/bin/sh\ncat >> "$GIT_DIR/pushes.log"\n')
    hook.chmod(0o755)
    return path


def pushes(remote: Path) -> int:
    """How many pushes ``remote`` accepted."""
    log = remote / "pushes.log"
    return len(log.read_text().splitlines()) if log.is_file() else 0
