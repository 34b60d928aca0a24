"""What routes depend on, as ``Annotated`` aliases: settings, the store, the caller, the
platform's specs.

Settings come from the cached :func:`goldenpath.settings.get_settings`; tests (and
:func:`api.main.create_app` given explicit settings) override it with
``app.dependency_overrides``. The store and the authenticator are built once by the
lifespan and kept on ``app.state``. Blocking dependencies (token lookup, spec loading)
are ``def``: FastAPI runs them in its thread pool, never on the event loop.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from goldenpath.errors import NotFound
from goldenpath.identity import Authenticator, Principal
from goldenpath.services import gitops, teams
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import PlatformSpec
from goldenpath.store import Store

SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def get_principal(request: Request, authorization: Annotated[
        str | None, Header(description="`Bearer <token>`: the bootstrap admin token, an "
                           "API token or an OIDC JWT")] = None) -> Principal:
    """The caller; Unauthorized (401) without a token goldenpath accepts."""
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(authorization)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_spec(settings: SettingsDep) -> PlatformSpec:
    """The platform's specs as they are now: as the control repository holds them once it
    holds any (the one source of truth: the team routes write there, so who may do what is
    decided there too, or an owner removed through the API could still scaffold), else the
    platform directory (validated; cached by file digest)."""
    try:
        return teams.current_platform(teams.Where(settings=settings))
    except NotFound:  # the repository holds no specs yet
        return gitops.load_specs(settings.platform_dir, settings)


SpecDep = Annotated[PlatformSpec, Depends(get_spec)]

IdempotencyKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=255,
    description="Send the same key again to retry safely: the first answer comes back and "
                "nothing is done twice")]
