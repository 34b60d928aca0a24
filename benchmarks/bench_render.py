"""Render benchmark (issue 14): ``goldenpath render --out`` of a generated platform of N teams
x 3 environments x 4 services, end to end, against the floor.

Measures:
  floor    loading nothing: serializing every rendered object with PyYAML's CSafeDumper
           (sorted keys) and writing one file each, at the object's path in the tree, in
           one process with the cyclic collector paused: the least a writer built on
           PyYAML could do;
  command  ``goldenpath render --out`` as a person runs it, a process of its own: start,
           spec load, render, every guardrail (the schema check included), serializing
           and writing the tree; with ``--workers 1`` and ``--workers 2`` (the speed-up
           from 1 to 2 processes) and with its default (one worker per core), the figure
           the target is about: at most 1.0x the floor;
  memory   the peak of the command's processes together (the sum of their proportional
           set sizes, sampled every 50 ms: a forked worker's pages shared with its parent
           count once), target < 1 GiB;
  phases   for context, in this process: load, render, guardrails, writing with one
           process, and the YAML writer alone against CSafeDumper, for the whole Bundle
           and for one team's objects (what the API serialises per changed team).

    .venv/bin/python benchmarks/bench_render.py [--teams 1000] [--out-root /dev/shm]
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath import policy
from goldenpath.gcpause import cyclic_gc_paused
from goldenpath.gitops import emit
from goldenpath.render import render
from goldenpath.render.paths import path_for
from goldenpath.services.platform import Checked, write_tree
from goldenpath.services.treewriter import available_workers
from goldenpath.spec import load_platform
from tests.factories import generated_platform

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
MIB = 1 << 20


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - start
    print(f"{label:<36} {elapsed:8.2f} s", flush=True)
    return result, elapsed


@cyclic_gc_paused()
def floor(bundle, out: Path) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    """Files written and the CPU time it took. The cyclic collector is paused, as in
    ``goldenpath render``: the floor is what any writer could do."""
    start = time.process_time()
    made: set[Path] = set()
    for obj in bundle:
        target = out / path_for(obj)
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        text = yaml.dump(obj.body, Dumper=DUMPER, sort_keys=True)
        target.write_bytes(text.encode("utf-8"))
    return len(bundle), time.process_time() - start


def _pss(pid: int) -> int:
    """Proportional set size of a process in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def command(platform: Path, out: Path, workers: int | None) -> tuple[float, int, float]:
    """Wall time of ``goldenpath render --out``, the peak PSS of its process tree and
    the CPU time of all its processes (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    script = Path(sys.executable).with_name("goldenpath")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "goldenpath.cli"]
    argv += ["render", "--platform", str(platform), "--out", str(out)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    peak = 0
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.05):
            pids = [proc.pid, *_children(proc.pid)]
            peak = max(peak, sum(_pss(p) for p in pids))

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"goldenpath render failed: {stderr.decode()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, peak, cpu


@cyclic_gc_paused()
def phases(platform: Path, out_root: Path | None) -> Checked:
    spec, _ = timed("load specs", load_platform, platform)
    bundle, _ = timed("render", render, spec)
    report, _ = timed("guardrails", policy.enforce, spec, bundle)
    checked = Checked(spec=spec, bundle=bundle, report=report)
    with tempfile.TemporaryDirectory(dir=out_root) as out:
        timed("write tree, one process", write_tree, checked, Path(out) / "tree", None, 1)
    return checked


@cyclic_gc_paused()
def writers(checked: Checked) -> None:
    """The YAML writer alone against CSafeDumper: the whole Bundle, and one team."""
    bodies = [r.body for r in checked.bundle]
    _, t_emit = timed("YAML writer (emit), every object", lambda: [emit.dump(b) for b in bodies])
    _, t_dump = timed("CSafeDumper, every object", lambda: [
        yaml.dump(b, Dumper=DUMPER, sort_keys=True) for b in bodies])
    print(f"{'YAML writer / CSafeDumper':<36} {t_emit / t_dump:8.2f}x")
    team = checked.spec.team_names[0]
    mine = [r.body for r in checked.bundle if r.coords.team == team]
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        [emit.dump(b) for b in mine]
    one_emit = (time.perf_counter() - start) / runs * 1000
    start = time.perf_counter()
    for _ in range(runs):
        [yaml.dump(b, Dumper=DUMPER, sort_keys=True, default_flow_style=False,
                   allow_unicode=True, width=1 << 16) for b in mine]
    one_dump = (time.perf_counter() - start) / runs * 1000
    print(f"one team's {len(mine)} objects: YAML writer {one_emit:.1f} ms, "
          f"CSafeDumper {one_dump:.1f} ms")
    record(f"render ({len(checked.spec.team_names)} teams, {len(bodies)} objects)",
           "one team's objects serialised (API apply)",
           f"{one_emit:.1f} ms ({one_emit / one_dump:.2f}x)",
           baseline=f"CSafeDumper of the same {len(mine)} objects, {one_dump:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--out-root", type=Path, default=None,
                        help="where trees are written (default: the system temp dir)")
    args = parser.parse_args()
    cores = available_workers()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "platform"
        generated_platform(root, teams=args.teams, services=4)
        checked = phases(root, args.out_root)
        writers(checked)
        with tempfile.TemporaryDirectory(dir=args.out_root) as out:
            gc.collect()
            (files, cpu_floor), t_floor = timed("floor (CSafeDumper + one file each)", floor,
                                   checked.bundle, Path(out) / "floor")
        objects = len(checked.bundle)
        del checked
        gc.collect()
        runs: dict[str, tuple[float, int, float]] = {}
        for label, workers in (("1 worker", 1), ("2 workers", 2), (f"default ({cores})", None)):
            with tempfile.TemporaryDirectory(dir=args.out_root) as out:
                runs[label] = command(root, Path(out) / "tree", workers)
            wall, peak, cpu = runs[label]
            print(f"{'goldenpath render --out, ' + label:<36} {wall:8.2f} s  "
                  f"(CPU {cpu:.2f} s)  peak {peak / MIB:.0f} MiB", flush=True)
    name = f"render ({args.teams} teams, {objects} objects)"
    total, peak, cpu = runs[f"default ({cores})"]
    one, two = runs["1 worker"][0], runs["2 workers"][0]
    print(f"objects                              {objects} ({files} floor files)")
    print(f"ratio to floor                       {total / t_floor:8.2f}x  (target <= 1.0x)")
    print(f"CPU time, ratio to the floor's       {cpu / cpu_floor:8.2f}x  "
          f"({cpu:.2f} s in every process / {cpu_floor:.2f} s)")
    print(f"speed-up 1 -> 2 workers              {one / two:8.2f}x  ({cores} cores)")
    print(f"peak memory (all processes, PSS)     {peak / MIB:8.0f} MiB  (target < 1024 MiB)")
    floor_s = f"floor: CSafeDumper of the same objects + one file each, {t_floor:.2f} s"
    record(name, f"goldenpath render --out, end to end ({cores} workers)",
           f"{total:.2f} s ({total / t_floor:.2f}x)", baseline=floor_s, target="<= 1.0x",
           met=total / t_floor <= 1.0)
    record(name, "CPU time of every process, end to end", f"{cpu:.2f} s ({cpu / cpu_floor:.2f}x)",
           baseline=f"the floor's CPU time, {cpu_floor:.2f} s")
    record(name, "speed-up from 1 to 2 workers", f"{one / two:.2f}x",
           baseline=f"--workers 1, {one:.2f} s; --workers 2, {two:.2f} s ({cores} cores)")
    record(name, "peak memory (every process of the command, PSS)", f"{peak / MIB:.0f} MiB",
           target="< 1024 MiB", met=peak < 1024 * MIB)


if __name__ == "__main__":
    main()
