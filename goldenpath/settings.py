"""Runtime settings (environment variables prefixed ``GOLDENPATH_``).

Defaults are the embedded ones the README's main command uses: the example platform in
``./platform``, state (local bare repositories, SQLite) under ``./.goldenpath``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GOLDENPATH_", extra="ignore")

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
    return Settings()
