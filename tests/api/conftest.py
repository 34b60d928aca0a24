"""An API over a tmp copy of the example platform and its templates, with a tmp state
directory (embedded repositories, SQLite), and tokens for every role. Its embedded
control repository is seeded from the copy, as ``goldenpath serve`` seeds it: the API's
specs are the repository's (``platform_dir`` is only where they came from).

Modules that mark ``pytestmark = BOTH_DATABASES`` run each test on SQLite and on a
database of its own on the session's real PostgreSQL server (tests/store/pg.py)."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.settings import Settings
from goldenpath.store import Store
from tests.factories import EXAMPLE_PLATFORM, ROOT
from tests.store.conftest import pg_server  # noqa: F401  (a fixture)
from tests.store.pg import Server

BOTH_DATABASES = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)

ADMIN_TOKEN = "test-admin-token-" + "0" * 32
#: who each role is in the example platform (payments: owner alice, members
#: group:payments-devs, viewers group:support); admins are group:platform-admins
SUBJECTS = {
    "admin": "group:platform-admins",
    "owner": "user:alice@example.com",
    "member": "group:payments-devs",
    "viewer": "group:support",
    "stranger": "user:mallory@example.com",
    "other-owner": "user:bob@example.com",  # owns storefront, no role in payments
}


def make_settings(root: Path, **overrides: Any) -> Settings:
    shutil.copytree(EXAMPLE_PLATFORM, root / "platform")
    for name in ("python-service", "python-worker"):
        shutil.copytree(ROOT / "templates" / name, root / "tpl" / "templates" / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    values: dict[str, Any] = {
        "platform_dir": root / "platform", "state_dir": root / "state",
        "templates_root": root / "tpl", "admin_token": ADMIN_TOKEN,
        "api_write_wait_seconds": 0.0, **overrides}
    return Settings(**values)


@dataclass
class Api:
    client: TestClient
    settings: Settings
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        if role == "none":
            return {}
        if role == "bootstrap":
            return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    @property
    def repos(self) -> Path:
        return self.settings.state_dir / "repos"

    @property
    def control(self) -> Path:
        """The embedded control repository (bare), which the lifespan seeded."""
        return self.settings.embedded_gitops_repo

    def repositories(self) -> list[str]:
        """Every service repository created, as team/service."""
        if not self.repos.is_dir():
            return []
        return sorted(f"{p.parent.name}/{p.name.removesuffix('.git')}"
                      for p in self.repos.glob("*/*.git"))


def mint_all(client: TestClient) -> dict[str, str]:
    tokens = {}
    for role, subject in SUBJECTS.items():
        answer = client.post("/v1/tokens", json={"subject": subject, "name": role},
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert answer.status_code == 201, answer.text
        tokens[role] = answer.json()["secret"]
    return tokens


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """Empty for SQLite (under the state directory), else a new PostgreSQL database."""
    if backend == "sqlite":
        yield ""
        return
    server: Server = request.getfixturevalue("pg_server")
    name = f"api_{uuid.uuid4().hex[:16]}"
    server.create_database(name)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, seed=True)) as client:
        yield Api(client, settings, mint_all(client))


@pytest.fixture
def idle_api(tmp_path: Path, database_url: str) -> Iterator[Api]:
    """No worker threads: requests stay queued until a test runs a worker itself."""
    settings = make_settings(tmp_path, api_workers=0, database_url=database_url)
    with TestClient(create_app(settings, seed=True)) as client:
        yield Api(client, settings, mint_all(client))


class Clock:
    """A clock the test moves (``clock.now += ...``): leases and backoffs expire on cue."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(idle_api: Api, clock: Clock) -> Iterator[Store]:
    """A second store on the idle API's database, on the test's clock."""
    opened = Store(idle_api.settings.database_url.get_secret_value(),
                   sqlite_path=idle_api.settings.database_path, clock=clock)
    yield opened
    opened.close()


def wait_final(api: Api, rid: str, role: str = "admin", seconds: float = 60) -> dict[str, Any]:
    """The request ``rid`` once it is final, as ``role`` sees it (fails after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body: dict[str, Any] = api.client.get(f"/v1/requests/{rid}",
                                              headers=api.auth(role)).json()
        if body["state"] in {"succeeded", "failed", "rejected"}:
            return body
        time.sleep(0.05)
    raise AssertionError(f"request {rid} did not finish")
