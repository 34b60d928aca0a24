"""The one error tree of goldenpath.

Every failure a user can cause or meet is one of these; third-party errors (git,
cookiecutter, PyYAML, pydantic, ...) are wrapped at the adapter that calls them and
re-raised with ``raise ... from err`` so callers never depend on a library's types::

    GoldenpathError
    ├── SpecError          a spec file is unreadable or invalid (carries every SpecIssue)
    ├── PolicyViolation    a rendered Bundle breaks a guardrail (carries every Violation)
    ├── NotFound           a team, service, template or repository does not exist
    ├── Conflict           the thing exists already, or someone else changed it first
    ├── GitError           a git operation failed (credentials are redacted)
    ├── TemplateError      a golden-path template could not be rendered or merged
    ├── StoreError         the request/audit store failed
    ├── Unauthorized       no bearer token, or one that proves nobody (API: 401)
    ├── Forbidden          the caller is known but may not do this (API: 403)
    └── IdentityProviderError  the OIDC issuer could not be reached or answered nonsense (503)

The CLI maps them to exit code 1 and prints ``str(error)``; the API maps each type to one
HTTP status in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GoldenpathError(Exception):
    """Base of every error goldenpath raises on purpose."""


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem in one spec file: where it is, what was found, and which rule it breaks."""

    file: str
    path: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        if self.has_value:
            return f"{where}: {_show(self.value)}: {self.message}"
        return f"{where}: {self.message}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class SpecError(GoldenpathError):
    """The platform or a team spec is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.path, i.message))
        count = len(self.issues)
        head = f"{count} spec error{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *(f"  {issue}" for issue in self.issues)]))


@dataclass(frozen=True, slots=True)
class Violation:
    """One guardrail broken by one object."""

    guardrail: str
    object_ref: str
    message: str

    def __str__(self) -> str:
        return f"[{self.guardrail}] {self.object_ref}: {self.message}"


class PolicyViolation(GoldenpathError):
    """The rendered Bundle breaks at least one guardrail; nothing may be written."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        count = len(violations)
        head = f"{count} guardrail violation{'s' if count != 1 else ''}; nothing was written"
        super().__init__("\n".join([head, *(f"  {v}" for v in violations)]))


class NotFound(GoldenpathError):
    """A named thing (team, service, template, repository) does not exist."""

    def __init__(self, message: str, *, kind: str = "", name: str = "") -> None:
        self.kind = kind
        self.name = name
        super().__init__(message)


class Conflict(GoldenpathError):
    """The thing exists already, or it changed underneath us."""


class GitError(GoldenpathError):
    """A git operation failed. Messages never carry credentials."""


class TemplateError(GoldenpathError):
    """A golden-path template could not be rendered, recorded or merged."""


class StoreError(GoldenpathError):
    """The request, task or audit store failed."""


class Unauthorized(GoldenpathError):
    """The request carries no bearer token, or one goldenpath does not accept (expired,
    wrong issuer or audience, bad signature, unknown key, ...). Messages never carry any
    part of the token."""


class Forbidden(GoldenpathError):
    """The caller is authenticated but may not do this. For a team the caller has no role
    in, the message is the same whether the team exists or not."""


class IdentityProviderError(GoldenpathError):
    """The OIDC issuer's discovery document or JWKS could not be fetched or made no sense:
    nobody's token can be checked right now, which is not the caller's fault."""
