"""Validate benchmark (issue 14, target 2): ``goldenpath validate`` after a one-team
change on a platform of 1,000 teams versus the same change on a platform of 10 teams.

For each size, in one process: the platform is applied once to an empty bare remote (what
a platform team's state holds after its first apply: the spec cache and the verdicts of
the teams apply checked), then, --repeat times each, one team's quota is changed and
validate runs, two ways:

  command     ``goldenpath validate`` as a user runs it: its own process, end to end
              (interpreter start and imports included, as in CI);
  in-process  ``services.platform.validate_all``, what the command calls (load, render
              and check what changed, the global guardrails over every team,
              service-repository warnings): the work itself, without the fixed cost
              of starting, so the stricter ratio.

Reported: medians, and both ratios against the target; for the command also its CPU
time (user + system), steadier than the wall time on a shared machine. Each in-process
run checks that exactly the changed team was checked again and that it passed; each
command must exit 0 and say it checked one team. Separately, the full validate
(``--full``) in-process, for context.

    .venv/bin/python benchmarks/bench_validate.py [--large 1000] [--small 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath.services import gitops
from goldenpath.services.platform import validate_all
from goldenpath.settings import Settings
from tests.factories import generated_platform


def _quota(root: Path, team: str, cpu: str) -> None:
    path = root / "teams" / f"{team}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"].setdefault("quota", {})["cpu"] = cpu
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _command(root: Path, settings: Settings) -> tuple[float, float]:
    """The wall time of ``goldenpath validate`` and the CPU time (user + system) of its
    process: on a shared machine the CPU time is the steadier of the two."""
    env = {**os.environ, "GOLDENPATH_STATE_DIR": str(settings.state_dir)}
    command = [sys.executable, "-c", "from goldenpath.cli import main; main()", "validate",
               "--platform", str(root)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unchanged since they last passed" in " ".join(done.stdout.split()), done.stdout
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, cpu


def measure(teams: int, repeat: int, work: Path) -> dict[str, float]:
    root = generated_platform(work / f"platform-{teams}", teams)
    remote = work / f"remote-{teams}.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    settings = Settings(state_dir=work / f"state-{teams}")
    started = time.perf_counter()
    gitops.apply(root, str(remote), settings=settings)
    first = time.perf_counter() - started
    team = "team-0003"
    runs: list[float] = []
    for run in range(repeat):
        _quota(root, team, str(5 + run % 2))
        started = time.perf_counter()
        result = validate_all(root, settings)
        runs.append(time.perf_counter() - started)
        assert result.report.passed, result.report.violations
        checked = set(result.spec.team_names) - result.reused
        assert checked == {team}, f"checked again: {sorted(checked)[:5]}"
    commands: list[float] = []
    cpus: list[float] = []
    for run in range(repeat):
        _quota(root, team, str(7 + run % 2))
        wall, cpu = _command(root, settings)
        commands.append(wall)
        cpus.append(cpu)
    started = time.perf_counter()
    assert validate_all(root, settings, full=True).report.passed
    full = time.perf_counter() - started
    print(f"{teams} teams, one-team change, every run: in-process "
          + ", ".join(f"{t * 1000:.0f} ms" for t in runs) + "; command "
          + ", ".join(f"{t * 1000:.0f} ms" for t in commands), flush=True)
    return {"first": first, "change": statistics.median(runs), "full": full,
            "command": statistics.median(commands), "cpu": statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1000)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-validate-") as tmp:
        small = measure(args.small, args.repeat, Path(tmp))
        large = measure(args.large, args.repeat, Path(tmp))
    for name, m in ((f"{args.small} teams", small), (f"{args.large} teams", large)):
        print(f"{name:>11}: one-team change: command {m['command'] * 1000:6.0f} ms "
              f"(CPU {m['cpu'] * 1000:5.0f} ms), in-process {m['change'] * 1000:5.0f} ms "
              f"| full validate in-process "
              f"{m['full']:6.2f}s | first apply {m['first']:6.2f}s")
    name = f"validate ({args.large} vs {args.small} teams)"
    for key, how in (("command", "goldenpath validate (the command)"),
                     ("change", "validate_all in-process")):
        ratio = large[key] / small[key]
        print(f"ratio ({how}, one-team change, {args.large} vs {args.small} teams): "
              f"{ratio:.2f}x (target <= 1.5x)")
        record(name, f"one-team change at {args.large} teams, {how}",
               f"{large[key] * 1000:.0f} ms ({ratio:.2f}x)",
               baseline=f"the same change at {args.small} teams, {small[key] * 1000:.0f} ms",
               target="<= 1.5x", met=ratio <= 1.5)
    cpu = large["cpu"] / small["cpu"]
    print(f"ratio (goldenpath validate, CPU time of the process): {cpu:.2f}x")
    record(name, f"one-team change at {args.large} teams, the command's CPU time",
           f"{large['cpu'] * 1000:.0f} ms ({cpu:.2f}x)",
           baseline=f"the same change at {args.small} teams, {small['cpu'] * 1000:.0f} ms")
    record(name, f"full validate (--full) of {args.large} teams, in-process",
           f"{large['full']:.1f} s")

if __name__ == "__main__":
    main()
