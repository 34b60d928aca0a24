"""Scaffolding one service vs cookiecutter alone on the same template, in the same run.

Scaffolding = goldenpath's ``new_service``: load the platform, render with cookiecutter,
record, git init + commit, create a local bare repository, push, edit the team spec and
reload it. The target (issue 5) is at most 1.5x cookiecutter alone. Each side runs
``--rounds`` times in alternation after one warm-up each; medians are compared.

    .venv/bin/python benchmarks/bench_scaffold.py [--rounds 15] [--template python-service]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from goldenpath.scaffold import cookie
from goldenpath.scaffold.context import service_context
from goldenpath.services.scaffold import new_service
from goldenpath.spec import load_platform
from tests.scaffold.helpers import make_workspace

TARGET = 1.5
PARAMS = {"python-service": {}, "python-worker": {"queue": "jobs"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--template", default="python-service", choices=sorted(PARAMS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workspace = make_workspace(root / "ws")
        spec = load_platform(workspace.settings.platform_dir)
        team = spec.teams_by_name["payments"]
        template = workspace.template_path(args.template)
        params = PARAMS[args.template]

        def alone(i: int) -> None:
            context = service_context(spec, team, f"alone-{i}", params)
            cookie.render(template, context, root / f"alone-{i}")

        def scaffold(i: int) -> None:
            new_service(workspace.settings, "payments", f"svc-{i}", args.template, params)

        alone_times, scaffold_times = [], []
        alone(999)
        scaffold(999)  # warm-up: imports, caches
        for i in range(args.rounds):
            alone_times.append(_timed(alone, i))
            scaffold_times.append(_timed(scaffold, i))
    a, s = statistics.median(alone_times), statistics.median(scaffold_times)
    ratio = s / a
    print(f"template {args.template}, {args.rounds} rounds (medians)")
    print(f"  cookiecutter alone: {a * 1000:8.1f} ms")
    print(f"  goldenpath scaffold (render+record+git init+commit+push+spec edit): "
          f"{s * 1000:8.1f} ms")
    print(f"  ratio {ratio:.2f}x (target <= {TARGET}x): {'ok' if ratio <= TARGET else 'OVER'}")
    return 0 if ratio <= TARGET else 1


def _timed(step: object, i: int) -> float:
    start = time.perf_counter()
    step(i)  # type: ignore[operator]
    return time.perf_counter() - start


if __name__ == "__main__":
    raise SystemExit(main())
