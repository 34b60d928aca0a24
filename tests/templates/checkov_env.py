"""Where checkov comes from. checkov pins ``packaging<24`` while pytest and pulumi need
newer, so it cannot live in the project's virtualenv; it gets its own at
``.venv/checkov`` (removed by ``make clean`` with the rest), made on first use under a
file lock so parallel test workers build it once. ``GOLDENPATH_CHECKOV`` overrides."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import ROOT

CHECKOV_REQUIREMENT = "checkov>=3.2,<4"
VENV = ROOT / ".venv" / "checkov"


def checkov_executable() -> Path:
    override = os.environ.get("GOLDENPATH_CHECKOV")
    if override:
        return Path(override)
    binary = VENV / "bin" / "checkov"
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with (VENV.parent / ".checkov.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet",
                            CHECKOV_REQUIREMENT], check=True, timeout=900)
    return binary
