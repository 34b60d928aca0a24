"""The Bundle: the ordered list of Kubernetes objects one platform spec renders to.

Every consumer (the GitOps writer, the Pulumi program, the guardrails, the API) reads a
Bundle and nothing else, so they cannot disagree. Each object carries its coordinates:
which cluster it goes to, and which team, environment and service it belongs to
(``None`` for platform-owned objects).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

#: Apply order for kinds; unknown kinds sort after these, by name.
KIND_ORDER = (
    "Namespace",
    "ClusterRole",
    "ServiceAccount",
    "ResourceQuota",
    "LimitRange",
    "NetworkPolicy",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "ServiceMonitor",
    "PrometheusRule",
    "AlertmanagerConfig",
    "AppProject",
    "Application",
    "ApplicationSet",
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}


@dataclass(frozen=True, slots=True, order=True)
class Coordinates:
    """Where an object belongs. ``team``/``environment``/``service`` are ``None`` when
    the object is platform-owned or not specific to one of them."""

    cluster: str
    team: str | None = None
    environment: str | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    """One Kubernetes object and its coordinates. ``body`` is the full manifest."""

    coords: Coordinates
    body: dict[str, Any]
    #: the renderer concern that produced it (tenancy, network, rbac, argocd, observability)
    concern: str = field(default="", compare=False)

    @property
    def api_version(self) -> str:
        return str(self.body["apiVersion"])

    @property
    def kind(self) -> str:
        return str(self.body["kind"])

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])

    @property
    def namespace(self) -> str | None:
        value = self.body["metadata"].get("namespace")
        return None if value is None else str(value)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """Identity on a cluster: (cluster, apiVersion, kind, namespace, name)."""
        return (self.coords.cluster, self.api_version, self.kind, self.namespace or "", self.name)

    @property
    def ref(self) -> str:
        """Human-readable reference, e.g. ``prod/NetworkPolicy payments-prod/default-deny``."""
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.coords.cluster}/{self.kind} {where}{self.name}"

    def sort_key(self) -> tuple[Any, ...]:
        c = self.coords
        return (
            c.cluster,
            c.team or "",
            c.environment or "",
            c.service or "",
            _KIND_RANK.get(self.kind, len(KIND_ORDER)),
            self.kind,
            self.namespace or "",
            self.name,
        )


@dataclass(frozen=True)
class Bundle:
    """An immutable, deterministically ordered collection of Resources."""

    resources: tuple[Resource, ...]

    @classmethod
    def of(cls, resources: Iterable[Resource]) -> Bundle:
        return cls(tuple(sorted(resources, key=Resource.sort_key)))

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def for_cluster(self, cluster: str) -> Bundle:
        return Bundle(tuple(r for r in self.resources if r.coords.cluster == cluster))

    def of_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources if r.kind == kind]

    def clusters(self) -> list[str]:
        return sorted({r.coords.cluster for r in self.resources})
