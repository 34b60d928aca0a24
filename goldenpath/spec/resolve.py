"""The loaded spec as one value, and the derived facts every renderer needs.

``PlatformSpec`` holds the Platform and its Teams (sorted by name, so file order never
matters). Derived values, such as a namespace name or the quota a team gets in an
environment after defaults and overrides are merged, are computed here once so that
renderers and guardrails cannot disagree about them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from pydantic import BaseModel

from goldenpath.spec.models import (
    ClusterSpec,
    EnvironmentSpec,
    Platform,
    QuotaSpec,
    ServiceSpec,
    Team,
)
from goldenpath.spec.quantity import format_bytes, format_cpu, parse_quantity

#: Quota values used when neither the platform defaults nor the team name a field.
BUILTIN_QUOTA = QuotaSpec(
    cpu="4",
    memory="8Gi",
    storage="20Gi",
    ephemeral_storage="10Gi",
    pods=40,
    services=20,
    secrets=50,
    configmaps=50,
    persistentvolumeclaims=10,
)

#: Namespaces no team may own, whatever the platform says. "platform" is also the name of
#: the admin-only Argo CD project, which a team's project (named after the team) must not take.
RESERVED_NAMESPACES = frozenset({"default", "goldenpath", "platform"})
RESERVED_PREFIXES = ("kube-",)


def canonical_json(doc: BaseModel) -> str:
    """A document's canonical JSON (what spec digests hash)."""
    return json.dumps(doc.model_dump(mode="json", by_alias=True), sort_keys=True,
                      separators=(",", ":"))


def namespace_name(team: str, environment: str) -> str:
    """The namespace of a team in an environment: ``<team>-<env>``."""
    return f"{team}-{environment}"


@dataclass(frozen=True, slots=True)
class ResolvedQuota:
    """A quota with every field set: platform defaults, team values and the environment
    override merged in that order."""

    cpu: str
    memory: str
    limits_cpu: str
    limits_memory: str
    storage: str
    ephemeral_storage: str
    pods: int
    services: int
    secrets: int
    configmaps: int
    persistentvolumeclaims: int


def merge_quota(*layers: QuotaSpec) -> ResolvedQuota:
    """Merge quota layers, later layers winning field by field.

    Limits default to twice the requests of the same layer stack, so that a container's
    default limit (above its request) still fits.
    """
    merged: dict[str, object] = {}
    for layer in (BUILTIN_QUOTA, *layers):
        merged.update(layer.model_dump(exclude_none=True, by_alias=False))
    for limit, request, fmt in (
        ("limits_cpu", "cpu", format_cpu),
        ("limits_memory", "memory", format_bytes),
    ):
        if not _set_after(layers, limit, request):
            merged[limit] = fmt(parse_quantity(str(merged[request])) * 2)
    return ResolvedQuota(**merged)  # type: ignore[arg-type]


def _set_after(layers: tuple[QuotaSpec, ...], limit: str, request: str) -> bool:
    """True when some layer sets the limit and no later layer changes the request."""
    for layer in reversed(layers):
        if getattr(layer, limit) is not None:
            return True
        if getattr(layer, request) is not None:
            return False
    return False


@dataclass(frozen=True)
class PlatformSpec:
    """A validated platform: the Platform object and its Teams, sorted by name."""

    platform: Platform
    teams: tuple[Team, ...]
    #: where each spec came from (``platform`` or a team name -> file path), for messages
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    #: canonical JSON already known (the loader caches it with each file's model), keyed
    #: as ``canonical``; a document missing here is dumped when first asked for
    documents: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.platform.metadata.name

    @cached_property
    def environments(self) -> dict[str, EnvironmentSpec]:
        return {env.name: env for env in self.platform.spec.environments}

    @cached_property
    def clusters(self) -> dict[str, ClusterSpec]:
        return {cluster.name: cluster for cluster in self.platform.spec.clusters}

    @cached_property
    def cluster_of(self) -> dict[str, ClusterSpec]:
        """Environment name -> the one cluster that hosts it."""
        return {env: c for c in self.platform.spec.clusters for env in c.environments}

    @cached_property
    def teams_by_name(self) -> dict[str, Team]:
        return {team.name: team for team in self.teams}

    def subset(self, names: Iterable[str]) -> PlatformSpec:
        """The same platform with only the teams ``names``: what the per-team guardrails
        check when apply renders only those teams."""
        keep = set(names)
        return PlatformSpec(self.platform, tuple(t for t in self.teams if t.name in keep),
                            self.sources, self.documents)

    @cached_property
    def canonical(self) -> dict[str, str]:
        """Canonical JSON of each document, ``""`` for the platform and a team's name for
        its spec: what digests of the spec hash (dumped once, used by several)."""
        docs = {"": self.platform, **{team.name: team for team in self.teams}}
        return {key: self.documents.get(key) or canonical_json(doc)
                for key, doc in docs.items()}

    def quota(self, team: Team, environment: str) -> ResolvedQuota:
        """The team's quota in the environment; computed once per team and environment
        (renderers, guardrails and the cross-file checks all ask)."""
        if self.teams_by_name.get(team.name) is not team:  # not one of ours: no caching
            return self._merged_quota(team, environment)
        key = (team.name, environment)
        if key not in self._quotas:
            self._quotas[key] = self._merged_quota(team, environment)
        return self._quotas[key]

    def _merged_quota(self, team: Team, environment: str) -> ResolvedQuota:
        override = team.spec.environment_overrides.get(environment)
        layers = [self.platform.spec.defaults.quota, team.spec.quota]
        if override is not None:
            layers.append(override.quota)
        return merge_quota(*layers)

    @cached_property
    def _quotas(self) -> dict[tuple[str, str], ResolvedQuota]:
        return {}

    def replicas(self, service: ServiceSpec, environment: str) -> int:
        return service.replicas.get(environment, 1)

    def teams_on(self, cluster: str) -> list[tuple[Team, str]]:
        """(team, environment) pairs whose namespace lives on ``cluster``."""
        envs = set(self.clusters[cluster].environments)
        return [(t, env) for t in self.teams for env in t.spec.environments if env in envs]
