"""Readiness: can this process do its work now? The database answers, with a schema this
version works on (not one behind it: ``goldenpath migrate`` then; see
:func:`goldenpath.store.migrate.check`), and the GitOps repository answers ``git
ls-remote`` (the embedded one counts as ready before the first apply creates it)."""

from __future__ import annotations

from goldenpath.errors import GoldenpathError
from goldenpath.gitops.repo import check_reachable
from goldenpath.services.gitops import remote_for
from goldenpath.settings import Settings
from goldenpath.store import Store


def readiness(settings: Settings, store: Store) -> dict[str, str]:
    """Each dependency's state: ``ok``, or what is wrong with it."""
    checks: dict[str, str] = {}
    try:
        store.ping()
        # a replica whose code is newer than the schema (not migrated yet) is not ready
        checks["database"] = store.check_schema()
    except GoldenpathError as err:
        checks["database"] = str(err)
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
