"""The loaded spec as one value, and the derived facts every renderer needs.

``PlatformSpec`` holds the Platform and its Teams (sorted by name, so file order never
matters). Derived values, such as a namespace name or the quota a team gets in an
environment after defaults and overrides are merged, are computed here once so that
renderers and guardrails cannot disagree about them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import NamedTuple

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
from goldenpath.spec.reach import Reach
from goldenpath.spec.teams import TeamEntry, TeamFacts

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

#: The largest quota a team may ask for in one environment, for each field neither
#: ``spec.limits.maxQuota`` nor a grant names. Limits not named are twice the requests,
#: as in :func:`merge_quota`.
BUILTIN_MAX_QUOTA = QuotaSpec(
    cpu="64",
    memory="256Gi",
    storage="1Ti",
    ephemeral_storage="100Gi",
    pods=1000,
    services=100,
    secrets=500,
    configmaps=500,
    persistentvolumeclaims=100,
)

#: Namespaces no team may own, whatever the platform says. "platform" is also the name of
#: the admin-only Argo CD project, which a team's project (named after the team) must not take.
RESERVED_NAMESPACES = frozenset({"default", "goldenpath", "platform"})
RESERVED_PREFIXES = ("kube-",)


def canonical_json(doc: BaseModel) -> str:
    """A document's canonical JSON: sorted keys, no spaces, field names as in the files."""
    return json.dumps(doc.model_dump(mode="json", by_alias=True), sort_keys=True,
                      separators=(",", ":"))


def document_digest(doc: BaseModel) -> str:
    """sha256 of a document's canonical JSON: what the digests of the spec are made of."""
    return hashlib.sha256(canonical_json(doc).encode()).hexdigest()


def namespace_name(team: str, environment: str) -> str:
    """The namespace of a team in an environment: ``<team>-<env>``."""
    return f"{team}-{environment}"


def application_name(team: str, service: str, environment: str) -> str:
    """The Argo CD Application of a service in an environment: ``<team>.<service>.<env>``.

    Joined with ``.``, which no DNS label (team, service, environment) contains, so two
    different triples never give the same name (``a`` + ``b-c`` and ``a-b`` + ``c`` did
    with ``-``). Argo CD uses the name as the ``app.kubernetes.io/instance`` label value,
    so it must stay within 63 characters (the spec checks this).
    """
    return f"{team}.{service}.{environment}"


def tenancy_application_name(team: str, environment: str) -> str:
    """The Argo CD Application syncing a team's namespace: ``<team>-<env>-tenancy``, unique
    because namespaces are."""
    return f"{namespace_name(team, environment)}-tenancy"


def services_application_name(team: str) -> str:
    """The Argo CD Application syncing a team's service Applications."""
    return f"{team}-services"


class Claims(NamedTuple):
    """What the teams of a platform claim that must be unique on it: namespaces (each
    claimed by one team) and ingress hosts (each served by one service), and the teams
    in a clash, which the rules across teams (:func:`goldenpath.spec.crossref.global_issues`)
    report. Built in one pass over the teams' facts, or derived from a parent platform's
    (:mod:`goldenpath.spec.derive`); ``namespaces`` and ``hosts`` name the one claimant
    when ``clashing`` is empty (a valid platform), and are only the derivation's working
    state otherwise."""

    #: namespace -> (its cluster, "" when no cluster hosts the environment; the team
    #: claiming it; the environment)
    namespaces: dict[str, tuple[str, str, str]]
    #: ingress host -> (team, service) serving it
    hosts: dict[str, tuple[str, str]]
    #: the teams claiming a namespace another team claims, or a host claimed twice
    clashing: frozenset[str]
    #: every environment named is hosted by a cluster
    complete: bool
    #: built team by team in the spec's order: ``namespaces`` is then, with no clash
    #: and complete, exactly ``PlatformSpec.tenant_namespaces``
    in_order: bool

    @classmethod
    def of(cls, teams: Iterable[TeamFacts], clusters: Mapping[str, str]) -> Claims:
        """The claims of ``teams``; ``clusters``: environment -> the cluster hosting it."""
        namespaces: dict[str, tuple[str, str, str]] = {}
        hosts: dict[str, tuple[str, str]] = {}
        clashing: set[str] = set()
        complete = True
        for facts in teams:
            complete &= claim(facts, clusters, namespaces, hosts, clashing)
        return cls(namespaces, hosts, frozenset(clashing), complete, in_order=True)


def claim(facts: TeamFacts, clusters: Mapping[str, str],
          namespaces: dict[str, tuple[str, str, str]], hosts: dict[str, tuple[str, str]],
          clashing: set[str]) -> bool:
    """Record what the team ``facts`` claims; add the teams of each clash to ``clashing``;
    whether a cluster hosts each of its environments. A namespace a team claims twice (an
    environment listed twice) is no clash; a host it serves twice is, as for two teams
    (see ``global_issues``)."""
    name = facts.name
    complete = True
    for env in facts.environments:
        cluster = clusters.get(env, "")
        complete &= bool(cluster)
        owner = namespaces.setdefault(namespace_name(name, env), (cluster, name, env))[1]
        if owner != name:
            clashing.update((owner, name))
    for _, host, service in facts.hosts:
        served = hosts.get(host)
        if served is None:
            hosts[host] = (name, service)
        else:
            clashing.update((served[0], name))
    return complete


class ResolvedQuota(NamedTuple):
    """A quota with every field set: platform defaults, team values and the environment
    override merged in that order. (A NamedTuple: the loader rebuilds thousands of these
    from its cache, several times faster than a frozen dataclass.)"""

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


def merge_quota(*layers: QuotaSpec, base: QuotaSpec = BUILTIN_QUOTA) -> ResolvedQuota:
    """Merge quota layers over ``base``, later layers winning field by field.

    Limits default to twice the requests of the same layer stack, so that a container's
    default limit (above its request) still fits.
    """
    merged: dict[str, object] = {}
    for layer in (base, *layers):
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
    """A validated platform: the Platform object and its Teams, sorted by name.

    Each team is a :class:`~goldenpath.spec.teams.TeamEntry`: its facts and document digest
    are always at hand, its model is built when first asked for. Code that needs every
    team's model reads ``teams``; code that runs on every apply whatever changed (cross-team
    rules, cluster-level objects, digests, the capacity guardrail) reads ``team_names``,
    ``facts``, ``listed_by``, ``digests`` and ``quota_of``, so unchanged teams' models are
    never built.
    """

    platform: Platform
    entries: tuple[TeamEntry, ...] = ()
    #: where each spec came from (``""`` for the platform, a team's name -> file path)
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    #: the platform's document digest when already known (the loader caches it)
    platform_digest: str = field(default="", compare=False, repr=False)
    #: a subset's answer to ``listed_by``: the whole platform's (see ``subset``)
    listings: Mapping[str, tuple[TeamFacts, ...]] | None = field(
        default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.platform.metadata.name

    @cached_property
    def teams(self) -> tuple[Team, ...]:
        """Every team's model (builds those not built yet)."""
        return tuple(entry.model for entry in self.entries)

    @cached_property
    def team_names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.entries)

    @cached_property
    def entry(self) -> dict[str, TeamEntry]:
        """Team name -> its entry."""
        return {entry.name: entry for entry in self.entries}

    def team(self, name: str) -> Team:
        """The model of the team ``name`` (KeyError if there is none)."""
        return self.entry[name].model

    def facts(self, name: str) -> TeamFacts:
        return self.entry[name].facts

    @cached_property
    def environments(self) -> dict[str, EnvironmentSpec]:
        return {env.name: env for env in self.platform.spec.environments}

    @cached_property
    def reach(self) -> Reach:
        """The platform's egress rules, which the spec checks and guardrails share."""
        return Reach.of(self.platform)

    @cached_property
    def clusters(self) -> dict[str, ClusterSpec]:
        return {cluster.name: cluster for cluster in self.platform.spec.clusters}

    @cached_property
    def cluster_of(self) -> dict[str, ClusterSpec]:
        """Environment name -> the one cluster that hosts it."""
        return {env: c for c in self.platform.spec.clusters for env in c.environments}

    @cached_property
    def tenant_namespaces(self) -> Mapping[str, tuple[str, str, str]]:
        """Every namespace a team owns -> (cluster, team, environment); read-only (every
        guardrail asks, several times per check, so it is built once per spec). The
        claims' namespaces when they are the same (no clash, every environment hosted):
        one walk of the teams for both."""
        claims = self.claims
        if claims.in_order and claims.complete and not claims.clashing:
            return MappingProxyType(claims.namespaces)
        return MappingProxyType({
            namespace_name(facts.name, env): (self.cluster_of[env].name, facts.name, env)
            for facts in (entry.facts for entry in self.entries)
            for env in facts.environments
        })

    @cached_property
    def ordered(self) -> bool:
        """The entries are in strictly increasing name order, as the loader makes them (a
        spec built in memory need not be): what lets the indexes be looked up by name and
        derived (:mod:`goldenpath.spec.derive`)."""
        names = self.team_names
        return all(a < b for a, b in pairwise(names))

    @cached_property
    def claims(self) -> Claims:
        """The namespaces and ingress hosts the teams claim, and the teams in a clash."""
        return Claims.of((entry.facts for entry in self.entries), self.cluster_names)

    @cached_property
    def cluster_names(self) -> dict[str, str]:
        """Environment name -> the name of the cluster that hosts it."""
        return {env: cluster.name for env, cluster in self.cluster_of.items()}

    @cached_property
    def dangling(self) -> frozenset[str]:
        """The teams whose ``network.allowFromTeams`` names a team not on the platform."""
        known = self.entry
        return frozenset(entry.name for entry in self.entries
                         if any(other not in known for other in entry.facts.allow_from_teams))

    def subset(self, names: Iterable[str]) -> PlatformSpec:
        """The same platform with only the teams ``names``: what the per-team guardrails
        check when apply renders only those teams. (Picked by name, in name order, when
        the entries are: a one-team check on 1,000 teams looks at one.)"""
        keep = set(names)
        if self.ordered:
            chosen = tuple(self.entry[name] for name in sorted(keep & self.entry.keys()))
        else:
            chosen = tuple(e for e in self.entries if e.name in keep)
        return PlatformSpec(self.platform, chosen, self.sources, self.platform_digest,
                            self._listings)

    def listed_by(self, name: str) -> tuple[TeamFacts, ...]:
        """The facts of the other teams whose ``network.allowFromTeams`` names the team
        ``name``, sorted by name: their consent is what lets ``name`` send to them. Read
        from every team's facts (no model is built); a subset answers for the whole
        platform, since who lists a team does not depend on which teams are checked."""
        return self._listings.get(name, ())

    @cached_property
    def _listings(self) -> Mapping[str, tuple[TeamFacts, ...]]:
        if self.listings is not None:
            return self.listings
        found: dict[str, list[TeamFacts]] = {}
        for entry in self.entries:
            for listed in set(entry.facts.allow_from_teams) - {entry.name}:
                found.setdefault(listed, []).append(entry.facts)
        return {name: tuple(sorted(facts)) for name, facts in found.items()}

    @cached_property
    def digests(self) -> dict[str, str]:
        """Each document's digest (:func:`document_digest`): ``""`` for the platform, a
        team's name for its spec. What the input digests and the Spec-Digest are made of."""
        platform = self.platform_digest or document_digest(self.platform)
        return {"": platform, **{entry.name: entry.digest for entry in self.entries}}

    def quota(self, team: Team, environment: str) -> ResolvedQuota:
        """The team's quota in the environment; computed once per team and environment
        (renderers, guardrails and the cross-file checks all ask)."""
        entry = self.entry.get(team.name)
        if entry is None or not entry.holds(team):  # not one of ours: no caching
            return self._merged_quota(team, environment)
        return self.quota_of(team.name, environment)

    def quota_of(self, name: str, environment: str) -> ResolvedQuota:
        """The quota of the team ``name`` in the environment, without building its model
        when an earlier load resolved it (see ``TeamEntry.quotas``)."""
        entry = self.entry[name]
        found = entry.quotas.get(environment)
        if found is None:
            found = entry.quotas[environment] = self._merged_quota(entry.model, environment)
        return found

    def _merged_quota(self, team: Team, environment: str) -> ResolvedQuota:
        override = team.spec.environment_overrides.get(environment)
        layers = [self.platform.spec.defaults.quota, team.spec.quota]
        if override is not None:
            layers.append(override.quota)
        return merge_quota(*layers)

    def max_quota(self, team: str) -> ResolvedQuota:
        """The largest quota ``team`` may have in any one environment: the built-in
        maximum, the platform's ``spec.limits.maxQuota``, then the team's grant."""
        limits = self.platform.spec.limits
        grant = limits.grants.get(team)
        layers = [limits.max_quota] + ([grant.max_quota] if grant else [])
        return merge_quota(*layers, base=BUILTIN_MAX_QUOTA)

    def max_services(self, team: str) -> int:
        grant = self.platform.spec.limits.grants.get(team)
        found = grant.max_services if grant else None
        return found or self.platform.spec.limits.max_services_per_team

    def max_objects(self, team: str) -> int:
        grant = self.platform.spec.limits.grants.get(team)
        found = grant.max_objects if grant else None
        return found or self.platform.spec.limits.max_objects_per_team

    def replicas(self, service: ServiceSpec, environment: str) -> int:
        return service.replicas.get(environment, 1)

    def namespaces_on(self, cluster: str) -> list[tuple[str, str]]:
        """(team name, environment) of every team namespace on ``cluster``."""
        envs = set(self.clusters[cluster].environments)
        return [(e.name, env) for e in self.entries for env in e.facts.environments
                if env in envs]
