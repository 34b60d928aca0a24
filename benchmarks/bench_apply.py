"""Apply benchmark (issue 3): a one-team change applied to a repository of 1,000 teams
versus the same change in a repository of 10 teams, plus the first full apply.

For each size, in one process, with real git (a bare remote in a temporary directory):
  first    the first apply of the whole platform to an empty remote;
  change   one team's quota changed, then apply (the cache repository is warm, as it is
           for any applier after its first run); reported as the median of --repeat runs,
           each run alternating between two quota values so every run makes a commit.
The change time is the wall time of ``gitops.apply`` (load, fetch, render and check what
changed, commit, push). Separately, and not part of that time, the same run measures
loading the spec alone (``load_platform`` with apply's spec cache), the part of every
apply that reads every team's file. Also checks that the change commit touches only that
team's files: its objects, its ownership manifest and its spec file (specs live in the
control repository; a quota change is 5 files, one more than before specs did). With
``--capacity`` both clusters declare a capacity (large enough), so the capacity
guardrail sums every team's quota on each apply.

    .venv/bin/python benchmarks/bench_apply.py [--large 1000] [--small 10] [--repeat 3]
                                               [--capacity]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath.services import gitops
from goldenpath.settings import Settings
from goldenpath.spec import load_platform
from tests.factories import generated_platform, platform_doc


def _quota(root: Path, team: str, cpu: str) -> None:
    path = root / "teams" / f"{team}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"].setdefault("quota", {})["cpu"] = cpu
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _changed_paths(remote: Path) -> list[str]:
    out = subprocess.run(["git", "diff", "--name-only", "main~1", "main"], cwd=remote,
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def _platform(capacity: bool) -> dict[str, Any]:
    doc = platform_doc()
    if capacity:
        for cluster in doc["spec"]["clusters"]:
            cluster["capacity"] = {"cpu": "1000000", "memory": "10000Ti"}
    return doc


def measure(teams: int, repeat: int, work: Path, capacity: bool) -> dict[str, float]:
    root = generated_platform(work / f"platform-{teams}", teams, platform=_platform(capacity))
    remote = work / f"remote-{teams}.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    settings = Settings(state_dir=work / f"state-{teams}")
    started = time.perf_counter()
    gitops.apply(root, str(remote), settings=settings)
    first = time.perf_counter() - started
    team = "team-0003"
    changes: list[float] = []
    loads: list[float] = []
    for run in range(repeat):
        _quota(root, team, str(5 + run % 2))
        started = time.perf_counter()
        result = gitops.apply(root, str(remote), settings=settings)
        changes.append(time.perf_counter() - started)
        assert result.commit is not None, "the change made no commit"
        paths = _changed_paths(remote)
        assert all(team in p for p in paths), f"touched other teams' files: {paths}"
        assert f"platform/teams/{team}.yaml" in paths, f"the spec did not travel: {paths}"
        started = time.perf_counter()
        load_platform(root, settings.spec_cache_dir)
        loads.append(time.perf_counter() - started)
    print(f"{teams} teams, one-team change, every run: "
          + ", ".join(f"{t * 1000:.0f} ms" for t in changes), flush=True)
    return {"first": first, "change": statistics.median(changes),
            "load": statistics.median(loads), "files": float(len(paths))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capacity", action="store_true",
                        help="declare cluster capacities (the capacity guardrail runs)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-apply-") as tmp:
        small = measure(args.small, args.repeat, Path(tmp), args.capacity)
        large = measure(args.large, args.repeat, Path(tmp), args.capacity)
    for name, m in ((f"{args.small} teams", small), (f"{args.large} teams", large)):
        print(f"{name:>11}: first apply {m['first']:7.2f}s | one-team change "
              f"{m['change']:6.2f}s, {int(m['files'])} files in the commit | "
              f"load_platform alone {m['load']:5.2f}s")
    print(f"ratio (one-team change, {args.large} vs {args.small} teams): "
          f"{large['change'] / small['change']:.2f}x")
    print(f"first full apply of {args.large} teams: {large['first']:.2f}s")
    ratio = large["change"] / small["change"]
    name = f"apply ({args.large} vs {args.small} teams)"
    record(name, f"one-team change at {args.large} teams",
           f"{large['change']:.2f} s ({ratio:.2f}x)",
           baseline=f"the same change at {args.small} teams, {small['change']:.2f} s",
           target="<= 2x", met=ratio <= 2)
    record(name, f"first full apply of {args.large} teams", f"{large['first']:.1f} s")


if __name__ == "__main__":
    main()
