"""Scaffolding one service vs cookiecutter alone on the same template, in the same run.

Scaffolding = goldenpath's ``new_service``: load the platform, render with cookiecutter,
record the template version and answers, publish the repository, edit the team spec with
ruamel.yaml and reload the platform. The target (issue 5) is at most 1.5x cookiecutter
alone. Each side runs ``--rounds`` times in alternation after one warm-up; medians are
compared. Two publishing modes are measured, because they do different git work:

  embedded   the default (GOLDENPATH_SERVICE_REPOS=embedded): a bare repository under
             .goldenpath/repos is created and the commit is written into it directly with
             one ``git fast-import`` (no scratch clone, no push);
  platform   GOLDENPATH_SERVICE_REPOS=platform: ``git init`` in the rendered project,
             ``git add`` + ``commit``, and ``git push`` to the URL from
             ``serviceRepos.urlTemplate``, here an empty local bare repository (created
             before timing: a git server's job, not the scaffolder's).

    .venv/bin/python benchmarks/bench_scaffold.py [--rounds 15] [--template python-service]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath.scaffold import cookie
from goldenpath.scaffold.context import inputs_from_spec, service_context
from goldenpath.services.scaffold import new_service
from goldenpath.spec import load_platform
from goldenpath.spec.models import ServiceSpec
from tests.scaffold.helpers import Workspace, make_workspace

TARGET = 1.5
PARAMS: dict[str, dict[str, str]] = {"python-service": {}, "python-worker": {"queue": "jobs"}}


def _use_local_remotes(workspace: Workspace, remotes: Path, rounds: int) -> None:
    """Point serviceRepos.urlTemplate at local bare repositories, created empty."""
    path = workspace.settings.platform_dir / "platform.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["spec"]["serviceRepos"] = {"urlTemplate": f"{remotes}/{{team}}/{{service}}.git"}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    for i in [*range(rounds), 999]:
        bare = remotes / "payments" / f"svc-{i}.git"
        subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(bare)], check=True)


def measure(mode: str, template_name: str, rounds: int, root: Path) -> tuple[float, float]:
    workspace = make_workspace(root / "ws", service_repos=mode)
    if mode == "platform":
        _use_local_remotes(workspace, root / "remotes", rounds)
    spec = load_platform(workspace.settings.platform_dir)
    team = spec.team("payments")
    template = workspace.template_path(template_name)
    params = PARAMS[template_name]

    def alone(i: int) -> None:
        service = ServiceSpec(name=f"alone-{i}", template=template_name, parameters=params)
        context = service_context(spec, inputs_from_spec(team, service))
        cookie.render(template, context, root / f"alone-{i}")

    def scaffold(i: int) -> None:
        new_service(workspace.settings, "payments", f"svc-{i}", template_name, params)

    alone(999)
    scaffold(999)  # warm-up: imports, caches
    alone_times, scaffold_times = [], []
    for i in range(rounds):
        alone_times.append(_timed(alone, i))
        scaffold_times.append(_timed(scaffold, i))
    return statistics.median(alone_times), statistics.median(scaffold_times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--template", default="python-service", choices=sorted(PARAMS))
    parser.add_argument("--mode", choices=["embedded", "platform", "both"], default="both")
    args = parser.parse_args()
    modes = ["embedded", "platform"] if args.mode == "both" else [args.mode]
    worst = 0.0
    print(f"template {args.template}, {args.rounds} rounds (medians)")
    for mode in modes:
        with tempfile.TemporaryDirectory() as tmp:
            alone, scaffold = measure(mode, args.template, args.rounds, Path(tmp))
        ratio = scaffold / alone
        worst = max(worst, ratio)
        print(f"  {mode:9} cookiecutter alone {alone * 1000:7.1f} ms   goldenpath scaffold "
              f"{scaffold * 1000:7.1f} ms   ratio {ratio:.2f}x "
              f"({'ok' if ratio <= TARGET else 'OVER'}, target <= {TARGET}x)")
        record(f"scaffold ({args.template}, {args.rounds} rounds, medians)",
               f"goldenpath scaffold, {mode} mode", f"{scaffold * 1000:.0f} ms ({ratio:.2f}x)",
               baseline=f"cookiecutter alone, {alone * 1000:.0f} ms",
               target=f"<= {TARGET}x", met=ratio <= TARGET)
    return 0 if worst <= TARGET else 1


def _timed(step: Callable[[int], None], i: int) -> float:
    start = time.perf_counter()
    step(i)
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
