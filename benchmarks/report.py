"""``make bench``: run every benchmark of ``benchmarks/`` and write ``docs/benchmarks.md``.

Each benchmark runs as its own process (as a person runs it, with its defaults), one
after the other so none measures beside another; each records its figures
(:mod:`figures`) and the report lists them: the value, the baseline it is a ratio to
(measured in the same run), the target, met or not. The machine it ran on heads the
report, and each benchmark's own output follows, so every figure can be traced to the
lines it came from. A benchmark that records nothing (it failed) is reported as failed,
with its output, and the command exits non-zero after writing the report; a target not
met is a figure of the report, not a failure of the command.

    .venv/bin/python benchmarks/report.py [--only render,apply] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from figures import ENV

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: name -> (script, arguments): every benchmark, with the defaults its docstring states
BENCHMARKS = {
    "render": ("bench_render.py", []),
    "apply": ("bench_apply.py", []),
    "validate": ("bench_validate.py", []),
    "scaffold": ("bench_scaffold.py", []),
    "api-plan": ("bench_api_plan.py", []),
    "api-batch": ("bench_api_batch.py", []),
}
TIMEOUT = 60 * 60


@dataclass
class Run:
    name: str
    command: list[str]
    seconds: float
    code: int
    output: str
    figures: list[dict[str, object]]


def run(name: str, script: str, args: list[str]) -> Run:
    command = [sys.executable, str(HERE / script), *args]
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures:
        env = {**os.environ, ENV: figures.name}
        print(f"running {name}: {' '.join(command[1:])}", flush=True)
        began = time.perf_counter()
        try:
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT, check=False)
            code, output = done.returncode, done.stdout + done.stderr
        except subprocess.TimeoutExpired as expired:
            code, output = -1, f"timed out after {TIMEOUT} s\n{expired.stdout or ''}"
        took = time.perf_counter() - began
        found = [json.loads(line) for line in Path(figures.name).read_text().splitlines()
                 if line.strip()]
    print(f"  {name}: exit {code} in {took:.0f} s, {len(found)} figures", flush=True)
    return Run(name, command, took, code, output, found)


def machine() -> list[str]:
    cpu = next((line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown")
    memory = next((line.split(":", 1)[1].strip() for line in _lines("/proc/meminfo")
                   if line.startswith("MemTotal")), "unknown")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True, check=False).stdout.strip()
    return [f"- when: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, goldenpath "
            f"commit `{commit or 'unknown'}`",
            f"- machine: {platform.system()} {platform.release()} {platform.machine()}, "
            f"{os.cpu_count()} cores ({cpu}), {memory} memory",
            f"- Python {platform.python_version()}"]


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def render(runs: list[Run]) -> str:
    out = ["# Benchmarks", "",
           "Written by `make bench` (`benchmarks/report.py`): every benchmark of "
           "`benchmarks/`, each in its own process, one after the other, on this machine:",
           "", *machine(), "",
           "Each ratio is to a baseline measured in the same run. A figure with no target "
           "is reported for context.", "",
           "| benchmark | figure | value | baseline (measured in the same run) | target | met |",
           "| --- | --- | --- | --- | --- | --- |"]
    for r in runs:
        if r.code != 0 and not r.figures:
            out.append(f"| {r.name} | (failed: exit {r.code}, see its output) | | | | no |")
        for f in r.figures:
            met = {True: "yes", False: "**no**", None: ""}[f["met"]]  # type: ignore[index]
            out.append(f"| {f['benchmark']} | {f['figure']} | {f['value']} | "
                       f"{f['baseline']} | {f['target']} | {met} |")
    out += ["", "## Output of each benchmark", ""]
    for r in runs:
        shown = " ".join([f"benchmarks/{Path(r.command[1]).name}", *r.command[2:]])
        out += [f"### {r.name}", "", f"`{shown}` (exit {r.code}, {r.seconds:.0f} s)", "",
                "```", r.output.rstrip(), "```", ""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    runs = [run(name, *BENCHMARKS[name]) for name in chosen]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(runs) + "\n")
    print(f"wrote {args.out}")
    return 0 if all(r.figures for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
