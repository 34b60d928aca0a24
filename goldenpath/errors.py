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
    │   └── RemoteUnavailable  the git server could not be reached: retry later
    ├── TemplateError      a golden-path template could not be rendered or merged
    ├── TooLarge           an input is over its size bound (nothing was stored)
    ├── StoreError         the request/audit store failed
    │   └── StoreUnavailable   its database cannot be reached: retry later
    ├── SettingsError      a GOLDENPATH_* environment variable is invalid
    ├── FileSystemError    a local directory goldenpath must use (--out, the state
    │   │                  directory) is not one, or cannot be written
    │   └── DiskFull       the disk it writes to is full (or the file size limit is
    │                      reached): retry once there is room
    ├── Unauthorized       no bearer token, or one that proves nobody (API: 401)
    ├── Forbidden          the caller is known but may not do this (API: 403)
    └── IdentityProviderError  the OIDC issuer could not be reached or answered nonsense (503)

The two ``*Unavailable`` errors and ``DiskFull`` are transient: nothing is wrong with
what was asked, a server goldenpath depends on is down or its disk is full. The API
answers them with 503, and the worker gives a request that met one back to the queue to
retry later rather than failing it.

The CLI maps them to exit code 1 and prints ``str(error)``; the API maps each type to one
HTTP status in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class GoldenpathError(Exception):
    """Base of every error goldenpath raises on purpose."""


@dataclass(frozen=True, slots=True)
class SpecIssue:
    """One problem in one spec file: where it is, what was found, and which rule it breaks.

    Its text is one line whatever a tenant wrote: the value is shown bounded (at most
    :data:`SHOWN_CHARS` characters, built without walking more of it than that), and
    every character that is not printable (newlines, escape sequences, bidirectional
    overrides) is escaped in the file, path, value and message, so no value can forge
    another line of output."""

    file: str
    path: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        path = _printable(self.path)
        if len(path) > _PATH_CHARS:  # dict keys a tenant chose are part of the path
            path = path[:_PATH_CHARS - 3] + "..."
        where = f"{_printable(self.file)}: {path}" if path else _printable(self.file)
        if self.has_value:
            return f"{where}: {_show(self.value)}: {_printable(self.message)}"
        return f"{where}: {_printable(self.message)}"


#: The most characters of a value an error shows.
SHOWN_CHARS = 80
_PATH_CHARS = 200
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _show(value: Any) -> str:
    """``value`` as an error shows it: a string in double quotes, anything else much as
    Python writes it; at most :data:`SHOWN_CHARS` characters."""
    if isinstance(value, str):
        inner = "".join(_escape(c) for c in value[:SHOWN_CHARS])
        if len(value) <= SHOWN_CHARS and len(inner) + 2 <= SHOWN_CHARS:
            return f'"{inner}"'
        return f'"{inner[:SHOWN_CHARS - 5]}"...'
    pieces: list[str] = []
    size = 0
    for piece in _pieces(value):  # lazily: a shared structure may be vast when walked
        pieces.append(piece)
        size += len(piece)
        if size > SHOWN_CHARS:
            break
    return _cut("".join(pieces))


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 3] + "..."


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    return char if char.isprintable() else repr(char)[1:-1]


def _printable(text: str) -> str:
    return text if text.isprintable() else "".join(
        c if c.isprintable() else _escape(c) for c in text)


def _pieces(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield repr(value[:SHOWN_CHARS + 1])  # repr escapes what is not printable
    elif isinstance(value, bool | float) or value is None:
        yield repr(value)
    elif isinstance(value, int):  # Python refuses to write ints of over 4,300 digits
        yield str(value) if value.bit_length() < 256 else f"<integer of {value.bit_length()} bits>"
    elif isinstance(value, dict):
        yield "{"
        for i, (key, item) in enumerate(value.items()):
            yield ", " if i else ""
            yield from _pieces(key)
            yield ": "
            yield from _pieces(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for i, item in enumerate(value):
            yield ", " if i else ""
            yield from _pieces(item)
        yield "]"
    else:
        yield f"<{type(value).__name__}>"


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


class RemoteUnavailable(GitError):
    """A git remote could not be reached (connection refused, no route, name not
    resolved, timed out, a gateway error): the same operation may pass later. A remote
    that answered and refused (a rejected push, a missing repository, bad credentials)
    is a plain GitError."""


class TemplateError(GoldenpathError):
    """A golden-path template could not be rendered, recorded or merged."""


class TooLarge(GoldenpathError):
    """An input (a request payload, a name, a key) is over its size bound."""


class StoreError(GoldenpathError):
    """The request, task or audit store failed, or its database cannot be reached."""


class StoreUnavailable(StoreError):
    """The store's database cannot be reached (down, restarting, refusing connections):
    the same operation may pass later."""


class SettingsError(GoldenpathError):
    """A ``GOLDENPATH_*`` environment variable has a value goldenpath cannot use."""


class FileSystemError(GoldenpathError):
    """A local path goldenpath must read or write (``render --out``, the state directory)
    is not a directory, or cannot be written. Messages name the path and what to do."""


class DiskFull(FileSystemError):
    """A write failed for want of room: no space left on the device (ENOSPC), the quota
    (EDQUOT) or the file size limit (EFBIG; git killed by SIGXFSZ) reached, where
    goldenpath writes (its state directory, TMPDIR) or, as git reports it, on a git
    server it pushes to. Nothing was written in part: the same operation may pass once
    there is room. Messages name where and what to free."""


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
