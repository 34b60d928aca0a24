"""What the platform offers and holds, for portals: its templates (with their parameters
as JSON Schema) and its teams and services as Backstage catalog entities.

Pure reads of the specs and the template directories; nothing is written.

Entities follow Backstage's descriptor format (``backstage.io/v1alpha1``): per team a
``Group`` (its owners and members as ``spec.members`` when they are users; groups of the
identity provider are not Backstage users) and a ``System`` owned by it; per service a
``Component`` of that system, annotated so Backstage's Kubernetes, Argo CD and source
plugins find it: ``backstage.io/kubernetes-id`` (the service name, as the templates label
workloads), ``argocd/app-name`` (the production Application, by the same naming the
renderer uses, or the first environment's when there is no prod) and
``backstage.io/source-location`` (``url:`` of the service repository).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from goldenpath.scaffold.catalog import TemplateInfo, load_template, parameters_schema
from goldenpath.spec import PlatformSpec
from goldenpath.spec.models import ServiceSpec, Team
from goldenpath.spec.resolve import application_name

API_VERSION = "backstage.io/v1alpha1"
_PREFERRED_ENVIRONMENT = "prod"


def templates(spec: PlatformSpec, root: Path) -> list[tuple[TemplateInfo, dict[str, Any]]]:
    """Each template the platform lists, with its parameters' JSON Schema."""
    found = [load_template(ref, root) for ref in spec.platform.spec.templates]
    return [(info, parameters_schema(info)) for info in found]


def entities(spec: PlatformSpec, teams: list[str], repository_url: Any) -> list[dict[str, Any]]:
    """The Backstage entities of ``teams``; ``repository_url(team, service)`` says where
    each service's repository is."""
    out: list[dict[str, Any]] = []
    for name in teams:
        team = spec.team(name)
        out += [_group(team), _system(team)]
        out += [_component(team, s, repository_url(team.name, s.name))
                for s in team.spec.services]
    return out


def _meta(name: str, title: str, **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "title": title}
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def _users(subjects: list[str]) -> list[str]:
    return sorted({s.removeprefix("user:") for s in subjects if s.startswith("user:")})


def _group(team: Team) -> dict[str, Any]:
    body = team.spec
    return {"apiVersion": API_VERSION, "kind": "Group",
            "metadata": {**_meta(team.name, body.display_name or team.name),
                         "annotations": {"goldenpath.dev/owners": ",".join(body.owners),
                                         "goldenpath.dev/members": ",".join(body.members)}},
            "spec": {"type": "team", "profile": {"displayName": body.display_name or team.name},
                     "children": [],
                     "members": _users([*body.owners, *body.members])}}


def _system(team: Team) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": "System",
            "metadata": _meta(team.name, team.spec.display_name or team.name),
            "spec": {"owner": f"group:default/{team.name}"}}


def _component(team: Team, service: ServiceSpec, repository: str) -> dict[str, Any]:
    envs = team.spec.environments
    env = _PREFERRED_ENVIRONMENT if _PREFERRED_ENVIRONMENT in envs else envs[0]
    annotations = {
        "backstage.io/kubernetes-id": service.name,
        "argocd/app-name": application_name(team.name, service.name, env),
        "backstage.io/source-location": f"url:{repository}",
    }
    return {"apiVersion": API_VERSION, "kind": "Component",
            "metadata": {**_meta(f"{team.name}-{service.name}", service.name, **annotations),
                         "tags": [service.template]},
            "spec": {"type": "service", "lifecycle": "production",
                     "owner": f"group:default/{team.name}", "system": team.name}}
