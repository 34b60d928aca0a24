"""The Makefile's promises, with real make: `make run` installs what running needs (not
the dev tools or Pulumi), `make test` adds them, and `make clean` never deletes the
embedded repositories, the only copy of a scaffolded service's history."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _make(project: Path, *args: str) -> str:
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=project, check=True,
                          capture_output=True, text=True)
    return done.stdout


def _installs(dry_run: str) -> list[str]:
    return [line for line in dry_run.splitlines() if "pip install" in line
            and "--upgrade pip" not in line]


def test_make_run_installs_goldenpath_without_extras(project: Path) -> None:
    assert _installs(_make(project, "-n", "run")) == [".venv/bin/pip install --quiet -e ."]


def test_make_test_installs_the_dev_and_pulumi_extras(project: Path) -> None:
    assert _installs(_make(project, "-n", "test")) == [
        ".venv/bin/pip install --quiet -e '.[dev,pulumi]'"]


def test_make_clean_keeps_the_embedded_repositories(project: Path) -> None:
    keep = [".goldenpath/repos/payments/ledger.git/HEAD", ".goldenpath/gitops.git/HEAD",
            "platform/platform.yaml"]
    gone = [".venv/bin/python", "out/README.md", ".goldenpath/cache/0123.git/HEAD",
            ".pytest_cache/x", ".mypy_cache/x", ".ruff_cache/x"]
    for path in keep + gone:
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text("x")
    _make(project, "clean")
    assert [p for p in keep if (project / p).is_file()] == keep
    assert [p for p in gone if (project / p).exists()] == []
