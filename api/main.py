"""The application factory and its lifespan.

``create_app(settings)`` builds the app and nothing else: no database is opened, no thread
started at import or build time. The lifespan does that work and undoes it, in order:

1. open the store (migrating its schema to head, several replicas may start at once; or,
   with ``GOLDENPATH_MIGRATE_ON_START=false``, refusing a schema behind this version);
2. in embedded mode (SQLite) without ``GOLDENPATH_ADMIN_TOKEN``, when ``bootstrap`` is
   asked for (``goldenpath serve``): create the bootstrap admin token once and print it
   once; later starts find it and print nothing;
3. in embedded mode (no ``GOLDENPATH_GITOPS_REPO``), when ``seed`` is asked for (it is
   with ``bootstrap``): fill the local control repository from the platform directory
   if it holds no specs yet (:func:`goldenpath.services.teams.seed`); from then on the
   team endpoints read and write the repository's specs, never the directory;
4. build the Authenticator (bootstrap admin token, OIDC, API tokens from the store);
5. start ``GOLDENPATH_API_WORKERS`` worker threads claiming requests from the store;

and on shutdown stops the workers (each finishes its current request), then closes the
store. Errors become HTTP answers in :mod:`api.errors`, one handler per error type.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from api import errors
from api.metrics import Metrics
from api.middleware import BodyLimit, RequestContext
from api.routes import (
    audit,
    catalog,
    health,
    requests,
    services,
    teams,
    templates,
    tokens,
)
from goldenpath import __version__
from goldenpath.identity import Authenticator, Principal
from goldenpath.services.health import prepare_state
from goldenpath.services.teams import Where
from goldenpath.services.teams import seed as seed_specs
from goldenpath.services.worker import Worker
from goldenpath.settings import Settings, get_settings
from goldenpath.store import Store, open_store
from goldenpath.store.tokens import BOOTSTRAP_ID

log = logging.getLogger("api")
PREFIX = "/v1"
_DESCRIPTION = """The self-service API of goldenpath: teams scaffold services, follow
durable requests and read the catalog; platform admins approve requests, read the audit
trail and mint API tokens. Authenticate with `Authorization: Bearer <token>`."""


def _api_tokens(store: Store) -> Callable[[str], Principal | None]:
    def lookup(secret: str) -> Principal | None:
        token = store.tokens.verify(secret)
        if token is None:
            return None
        if token.id == BOOTSTRAP_ID:
            return Principal.bootstrap_admin()
        return Principal.of([token.subject], actor=token.subject)
    return lookup


def _bootstrap(settings: Settings, store: Store) -> None:
    if settings.admin_token.get_secret_value() or settings.database_url.get_secret_value():
        return
    minted = store.tokens.ensure_bootstrap(subject="admin")
    if minted is not None:  # printed once, never logged: logs are kept and shipped
        print(f"goldenpath: bootstrap admin token (shown once, stored hashed): "
              f"{minted.secret}", file=sys.stderr, flush=True)


def _start_workers(app: FastAPI, settings: Settings,
                   store: Store) -> list[tuple[Worker, threading.Thread]]:
    workers = []
    for n in range(settings.api_workers):
        worker = Worker(settings, store, f"{os.uname().nodename}-{os.getpid()}-{n}",
                        lease=timedelta(seconds=settings.api_lease_seconds),
                        retry=timedelta(seconds=settings.api_retry_seconds),
                        retry_max=timedelta(seconds=settings.api_retry_max_seconds),
                        observe=app.state.metrics.observe_work)
        thread = threading.Thread(target=worker.run, name=f"goldenpath-worker-{n}",
                                  daemon=True)
        thread.start()
        workers.append((worker, thread))
    return workers


def _stop_workers(workers: list[tuple[Worker, threading.Thread]], wait: float) -> None:
    """Ask every worker to stop, then wait for each to finish its current request (one
    still busy after ``wait`` is left to its lease: another worker takes it over)."""
    for worker, _ in workers:
        worker.stop()
    for _, thread in workers:
        thread.join(wait)


def _seed(settings: Settings) -> None:
    if settings.gitops_repo:
        return
    seeded = seed_specs(settings.platform_dir, Where(settings=settings))
    if seeded is not None:
        log.info("seeded the control repository from %s (%s)", settings.platform_dir,
                 seeded.commit)


def create_app(settings: Settings | None = None, *, bootstrap: bool = False,
               seed: bool | None = None) -> FastAPI:
    """The API. ``settings`` override the environment's (tests, ``goldenpath serve``);
    ``seed`` (default: ``bootstrap``) seeds an empty embedded control repository."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        current = settings or get_settings()
        prepare_state(current)
        store = open_store(current)
        try:
            if bootstrap:
                _bootstrap(current, store)
            if bootstrap if seed is None else seed:
                _seed(current)
            app.state.store = store
            app.state.authenticator = Authenticator.from_settings(
                current, api_tokens=_api_tokens(store))
            metrics.watch(store)
            workers = _start_workers(app, current, store)
            log.info("goldenpath API %s ready: database %s, %d worker(s)", __version__,
                     store.display, len(workers))
            try:
                yield
            finally:
                _stop_workers(workers, current.api_lease_seconds)
        finally:
            store.close()

    app = FastAPI(title="goldenpath", version=__version__, description=_DESCRIPTION,
                  lifespan=lifespan, docs_url="/docs", openapi_url="/openapi.json")
    app.state.metrics = metrics
    if settings is not None:
        app.dependency_overrides[get_settings] = lambda: settings
    errors.register(app)
    for module in (health, teams, templates, services, requests, audit, tokens, catalog):
        app.include_router(module.router, prefix=PREFIX)
    limit = (settings or get_settings()).api_max_body_bytes
    app.add_middleware(BodyLimit, limit=limit)
    app.add_middleware(RequestContext, metrics=metrics, prefix=PREFIX)
    return app


def serve_app() -> FastAPI:
    """The app ``goldenpath serve`` runs: JSON logs, settings from the environment, the
    bootstrap admin token created (and printed once) in embedded mode."""
    from api import logs

    logs.configure()
    return create_app(bootstrap=True)
