"""Writing a tree with worker processes (goldenpath.services.treewriter): the same bytes as
one process, the same refusals, and nothing written when a worker fails."""

from __future__ import annotations

import json
import subprocess
import sys
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


#: Run in a fresh interpreter: forking needs a process with one thread, and a test
#: process may still run threads another test started. Every process that writes units
#: appends its pid to a log (forked workers inherit the patch).
_FRESH = """
import json, os, sys
from pathlib import Path
from goldenpath.services import platform as service, treewriter
from tests.factories import EXAMPLE_PLATFORM

tmp, fail = Path(sys.argv[1]), sys.argv[2] == "fail"
write = treewriter._write_units
def recorded(*args):
    with (tmp / "pids").open("a") as f:
        f.write(f"{os.getpid()}\\n")
    return write(*args)
treewriter._write_units = recorded
checked = service.load_and_check(EXAMPLE_PLATFORM)
def tree():
    return {str(p): p.read_bytes() for p in (tmp / "out").rglob("*") if p.is_file()}
if fail:
    service.write_tree(checked, tmp / "out", workers=1)
    before = tree()
    list(checked.bundle)[-1].body["metadata"]["unwritable"] = object()
    try:
        service.write_tree(checked, tmp / "out", workers=2)
    except Exception as error:
        print(json.dumps({"error": str(error), "unchanged": tree() == before}))
else:
    print(json.dumps({"files": service.write_tree(checked, tmp / "two", workers=2),
                      "parent": os.getpid()}))
"""


def _fresh(tmp_path: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _FRESH, str(tmp_path), mode],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_workers_write_the_same_bytes_as_one_process(
    checked: service.Checked, tmp_path: Path
) -> None:
    one = service.write_tree(checked, tmp_path / "one", workers=1)
    found = _fresh(tmp_path, "same")
    assert one == found["files"] == len(_tree(tmp_path / "two"))
    assert _tree(tmp_path / "one") == _tree(tmp_path / "two")
    writers = set((tmp_path / "pids").read_text().split())
    # forked workers wrote every unit, a fresh one per chunk of units
    assert len(writers) > 1 and str(found["parent"]) not in writers


def test_a_failing_worker_writes_nothing(tmp_path: Path) -> None:
    found = _fresh(tmp_path, "fail")
    assert "cannot represent an object" in found["error"]
    assert found["unchanged"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "pids"]  # no staging left
    assert len(set((tmp_path / "pids").read_text().split())) > 1  # workers ran


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


def test_workers_are_one_per_core_for_a_large_tree_and_never_beside_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # this test process may run threads other tests left: count only the one started here
    monkeypatch.setattr(treewriter.threading, "active_count",
                        lambda: len([t for t in threading.enumerate() if t is started[0]]) + 1)
    started: list[threading.Thread | None] = [None]
    cores = treewriter.available_workers()
    assert treewriter.workers_for(treewriter.PARALLEL_FROM) == cores
    assert treewriter.workers_for(treewriter.PARALLEL_FROM - 1) == 1
    assert treewriter.workers_for(10, requested=3) == 3
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    started[0] = other
    other.start()
    try:
        assert treewriter.workers_for(treewriter.PARALLEL_FROM, requested=2) == 1
    finally:
        stop.set()
        other.join()
