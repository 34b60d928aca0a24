"""Writing a whole repository tree to a directory, serialising units in worker processes.

Serialising and writing the files of a full render (110,000 objects at 1,000 teams) is
CPU-bound Python and independent per unit, so it is split across processes, not threads.
The workers are *forked* after the spec was loaded, rendered and checked: they inherit
the checked Bundle as it is (no copy sent through a pipe), serialise their units, write
them into the staging directory, and send back the paths each unit claims. Each worker
process takes one chunk of units and exits: reading an object writes its reference
count, so a worker copies every page it reads, and a long-lived worker would end up
holding a copy of half the Bundle; a fresh fork per chunk bounds that to one chunk.
The parent then claims every path in unit order, exactly as the
one-process writer does (so a path two units share is refused with the same message),
and writes the layout unit last. Any error in a worker is raised in the parent, where
the caller drops the staging directory: nothing is written.

Forking is safe only from a process with one thread (a lock another thread holds at the
fork would be held forever in the child), so a process with other threads running (the
API server) writes in-process; so does a small tree, where starting processes costs more
than it saves. The output is the same bytes in every case.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from goldenpath.gitops.layout import LAYOUT_UNIT, TreePlan, check_paths, unit_files

Progress = Callable[[int], None]
#: below this many objects a tree is written in-process: forking would cost more
PARALLEL_FROM = 5_000
#: chunks per worker: each chunk is a fork, which costs about 0.1 s of CPU with a
#: 1,000-team Bundle in memory, and each worker's copies grow with its chunk (at 1,000
#: teams, 4 chunks a worker: 0.3 s of forks, peak 843 MiB for 2 workers; 16: 2.5 s, 725 MiB;
#: 1: 1,331 MiB)
_CHUNKS_PER_WORKER = 4

#: the plan and staging directory of the write under way, inherited by forked workers
_job: tuple[TreePlan, Path] | None = None


def available_workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def workers_for(objects: int, requested: int | None = None) -> int:
    """How many processes write a tree of ``objects`` objects: ``requested`` (default:
    one per core, and one for a small tree), and one whenever this process runs other
    threads."""
    if threading.active_count() > 1:
        return 1
    if requested is None:
        return available_workers() if objects >= PARALLEL_FROM else 1
    return max(1, requested)


def write_files(plan: TreePlan, staging: Path, workers: int,
                progress: Progress | None = None) -> int:
    """Write every file of ``plan`` under ``staging`` with ``workers`` processes (see
    :func:`workers_for`); return the number of files."""
    units = list(plan.units)
    if workers <= 1 or len(units) < 2:
        claimed = [_write_units(plan, staging, units, progress)]
    else:
        claimed = _in_workers(plan, staging, units, workers, progress)
    claims: dict[str, str] = {}
    count = 0
    for chunk in claimed:  # in unit order, as one process would claim them
        for unit, paths in chunk:
            check_paths(claims, unit, paths)
            count += len(paths) + 1  # and the unit's manifest
    layout = plan.layout(claims)
    count += _write(staging, unit_files(LAYOUT_UNIT, layout), set())
    if progress is not None:
        progress(count)
    return count


Claimed = list[tuple[str, list[str]]]


def _in_workers(plan: TreePlan, staging: Path, units: list[str], workers: int,
                progress: Progress | None) -> list[Claimed]:
    global _job  # noqa: PLW0603 (what the forked workers inherit; set only around the fork)
    size = max(1, len(units) // (workers * _CHUNKS_PER_WORKER))
    chunks = [units[i:i + size] for i in range(0, len(units), size)]
    _job = (plan, staging)
    try:
        # one fresh fork per chunk: a worker's copies of the pages it touched (reading an
        # object writes its reference count) go when it exits, so memory stays the
        # parent's plus a chunk's per worker, not the parent's twice over
        pool = multiprocessing.get_context("fork").Pool(min(workers, len(chunks)),
                                                         maxtasksperchild=1)
        with pool:
            claimed: list[Claimed] = []
            done = 0
            for chunk in pool.imap(_worker, chunks):  # in order: errors too, first first
                claimed.append(chunk)
                done += sum(len(paths) + 1 for _, paths in chunk)
                if progress is not None:
                    progress(done)
            return claimed
    finally:
        _job = None


def _worker(units: list[str]) -> Claimed:
    if _job is None:
        raise RuntimeError("a tree writer worker runs only forked from write_files")
    plan, staging = _job
    return _write_units(plan, staging, units, None)


def _write_units(plan: TreePlan, staging: Path, units: Iterable[str],
                 progress: Progress | None) -> Claimed:
    made: set[Path] = set()
    claimed: Claimed = []
    count = 0
    for unit in units:
        state = plan.state(unit)
        count += _write(staging, unit_files(unit, state), made)
        claimed.append((unit, list(state.blobs)))
        if progress is not None:
            progress(count)
    return claimed


def _write(staging: Path, files: Iterable[tuple[str, bytes]], made: set[Path]) -> int:
    count = 0
    for path, content in files:
        target = staging / path
        if target.parent not in made:  # one mkdir per directory, not per file
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(content)
        count += 1
    return count
