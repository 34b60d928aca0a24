"""Argo CD's RBAC, evaluated the way its API server does, for the rendered AppProjects.

The decisions come from casbin (pycasbin) with Argo CD's own model
(``argocd-rbac-model.conf``); what this module adds is what Argo CD's server does around
casbin for a request on an application (``server/rbacpolicy`` and ``util/rbac`` in
argoproj/argo-cd):

- the project is the first segment of the object (``<project>/<application>``), and the
  policy evaluated is the global one (``argocd-rbac-cm``) plus that project's roles only
  (``AppProject.ProjectPoliciesString``: per role ``p, proj:<p>:<role>, projects, get, <p>,
  allow``, its policies, and ``g, <name>, proj:<p>:<role>`` for each of its groups);
- the subjects tried are the token's ``sub``, then each value of the claims named in
  ``scopes`` (``argocd-rbac-cm``; default ``[groups]``) that some ``g`` line binds;
- ``policy.default``, when set, is tried as a subject on every request.

``globOrRegexMatch`` in glob mode is gobwas/glob compiled without separators, so ``*``
matches any run of characters, ``/`` included: :func:`fnmatch.fnmatchcase` matches the
same for the patterns goldenpath renders (``*``, no braces or classes, refused below).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import casbin

MODEL = Path(__file__).with_name("argocd-rbac-model.conf")
#: Resources whose object names a project first (``<project>/<name>``).
PROJECT_SCOPED = frozenset({"applications", "applicationsets", "logs", "exec"})


def glob_match(value: str, pattern: str) -> bool:
    if any(c in pattern for c in "[]{}\\"):
        raise ValueError(f"{pattern!r}: only '*' and '?' globs are modelled here")
    return fnmatchcase(value, pattern)


@dataclass(frozen=True)
class Identity:
    """A logged-in Argo CD user: the token's ``sub`` and its other claims."""

    sub: str
    claims: Mapping[str, str | list[str]] = field(default_factory=dict)

    def scope_values(self, scopes: Iterable[str]) -> list[str]:
        values: list[str] = []
        for scope in scopes:
            claim = self.claims.get(scope, [])
            values += [claim] if isinstance(claim, str) else list(claim)
        return values


def _lines(text: str) -> list[list[str]]:
    rows = csv.reader(text.splitlines(), skipinitialspace=True)
    return [[cell.strip() for cell in row] for row in rows if row]


def project_policy(project: dict[str, Any]) -> str:
    """``AppProject.ProjectPoliciesString``: the casbin lines of a project's roles."""
    name, lines = project["metadata"]["name"], []
    for role in project["spec"].get("roles", []):
        subject = f"proj:{name}:{role['name']}"
        lines.append(f"p, {subject}, projects, get, {name}, allow")
        lines += role.get("policies", [])
        lines += [f"g, {group}, {subject}" for group in role.get("groups", [])]
    return "\n".join(lines)


@dataclass
class ArgoCD:
    """One Argo CD instance: its AppProjects and its ``argocd-rbac-cm`` settings."""

    projects: list[dict[str, Any]]
    policy_csv: str = ""
    policy_default: str = ""
    scopes: tuple[str, ...] = ("groups",)

    def _enforcer(self, project: str | None) -> casbin.Enforcer:
        enforcer = casbin.Enforcer(str(MODEL))
        enforcer.add_function("globOrRegexMatch", glob_match)
        text = self.policy_csv
        for body in self.projects:
            if body["metadata"]["name"] == project:
                text += "\n" + project_policy(body)
        for kind, *values in _lines(text):
            if kind == "p":
                enforcer.add_policy(*values)
            elif kind == "g":
                enforcer.add_grouping_policy(*values)
            else:
                raise ValueError(f"unknown policy line kind {kind!r}")
        return enforcer

    def allows(self, who: Identity, resource: str, action: str, obj: str) -> bool:
        """Whether Argo CD lets ``who`` do ``action`` on ``resource`` ``obj``."""
        project = obj.split("/", 1)[0] if resource in PROJECT_SCOPED else None
        enforcer = self._enforcer(project)

        def enforce(subject: str) -> bool:
            return any(bool(enforcer.enforce(s, resource, action, obj))
                       for s in (self.policy_default, subject) if s)

        if enforce(who.sub):
            return True
        bound = {row[0] for row in enforcer.get_grouping_policy()}
        return any(enforce(value) for value in who.scope_values(self.scopes) if value in bound)
