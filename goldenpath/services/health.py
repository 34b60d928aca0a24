"""Readiness: can this process do its work now? The database answers, with a schema this
version works on (not one behind it: ``goldenpath migrate`` then; see
:func:`goldenpath.store.migrate.check`), the GitOps repository answers ``git ls-remote``
(the embedded one counts as ready before the first apply creates it), and the state
directory takes a write (a small file written whole, flushed to the disk and removed: a
full disk, a read-only or vanished directory fail it)."""

from __future__ import annotations

import os
from pathlib import Path

from goldenpath.errors import GoldenpathError
from goldenpath.gitops.repo import check_reachable
from goldenpath.services.gitops import remote_for, usable_state_dir
from goldenpath.settings import Settings
from goldenpath.statefile import state_error, write_atomic
from goldenpath.store import Store

#: what the readiness probe writes in the state directory (and removes)
PROBE = ".goldenpath-ready"


def readiness(settings: Settings, store: Store) -> dict[str, str]:
    """Each dependency's state: ``ok``, or what is wrong with it."""
    checks: dict[str, str] = {}
    try:
        store.ping()
        # a replica whose code is newer than the schema (not migrated yet) is not ready
        checks["database"] = store.check_schema()
    except GoldenpathError as err:
        checks["database"] = str(err)
    checks["state"] = writable(settings.state_dir)
    remote = remote_for(None, settings)
    if not settings.gitops_repo and not (settings.embedded_gitops_repo / "HEAD").is_file():
        checks["git"] = "ok (the embedded repository is created by the first apply)"
        return checks
    try:
        check_reachable(remote)
        checks["git"] = "ok"
    except GoldenpathError as err:
        checks["git"] = str(err)
    return checks


def writable(state_dir: Path) -> str:
    """``ok`` when ``state_dir`` takes a write, else what is wrong and what to do."""
    try:
        _probe(state_dir)
    except OSError as error:
        return str(state_error(state_dir, error))
    return "ok"


def prepare_state(settings: Settings) -> None:
    """Make the state directory and its spec cache, and prove it takes a write
    (``goldenpath serve``, before the API starts): a path that is a file, a directory
    that cannot be written or a full disk is a FileSystemError saying which and what to
    do, not a traceback."""
    usable_state_dir(settings.state_dir)
    try:
        settings.spec_cache_dir.mkdir(parents=True, exist_ok=True)
        _probe(settings.state_dir)
    except OSError as error:
        raise state_error(settings.state_dir, error) from error


def _probe(state_dir: Path) -> None:
    probe = state_dir / PROBE
    write_atomic(probe, f"{os.getpid()}\n".encode())
    probe.unlink()
