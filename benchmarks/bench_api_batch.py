"""API write benchmark (issue 12): 50 concurrent team changes, wall time until all are
pushed, as a ratio to one change alone, against a real server process.

One run, real parts throughout:
  seed     a generated platform (``tests.factories.generated_platform``: --teams teams x 3
           environments x 4 services) applied to a bare control repository in a temporary
           directory (not timed);
  server   ``goldenpath serve`` in its own process on 127.0.0.1 (uvicorn, SQLite, one
           worker thread), the admin token from GOLDENPATH_ADMIN_TOKEN; one change made
           first, not timed (it builds the process's snapshot and warms the caches);
  alone    one change at a time (``PUT /v1/teams/{team}`` with its ETag as If-Match),
           --repeat times on different teams: the median wall time from the PUT until
           the remote's history holds its commit (its ``Request-Id`` trailer, read with
           ``git log`` every 20 ms out of the server process, so waiting loads nothing);
  fifty    --changes clients, each changing its own team, released together: the wall
           time from the release until the remote holds every one of their commits.
Each change adds a viewer to one team (no approval needed; the team's RoleBindings
change). Checked: every request succeeded, each is its own commit in the remote's history
(its ``Request-Id`` trailer), and the remote counts the pushes it accepted (a
``post-receive`` hook): fewer pushes than changes is the batching at work.

    .venv/bin/python benchmarks/bench_api_batch.py [--teams 1000] [--changes 50]
                                                   [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_api_plan import TOKEN, free_port, start_server, stop_server, wait_ready
from figures import record

from goldenpath.services import gitops
from goldenpath.settings import Settings
from tests.factories import generated_platform, platform_doc
from tests.remotes import counted_remote, pushes

POLL = 0.02


def request_ids(remote: Path, count: int) -> list[str]:
    out = subprocess.run(["git", "log", f"-{count}", "--format=%(trailers:key=Request-Id,"
                          "valueonly)"], cwd=remote, check=True, capture_output=True,
                         text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


class Change:
    """One team change prepared before the clock starts: the new spec and its If-Match."""

    def __init__(self, http: httpx.Client, team: str) -> None:
        answer = http.get(f"/v1/teams/{team}")
        answer.raise_for_status()
        self.team, self.etag = team, answer.headers["ETag"]
        self.doc = answer.json()["spec"]
        self.doc["spec"]["viewers"] = [f"user:{team}-auditor@example.com"]

    def submit(self, http: httpx.Client) -> str:
        """PUT it; the request id."""
        answer = http.put(f"/v1/teams/{self.team}", json=self.doc,
                          headers={"If-Match": self.etag})
        if answer.status_code not in {200, 202}:
            raise SystemExit(f"PUT {self.team}: {answer.status_code} {answer.text[:300]}")
        rid: str = answer.json()["id"]
        return rid


def wait_pushed(remote: Path, ids: set[str], expected: int) -> None:
    """Until the remote's history holds a commit of each of ``expected`` requests (their
    ids filled in by the clients meanwhile): watched at the remote, out of the server,
    so waiting puts no load on it."""
    while True:
        if len(ids) == expected and ids <= set(request_ids(remote, expected)):
            return
        time.sleep(POLL)


def succeeded(http: httpx.Client, ids: list[str]) -> None:
    """Every request succeeded (once final: a worker records the outcome after its push)."""
    for rid in ids:
        deadline = time.monotonic() + 60
        while (state := http.get(f"/v1/requests/{rid}").json())["state"] in {
                "queued", "running"} and time.monotonic() < deadline:
            time.sleep(0.1)
        if state["state"] != "succeeded":
            raise SystemExit(f"request {rid}: {state['state']}: {state.get('result')}")


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=600,
                        headers={"Authorization": f"Bearer {TOKEN}"})


def alone(url: str, remote: Path, teams: list[str]) -> list[float]:
    took = []
    with client(url) as http:
        for team in teams:
            change = Change(http, team)
            began = time.perf_counter()
            ids = {change.submit(http)}
            wait_pushed(remote, ids, 1)
            took.append(time.perf_counter() - began)
            succeeded(http, list(ids))
    return took


def together(url: str, remote: Path, teams: list[str]) -> tuple[float, list[str]]:
    """Wall time from releasing every client to the last change pushed; the ids."""
    http = [client(url) for _ in teams]
    changes = [Change(h, team) for h, team in zip(http, teams, strict=True)]
    ids: set[str] = set()
    lock = threading.Lock()
    start = threading.Barrier(len(teams) + 1)

    def run(n: int) -> None:
        start.wait()
        rid = changes[n].submit(http[n])
        with lock:
            ids.add(rid)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(teams))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    wait_pushed(remote, ids, len(teams))
    took = time.perf_counter() - began
    for thread in threads:
        thread.join()
    succeeded(http[0], sorted(ids))
    for h in http:
        h.close()
    return took, sorted(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.teams < args.changes + args.repeat + 1:
        raise SystemExit("--teams must exceed --changes + --repeat")
    names = [f"team-{n:04d}" for n in range(args.teams)]
    with tempfile.TemporaryDirectory(prefix="goldenpath-bench-batch-") as tmp:
        work = Path(tmp)
        root = generated_platform(work / "platform", args.teams, platform=platform_doc())
        remote, state = counted_remote(work / "remote.git"), work / "state"
        settings = Settings(state_dir=state, gitops_repo=str(remote), platform_dir=root)
        began = time.perf_counter()
        gitops.apply(root, str(remote), settings=settings)
        print(f"seeded {args.teams} teams in {time.perf_counter() - began:.1f}s", flush=True)
        port, log = free_port(), work / "server.log"
        url = f"http://127.0.0.1:{port}"
        server = start_server(root, remote, state, log, port, workers=1)
        try:
            wait_ready(server, url, log)
            warm = alone(url, remote, names[-1:])[0]
            singles = alone(url, remote, names[-1 - args.repeat:-1])
            before = pushes(remote)
            wall, ids = together(url, remote, names[:args.changes])
            pushed = pushes(remote) - before
        finally:
            stop_server(server)
        landed = request_ids(remote, args.changes)
        if sorted(landed) != sorted(ids):
            raise SystemExit("the last commits are not one per request")
    one = statistics.median(singles)
    print(f"\n{args.changes} concurrent team changes on {args.teams} teams "
          f"(first change of a fresh server: {warm:.2f}s)")
    print(f"  one change alone, PUT to pushed      median {one:6.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in singles)})")
    print(f"  {args.changes} changes together, until all pushed {wall:6.2f} s  "
          f"({args.changes} commits, {pushed} pushes)")
    print(f"ratio: {wall / one:.1f}x one change; target <= 5x: "
          f"{'met' if wall / one <= 5 else 'not met'}")
    record(f"API writes ({args.teams} teams, real server)",
           f"{args.changes} concurrent team changes until pushed",
           f"{wall:.1f} s ({wall / one:.1f}x; {pushed} pushes)",
           baseline=f"one change alone, {one:.2f} s (median of {len(singles)})",
           target="<= 5x", met=wall / one <= 5)


if __name__ == "__main__":
    main()
