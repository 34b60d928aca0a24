"""``goldenpath migrate`` as the deployment's PreSync Job runs it: a process of its own
against a database never migrated, on SQLite and a real PostgreSQL; two at once (a Job
retried while the first still runs, or racing a replica's own start) both succeed and
migrate once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from goldenpath.store import migrate
from tests.store.conftest import Target

COMMAND = [sys.executable, "-c", "from goldenpath.cli import main; main()", "migrate"]


def _start(target: Target, state: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(GOLDENPATH_DATABASE_URL=target.url, GOLDENPATH_STATE_DIR=str(state),
               PYTHONPATH=os.pathsep.join(sys.path))
    return subprocess.Popen(COMMAND, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def test_two_migrations_at_once_migrate_once(empty_target: Target, tmp_path: Path) -> None:
    state = empty_target.sqlite_path.parent  # SQLite: <state>/goldenpath.db, as in a pod
    if empty_target.backend == "sqlite":
        empty_target = Target("sqlite", "", state / "goldenpath.db")
    processes = [_start(empty_target, state) for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    head = migrate.head()
    assert sorted(line.rsplit(" ", 1)[-1].strip() for line in outputs) == [head, head]
    assert sum(f"schema migrated from empty to {head}" in out for out in outputs) == 1, outputs
    assert sum(f"schema already at {head}" in out for out in outputs) == 1, outputs
    store = empty_target.open()
    try:
        assert migrate.current(store.db) == head
    finally:
        store.close()
