"""A replica's worker as a process of its own, for the rolling-update tests: run with
the previous release's code (``PYTHONPATH`` = its extracted package) or this one's.

It uses only what both releases have (``Settings`` from the environment, ``Store``,
``Worker`` and ``Queue``), so the same file drives either. Never migrates: like a pod
started before the migration Job ran, it works on the schema it finds.

    python replica.py work <name> <dir> [team ...]  # submit onboardings of the teams,
                                                    # then claim and do requests until
                                                    # none is left
    python replica.py hold <name> <dir>   # claim one with a 1 s lease, complete it late

``<dir>`` is where the test and the processes meet: each writes ``<name>.ready`` and
waits for ``go``; ``hold`` writes ``<name>.claimed`` and then waits for ``late``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from pathlib import Path

from goldenpath import __version__
from goldenpath.errors import Conflict
from goldenpath.services.worker import Worker
from goldenpath.settings import Settings
from goldenpath.store import Store

#: no process of this file outlives a test that hangs
DEADLINE_S = 120


def _wait(path: Path) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"{path} never appeared")
        time.sleep(0.02)


def onboarding(team: str) -> dict[str, object]:
    """A ``team.create`` payload as both releases' API submit it."""
    return {"spec": {"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
                     "metadata": {"name": team},
                     "spec": {"displayName": team.title(), "costCenter": "CC-9",
                              "owners": ["user:alice@example.com"], "environments": ["dev"]}}}


def work(settings: Settings, store: Store, name: str, meet: Path, teams: list[str]) -> None:
    for team in teams:  # this release's INSERTs, on whatever schema the database has
        store.requests.submit(kind="team.create", team=team, actor="admin",
                              payload=onboarding(team))
    # one request per claim, so two replicas interleave instead of one taking them all
    worker = Worker(settings, store, name, lease=timedelta(seconds=30), batch=1)
    (meet / f"{name}.ready").write_text(__version__)
    _wait(meet / "go")
    deadline = time.monotonic() + DEADLINE_S
    idle = 0
    while time.monotonic() < deadline and idle < 10:  # ~1 s with nothing to claim
        if worker.run_once():
            idle = 0
            # a pause between requests, as between a replica's API calls: two workers
            # pushing back to back to one remote otherwise race for every push, and a
            # change that loses MAX_ATTEMPTS races in a row fails (PushRejected)
            time.sleep(0.2)
        else:
            idle += 1
            time.sleep(0.1)


def hold(store: Store, name: str, meet: Path) -> None:
    (meet / f"{name}.ready").write_text(__version__)
    _wait(meet / "go")
    (claim,) = store.queue.claim(name, version=__version__, lease=timedelta(seconds=1))
    (meet / f"{name}.claimed").write_text(claim.request.id)
    _wait(meet / "late")
    try:
        store.queue.complete(claim, succeeded=True, result={"by": name})
        outcome = "completed"
    except Conflict as err:
        outcome = f"Conflict: {err}"
    (meet / f"{name}.outcome").write_text(json.dumps(outcome))


def main(mode: str, name: str, meet: Path, teams: list[str]) -> None:
    settings = Settings()
    store = Store(settings.database_url.get_secret_value(), sqlite_path=settings.database_path)
    try:
        if mode == "work":
            work(settings, store, name, meet, teams)
        else:
            hold(store, name, meet)
    finally:
        store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4:])
