"""API plan benchmark (issue 12): ``POST /v1/teams/{team}/plan`` for a typical team of a
1,000-team platform, against a real server process, versus the same plan in-process.

One run, real parts throughout:
  seed     a generated platform (``tests.factories.generated_platform``: 1,000 teams x 3
           environments x 4 services) applied to a bare control repository in a temporary
           directory (not timed; about a minute and a half for 1,000 teams);
  server   ``goldenpath serve`` in its own process on 127.0.0.1 (uvicorn, SQLite, no
           worker threads), the admin token from GOLDENPATH_ADMIN_TOKEN; one warm-up
           plan (the first request builds the process's snapshot of the specs and the
           analysis of the head commit: reported apart), then --clients concurrent
           clients, each a closed loop of --requests plans over HTTP (keep-alive);
  alone    the same measurement with one client: the server's latency without queueing;
  inproc   the same plans called in this process (``services.teams.plan_team``, the
           same snapshot warm), sequentially.
Every request proposes a different quota for the same team (cpu 5..--variants cycling, so
no two successive plans are the same document); every answer is checked to be a 200 that
changes that team's ResourceQuotas. Reported: p50 and p99 of each, the ratios of server to
in-process, and the cost of the per-request head check (``git ls-remote``) alone.

    .venv/bin/python benchmarks/bench_api_plan.py [--teams 1000] [--clients 20]
                                                  [--requests 10] [--team team-0003]
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from figures import record

from goldenpath.gitops.repo import remote_head
from goldenpath.services import gitops, teams
from goldenpath.settings import Settings
from tests.factories import generated_platform, platform_doc

TOKEN = "bench-admin-token-" + "0" * 32


def proposals(root: Path, team: str, count: int) -> list[dict[str, Any]]:
    doc = yaml.safe_load((root / "teams" / f"{team}.yaml").read_text())
    out = []
    for n in range(count):
        changed = copy.deepcopy(doc)
        changed["spec"]["quota"] = {"cpu": str(5 + n)}
        out.append(changed)
    return out


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99


def checked(answer: httpx.Response) -> None:
    if answer.status_code != 200:
        raise SystemExit(f"plan answered {answer.status_code}: {answer.text[:500]}")
    kinds = {(o["kind"], o["action"]) for o in answer.json()["objects"]}
    if ("ResourceQuota", "changed") not in kinds:
        raise SystemExit(f"the plan does not change the team's quota: {kinds}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(root: Path, remote: Path, state: Path, log: Path, port: int, *,
                 workers: int = 0) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(GOLDENPATH_STATE_DIR=str(state), GOLDENPATH_GITOPS_REPO=str(remote),
               GOLDENPATH_ADMIN_TOKEN=TOKEN, GOLDENPATH_API_WORKERS=str(workers),
               PYTHONPATH=os.pathsep.join(sys.path))
    command = [sys.executable, "-c", "from goldenpath.cli import main; main()", "serve",
               "--port", str(port), "--platform", str(root)]
    with log.open("wb") as out:  # a file, not a pipe: the server logs every request
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful shutdown), SIGKILL after 30 s."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server stopped:\n" + log.read_text()[-3000:])
        try:
            if httpx.get(f"{url}/v1/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not answer:\n" + log.read_text()[-3000:])


def over_http(url: str, team: str, docs: list[dict[str, Any]], clients: int,
              requests: int) -> list[float]:
    """Latencies of ``clients`` closed-loop clients, ``requests`` plans each."""
    latencies: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(clients)

    def client(index: int) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            start.wait()
            for n in range(requests):
                doc = docs[(index + n * clients) % len(docs)]
                began = time.perf_counter()
                answer = http.post(f"/v1/teams/{team}/plan", json=doc)
                took = time.perf_counter() - began
                checked(answer)
                with lock:
                    latencies.append(took)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def timed(call: Callable[[], object], count: int) -> list[float]:
    out = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        out.append(time.perf_counter() - began)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10, help="plans per client")
    parser.add_argument("--team", default="team-0003")
    parser.add_argument("--variants", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-api-") as tmp:
        work = Path(tmp)
        root = generated_platform(work / "platform", args.teams, platform=platform_doc())
        remote, state = work / "remote.git", work / "state"
        subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
        settings = Settings(state_dir=state, gitops_repo=str(remote), platform_dir=root)
        began = time.perf_counter()
        gitops.apply(root, str(remote), settings=settings)
        print(f"seeded {args.teams} teams in {time.perf_counter() - began:.1f}s", flush=True)
        docs = proposals(root, args.team, args.variants)
        port, log = free_port(), work / "server.log"
        url = f"http://127.0.0.1:{port}"
        server = start_server(root, remote, state, log, port)
        try:
            wait_ready(server, url, log)
            with httpx.Client(base_url=url, timeout=300,
                              headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                began = time.perf_counter()
                checked(http.post(f"/v1/teams/{args.team}/plan", json=docs[-1]))
                first = time.perf_counter() - began
            many = over_http(url, args.team, docs, args.clients, args.requests)
            alone = over_http(url, args.team, docs, 1, args.requests * 2)
        finally:
            stop_server(server)
        where = teams.Where(str(remote), "main", settings)
        teams.current_platform(where)  # this process's snapshot, as the server's is warm
        teams.plan_team(args.team, docs[-1], where)
        turn = itertools.count()
        inproc = timed(lambda: teams.plan_team(args.team, docs[next(turn) % len(docs)],
                                               where), args.requests * 2)
        heads = timed(lambda: remote_head(gitops.remote_for(None, settings), "main"), 50)
    report(args, first, many=many, alone=alone, inproc=inproc, heads=heads)


def report(args: argparse.Namespace, first: float, *, many: list[float], alone: list[float],
           inproc: list[float], heads: list[float]) -> None:
    rows = [(f"server, {args.clients} concurrent clients", many),
            ("server, one client", alone), ("in-process (services.teams.plan_team)", inproc),
            ("head check alone (git ls-remote)", heads)]
    print(f"\nPOST /v1/teams/{args.team}/plan on {args.teams} teams "
          f"(first plan of a fresh server, snapshot and analysis built: {first:.2f}s)")
    for name, samples in rows:
        p50, p99 = percentiles(samples)
        print(f"  {name:40} n={len(samples):4}  p50 {p50 * 1000:7.1f} ms  "
              f"p99 {p99 * 1000:7.1f} ms")
    m50, m99 = percentiles(many)
    a50, a99 = percentiles(alone)
    i50, i99 = percentiles(inproc)
    print(f"ratio to in-process: {args.clients} clients p50 {m50 / i50:.1f}x, p99 "
          f"{m99 / i99:.1f}x; one client p50 {a50 / i50:.2f}x, p99 {a99 / i99:.2f}x")
    print(f"target p99 <= 100 ms at {args.clients} clients: "
          f"{'met' if m99 <= 0.1 else 'not met'} ({m99 * 1000:.0f} ms)")
    name = f"API plan ({args.teams} teams, real server)"
    inproc_s = f"the same plans in-process, p50 {i50 * 1000:.0f} ms, p99 {i99 * 1000:.0f} ms"
    record(name, f"p99, {args.clients} concurrent clients",
           f"{m99 * 1000:.0f} ms ({m99 / i99:.1f}x)", baseline=inproc_s,
           target="<= 100 ms", met=m99 <= 0.1)
    record(name, f"p50, {args.clients} concurrent clients",
           f"{m50 * 1000:.0f} ms ({m50 / i50:.1f}x)", baseline=inproc_s)
    record(name, "p50 / p99, one client", f"{a50 * 1000:.0f} / {a99 * 1000:.0f} ms "
           f"({a50 / i50:.2f}x / {a99 / i99:.2f}x)", baseline=inproc_s)


if __name__ == "__main__":
    main()
