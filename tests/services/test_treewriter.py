"""Writing a tree with worker processes (goldenpath.services.treewriter): the same bytes as
one process, the same refusals, and nothing written when a worker fails."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import Conflict
from goldenpath.gitops.layout import TreePlan
from goldenpath.services import platform as service
from goldenpath.services import treewriter
from tests.factories import EXAMPLE_PLATFORM


@pytest.fixture(scope="module")
def checked() -> service.Checked:
    return service.load_and_check(EXAMPLE_PLATFORM)


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file()}


def _record_pids(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Every process that writes units appends its pid to ``log`` (forked workers
    inherit the patch)."""
    write = treewriter._write_units

    def recorded(*args: Any) -> Any:
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return write(*args)

    monkeypatch.setattr(treewriter, "_write_units", recorded)


def test_workers_write_the_same_bytes_as_one_process(
    checked: service.Checked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = service.write_tree(checked, tmp_path / "one", workers=1)
    _record_pids(monkeypatch, tmp_path / "pids")
    two = service.write_tree(checked, tmp_path / "two", workers=2)
    assert one == two == len(_tree(tmp_path / "two"))
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    writers = set((tmp_path / "pids").read_text().split())
    # forked workers wrote every unit, a fresh one per chunk of units
    assert len(writers) > 1 and str(os.getpid()) not in writers


def test_a_failing_worker_writes_nothing(checked: service.Checked, tmp_path: Path) -> None:
    out = tmp_path / "out"
    service.write_tree(checked, out, workers=1)
    before = _tree(out)
    last = list(checked.bundle)[-1]
    last.body["metadata"]["unwritable"] = object()  # no YAML writer takes it
    try:
        with pytest.raises(Exception, match="cannot represent an object"):
            service.write_tree(checked, out, workers=2)
    finally:
        del last.body["metadata"]["unwritable"]
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


@pytest.mark.parametrize("workers", [1, 2])
def test_two_units_claiming_one_path_are_refused_alike(
    checked: service.Checked, tmp_path: Path, workers: int
) -> None:
    plan = TreePlan.of(checked.spec, checked.bundle)
    plan.units["team-zzz"] = plan.units["team-payments"]  # the same files again
    with pytest.raises(Conflict) as info:
        treewriter.write_files(plan, tmp_path, workers)
    assert str(info.value).endswith(
        "is written by both team-payments and team-zzz; two units may never share a file, "
        "nothing was written")


def test_workers_are_one_per_core_for_a_large_tree_and_never_beside_threads() -> None:
    cores = treewriter.available_workers()
    assert treewriter.workers_for(treewriter.PARALLEL_FROM) == cores
    assert treewriter.workers_for(treewriter.PARALLEL_FROM - 1) == 1
    assert treewriter.workers_for(10, requested=3) == 3
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert treewriter.workers_for(treewriter.PARALLEL_FROM, requested=2) == 1
    finally:
        stop.set()
        other.join()
