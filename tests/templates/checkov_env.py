"""Where checkov comes from. checkov pins ``packaging<24`` while pytest and pulumi need
newer, so it cannot live in the project's virtualenv; it gets its own at
``.venv/checkov`` (removed by ``make clean`` with the rest), made on first use under a
file lock so parallel test workers build it once. ``GOLDENPATH_CHECKOV`` overrides."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

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


def failed_checks(directory: Path) -> list[dict[str, Any]]:
    """checkov's Kubernetes checks over every manifest in ``directory``: the failed ones."""
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(
        [str(checkov_executable()), "--directory", str(directory), "--framework", "kubernetes",
         "--output", "json", "--quiet", "--skip-download"],
        capture_output=True, text=True, env=env, timeout=600, check=False)
    # Exit 1 means "some check failed"; anything else is checkov itself failing.
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [check for r in reports for check in r["results"]["failed_checks"]]


def skips(path: Path) -> dict[str, str]:
    """A skip file's check ids and the reason each is skipped."""
    entries = yaml.safe_load(path.read_text())["skips"]
    return {entry["id"]: entry.get("reason", "") for entry in entries}
