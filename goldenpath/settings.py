"""Runtime settings (environment variables prefixed ``GOLDENPATH_``).

Defaults are the embedded ones the README's main command uses: the example platform in
``./platform``, state (local bare repositories, SQLite) under ``./.goldenpath``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from goldenpath.errors import SettingsError

ENV_PREFIX = "GOLDENPATH_"
#: settings whose value must never appear in a message
_SECRET = frozenset({"gitops_token"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    platform_dir: Path = Path("platform")
    #: where local state lives: the embedded GitOps remote, service repos, the database
    state_dir: Path = Path(".goldenpath")
    #: GitOps repository URL or path; empty means the embedded bare repository
    gitops_repo: str = ""
    #: credentials for an HTTPS GitOps remote; never logged
    gitops_username: str = ""
    gitops_token: SecretStr = SecretStr("")
    #: template root; template paths in platform.yaml are relative to it
    templates_root: Path = Path(".")
    #: where new-service pushes: "embedded" (a local bare repository under
    #: state_dir/repos/<team>/<service>.git) or "platform" (serviceRepos.urlTemplate)
    service_repos: Literal["embedded", "platform"] = "embedded"
    #: the request/audit database (SQLAlchemy URL: postgresql://user:password@host/db);
    #: empty means SQLite at state_dir/goldenpath.db. Secret: it may carry a password
    database_url: SecretStr = SecretStr("")

    @property
    def embedded_gitops_repo(self) -> Path:
        return self.state_dir / "gitops.git"

    @property
    def database_path(self) -> Path:
        """The embedded SQLite database, used when database_url is empty."""
        return self.state_dir / "goldenpath.db"

    @property
    def spec_cache_dir(self) -> Path:
        """Validated spec models of files loaded before (see goldenpath.spec.cache)."""
        return self.state_dir / "cache" / "spec"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment; an invalid variable is a SettingsError naming
    it, its value (never a secret's) and what it accepts."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError("\n".join(_problem(e) for e in error.errors(include_url=False))) \
            from error


def _problem(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = f"{ENV_PREFIX}{field.upper()}"
    if field in _SECRET:
        return f"{name}: {error['msg']}"
    return f"{name}: {error['input']!r}: {error['msg']}"
