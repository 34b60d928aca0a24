"""Runtime settings (environment variables prefixed ``GOLDENPATH_``).

Defaults are the embedded ones the README's main command uses: the example platform in
``./platform``, state (local bare repositories, SQLite) under ``./.goldenpath``.
Authentication settings are checked here, at startup, so a misconfigured API refuses to
start rather than accepting tokens it should not (see :mod:`goldenpath.identity`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from goldenpath.errors import SettingsError

ENV_PREFIX = "GOLDENPATH_"
#: settings whose value must never appear in a message
_SECRET = frozenset({"gitops_token", "database_url", "admin_token"})

#: Signature algorithms an OIDC token may use: asymmetric only. ``none`` and the HMAC
#: family (HS*) are never offered: with HS* a verifier holding the issuer's *public* key
#: would accept tokens anyone can sign with it.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                         "ES256", "ES384", "ES512", "EdDSA")
#: a bootstrap admin token shorter than this can be guessed
ADMIN_TOKEN_MIN = 32
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def trusted_url_problem(url: str) -> str | None:
    """Why goldenpath will not fetch keys from ``url``, or None: HTTPS only, except plain
    HTTP to this machine's loopback (tests, a local issuer)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a URL"
    if not parts.scheme or not host:
        return "is not an absolute URL"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS):
        return None
    return "must be an https:// URL (http:// only to 127.0.0.1, ::1 or localhost)"


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
    #: migrate the database to this version's schema on start (the API, the workers);
    #: false: refuse to start on a schema behind this version, naming ``goldenpath
    #: migrate`` (deployments whose migration Job runs first, with an owner role)
    migrate_on_start: bool = True

    #: bootstrap admin bearer token (automation, tests); empty: none. Compared in
    #: constant time, never logged
    admin_token: SecretStr = SecretStr("")
    #: the OIDC issuer whose JWTs the API accepts (``iss``); empty: OIDC is off
    oidc_issuer: str = ""
    #: the ``aud`` the tokens must carry (the API's client id at the issuer)
    oidc_audience: str = ""
    #: the claim naming the user (``user:<value>``); ``sub`` when a token lacks it
    oidc_user_claim: str = Field(default="email", min_length=1, max_length=64)
    #: the claim listing the user's groups (``group:<value>`` each)
    oidc_groups_claim: str = Field(default="groups", min_length=1, max_length=64)
    #: where the issuer's keys are; empty: the ``jwks_uri`` of its discovery document
    oidc_jwks_url: str = ""
    oidc_algorithms: tuple[str, ...] = ("RS256", "ES256")
    #: clock skew tolerated on exp, nbf and iat
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=300)

    #: the API (``goldenpath serve``): request bodies over this many bytes get 413
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    #: worker threads the API process runs (0: none; workers run elsewhere)
    api_workers: int = Field(default=1, ge=0, le=16)
    #: how long a claimed request stays claimed without a heartbeat
    api_lease_seconds: float = Field(default=60.0, ge=1.0, le=3600.0)
    #: a request that met a down server (the git remote, the database) is given back to
    #: the queue and tried again after this many seconds, doubled at each retry...
    api_retry_seconds: float = Field(default=5.0, ge=0.1, le=3600.0)
    #: ...up to this many
    api_retry_max_seconds: float = Field(default=300.0, ge=0.1, le=86400.0)
    #: how long a write waits for its request to finish before answering 202
    api_write_wait_seconds: float = Field(default=2.0, ge=0.0, le=30.0)

    @field_validator("admin_token")
    @classmethod
    def _long_admin_token(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and len(value.get_secret_value()) < ADMIN_TOKEN_MIN:
            raise ValueError(f"must be at least {ADMIN_TOKEN_MIN} characters (for example "
                             "the output of `openssl rand -hex 32`)")
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        refused = [alg for alg in value if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not value:
            raise ValueError(f"{', '.join(refused) or 'an empty list'} is not allowed; "
                             f"choose among {', '.join(ASYMMETRIC_ALGORITHMS)}")
        return value

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        for name in ("oidc_issuer", "oidc_jwks_url"):
            url = getattr(self, name)
            problem = url and trusted_url_problem(url)
            if problem:
                raise ValueError(f"GOLDENPATH_{name.upper()}: {url!r} {problem}")
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("GOLDENPATH_OIDC_AUDIENCE must be set with GOLDENPATH_OIDC_ISSUER: "
                             "without it, a token the issuer made for any other application "
                             "would be accepted")
        return self

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
