"""Reading a service repository back (overlays, record) from git objects alone: what a
tenant pushed is data, bounded and validated, and a bad record is a reason, not a crash."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from goldenpath.errors import GitError
from goldenpath.scaffold import RECORD_PATH
from goldenpath.scaffold.readback import read_service_repo
from goldenpath.scaffold.record import MAX_RECORD_BYTES
from goldenpath.services import scaffold
from tests.scaffold.helpers import Workspace, clone

ENVS = ["dev", "staging", "prod"]


@pytest.fixture
def bare(workspace: Workspace) -> Path:
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    return Path(made.repository)


def _push(bare: Path, work: Path, change: Callable[[Path], object]) -> None:
    """What a tenant can do to its own repository: any commit on main."""
    repo = clone(str(bare), work)
    change(work)
    repo.git.add("--all")
    repo.git.commit("--quiet", "-m", "tenant change")
    repo.git.push("--quiet", "origin", "main")


def test_a_scaffolded_repository_reads_back_its_overlays_and_record(bare: Path) -> None:
    found = read_service_repo(bare, "HEAD", [*ENVS, "qa"])
    assert found.overlays == frozenset(ENVS)
    assert found.record is not None and found.record.inputs.service.name == "web"
    assert found.record_problem is None


def _symlink(work: Path) -> None:
    (work / RECORD_PATH).unlink()
    os.symlink("/etc/passwd", work / RECORD_PATH)


def _oversized(work: Path) -> None:
    (work / RECORD_PATH).write_text(" " * MAX_RECORD_BYTES + "{}")


def _forged(work: Path) -> None:
    data = json.loads((work / RECORD_PATH).read_text())
    data["inputs"]["service"]["slo"] = {"latencyP99Ms": "{{ 7 * 7 }}"}
    (work / RECORD_PATH).write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "problem"), [
    (lambda work: (work / RECORD_PATH).unlink(), f"{RECORD_PATH} is missing"),
    (_symlink, f"{RECORD_PATH} is not a regular file"),
    (_oversized, f"{RECORD_PATH} is larger than {MAX_RECORD_BYTES} bytes"),
    (lambda work: (work / RECORD_PATH).write_bytes(b"\xff{"),
     f"{RECORD_PATH} is not UTF-8 JSON: invalid UTF-8"),
    (_forged, f"{RECORD_PATH} is invalid: inputs.service.slo.latencyP99Ms: Input should be a "
              "valid integer"),
])
def test_a_hostile_record_is_a_reason_never_read_further(
        bare: Path, tmp_path: Path, change: Callable[[Path], object], problem: str) -> None:
    _push(bare, tmp_path / "work", change)
    found = read_service_repo(bare, "HEAD", ENVS)
    assert (found.record, found.record_problem) == (None, problem)
    assert found.overlays == frozenset(ENVS)


def test_an_overlay_that_is_a_file_is_no_overlay(bare: Path, tmp_path: Path) -> None:
    def flatten(work: Path) -> None:
        overlay = work / "deploy/overlays/prod"
        for child in overlay.iterdir():
            child.unlink()
        overlay.rmdir()
        overlay.write_text("not a directory\n")
    _push(bare, tmp_path / "work", flatten)
    assert read_service_repo(bare, "HEAD", ENVS).overlays == frozenset({"dev", "staging"})


def test_a_url_is_fetched_into_a_temporary_repository_and_read(
        bare: Path, tmp_path: Path) -> None:
    found = read_service_repo(str(bare), "HEAD", ENVS)
    assert found.overlays == frozenset(ENVS) and found.record is not None
    with pytest.raises(GitError) as info:
        read_service_repo(str(tmp_path / "missing.git"), "HEAD", ENVS)
    assert str(info.value) == (f"cannot fetch the service repository: '{tmp_path}/missing.git' "
                               "does not appear to be a git repository; Could not read from "
                               "remote repository.")
