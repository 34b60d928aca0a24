"""Rules that span fields or files: every one returns SpecIssues, none raises.

Single-field rules live on the models; these need the whole platform (which environments
exist, which teams, which hosts are taken) or derived names (``<team>-<env>``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Mapping

from goldenpath.errors import SpecIssue
from goldenpath.spec import bounds
from goldenpath.spec.models import AlertingSpec, IngressSpec, Platform, Team
from goldenpath.spec.quantity import parse_quantity
from goldenpath.spec.resolve import (
    RESERVED_NAMESPACES,
    RESERVED_PREFIXES,
    PlatformSpec,
    application_name,
    namespace_name,
    tenancy_application_name,
)
from goldenpath.spec.teams import TeamFacts
from goldenpath.spec.types import DNS_LABEL_MAX


def platform_issues(platform: Platform, file: str) -> Iterator[SpecIssue]:
    spec = platform.spec
    yield from _duplicates(file, "spec.environments", [e.name for e in spec.environments])
    yield from _duplicates(file, "spec.clusters", [c.name for c in spec.clusters])
    yield from _duplicates(file, "spec.templates", [t.name for t in spec.templates])
    known = {e.name for e in spec.environments}
    hosted: Counter[str] = Counter()
    for i, cluster in enumerate(spec.clusters):
        for j, env in enumerate(cluster.environments):
            hosted[env] += 1
            if env not in known:
                yield _issue(
                    file,
                    f"spec.clusters[{i}].environments[{j}]",
                    env,
                    f"is not an environment of the platform (known: {_list(known)})",
                )
    for i, environment in enumerate(spec.environments):
        count = hosted[environment.name]
        if count != 1:
            yield _issue(
                file,
                f"spec.environments[{i}].name",
                environment.name,
                f"must be hosted by exactly one cluster, is listed by {count}",
            )
    yield from bounds.platform_issues(platform, file)


def team_issues(spec: PlatformSpec, team: Team, file: str) -> Iterator[SpecIssue]:
    body = team.spec
    known_envs = spec.environments
    reserved = reserved_namespaces(spec.platform)
    name = team.name
    name_reserved = name in reserved or name.startswith(RESERVED_PREFIXES)
    if name_reserved:
        yield _issue(file, "metadata.name", name, "is reserved for the platform; choose another")
    yield from _duplicates(file, "spec.environments", body.environments)
    checked: list[str] = []
    for i, env in enumerate(body.environments):
        path = f"spec.environments[{i}]"
        if env not in known_envs:
            yield _issue(
                file,
                path,
                env,
                f"is not an environment of the platform (known: {_list(known_envs)})",
            )
            continue
        namespace = namespace_name(name, env)
        if len(namespace) > DNS_LABEL_MAX:
            yield _issue(
                file,
                path,
                env,
                f"namespace {namespace!r} is longer than 63 characters; shorten the team name",
            )
        elif namespace in reserved or (namespace.startswith(RESERVED_PREFIXES)
                                       and not name_reserved):
            yield _issue(file, path, env, f"namespace {namespace!r} is reserved for the platform")
        # <team>-<env>-tenancy is longer than <team>-services: one check covers both.
        elif len(tenancy := tenancy_application_name(name, env)) > DNS_LABEL_MAX:
            yield _issue(file, path, env, f"makes the Argo CD application name {tenancy!r} "
                         "longer than 63 characters; shorten the team name")
        else:
            checked.append(env)
            yield from _quota_issues(spec, team, env, file)
    for env in body.environment_overrides:
        if env not in body.environments:
            yield _issue(
                file,
                f"spec.environmentOverrides.{env}",
                env,
                f"is not one of the team's environments ({_list(body.environments)})",
            )
    pagerduty = body.alerting.pagerduty
    for i, env in enumerate(pagerduty.environments or [] if pagerduty else []):
        if env not in body.environments:
            yield _issue(file, f"spec.alerting.pagerduty.environments[{i}]", env,
                         f"is not one of the team's environments ({_list(body.environments)})")
    yield from _service_issues(spec, team, file)
    yield from bounds.team_issues(spec, team, file, checked)
    yield from _paging_issues(team, file)


def peer_issues(spec: PlatformSpec, team: TeamFacts, file: str,
                unloaded: Collection[str] = ()) -> Iterator[SpecIssue]:
    """The teams ``network.allowFromTeams`` names exist (kept apart from ``team_issues``:
    it is the one rule a team breaks when another team's file goes away). A team whose
    file is there but invalid (``unloaded``) is not reported again: its file's own
    issues say what is wrong with it."""
    for i, other in enumerate(team.allow_from_teams):
        if other not in spec.entry and other not in unloaded:
            yield _issue(
                file,
                f"spec.network.allowFromTeams[{i}]",
                other,
                f"is not a team (known: {_list(spec.entry)})",
            )


def _service_issues(spec: PlatformSpec, team: Team, file: str) -> Iterator[SpecIssue]:
    templates = {t.name for t in spec.platform.spec.templates}
    yield from _duplicates(file, "spec.services", [s.name for s in team.spec.services])
    for i, service in enumerate(team.spec.services):
        path = f"spec.services[{i}]"
        if service.template not in templates:
            yield _issue(
                file,
                f"{path}.template",
                service.template,
                f"is not a template of the platform (known: {_list(templates)})",
            )
        for env in service.replicas:
            if env not in team.spec.environments:
                yield _issue(
                    file,
                    f"{path}.replicas.{env}",
                    env,
                    f"is not one of the team's environments ({_list(team.spec.environments)})",
                )
        if service.ingress is not None:
            yield from _ingress_issues(spec, team, service.ingress, path, file)
        longest = max((application_name(team.name, service.name, e)
                       for e in team.spec.environments), key=len)
        if len(longest) > DNS_LABEL_MAX:
            yield _issue(
                file,
                f"{path}.name",
                service.name,
                f"makes the Argo CD application name {longest!r} longer than 63 characters",
            )


def _paging_issues(team: Team, file: str) -> Iterator[SpecIssue]:
    """Every environment a team's SLO alerts page in has one of the team's receivers.

    Pages no AlertmanagerConfig routes fall to the Alertmanager's default receiver, which
    is ``null`` on a stock kube-prometheus-stack: they would be dropped without a trace.
    (A platform-wide default would mean owning the Alertmanager's top-level route, which
    belongs to the release and its own alerts; see the README, Observability.)
    """
    paging = [s.name for s in team.spec.services if s.slo is not None
              and (s.slo.availability is not None or s.slo.latency_p99_ms is not None)]
    uncovered = [env for env in team.spec.environments
                 if not receives_pages(team.spec.alerting, env)]
    if paging and uncovered:
        yield SpecIssue(file=file, path="spec.alerting", message=(
            f"the SLO pages of {'service' if len(paging) == 1 else 'services'} "
            f"{', '.join(paging)} have no receiver in "
            f"{', '.join(uncovered)}: the Alertmanager sends pages no team routes to its "
            "default receiver, which drops them on a stock kube-prometheus-stack; add "
            "spec.alerting.slack, or spec.alerting.pagerduty for those environments"))


def receives_pages(alerting: AlertingSpec, env: str) -> bool:
    """Whether the team's own AlertmanagerConfig in ``env`` has a receiver for pages
    (Slack takes everything PagerDuty does not; see render.observability.alertmanager)."""
    pagerduty = alerting.pagerduty
    return alerting.slack is not None or (
        pagerduty is not None and env in (pagerduty.environments or [env]))


def _ingress_issues(spec: PlatformSpec, team: Team, ingress: IngressSpec, path: str,
                    file: str) -> Iterator[SpecIssue]:
    """The environments serving a host are the team's, and no two share a cluster: one
    ingress controller routes a host to one namespace."""
    listed = ingress.environments
    for j, env in enumerate(listed or []):
        if env not in team.spec.environments:
            yield _issue(file, f"{path}.ingress.environments[{j}]", env,
                         f"is not one of the team's environments ({_list(team.spec.environments)})")
    serving = [e for e in (listed or team.spec.environments)
               if e in team.spec.environments and e in spec.cluster_of]
    first: dict[str, str] = {}
    for env in serving:
        cluster = spec.cluster_of[env].name
        if cluster in first and first[cluster] != env:
            yield _issue(file, f"{path}.ingress", ingress.host,
                         f"would be served by {first[cluster]} and {env}, both on cluster "
                         f"{cluster}, where a host routes to one namespace; list the "
                         "environments that serve it in ingress.environments")
        first.setdefault(cluster, env)


def _quota_issues(spec: PlatformSpec, team: Team, env: str, file: str) -> Iterator[SpecIssue]:
    quota = spec.quota(team, env)
    for limit, request in (("limits_cpu", "cpu"), ("limits_memory", "memory")):
        if parse_quantity(getattr(quota, limit)) < parse_quantity(getattr(quota, request)):
            yield _issue(
                file,
                f"spec.quota ({env})",
                getattr(quota, limit),
                f"{_camel(limit)} is below the {request} request "
                f"{getattr(quota, request)} in {env}; limits must be at least requests",
            )


def global_issues(spec: PlatformSpec) -> Iterator[SpecIssue]:
    """Rules across teams: namespaces and ingress hosts are unique on the whole platform.

    Only the teams in a clash (``spec.claims``, derived from the parent's for a platform
    with some teams replaced) are walked: the others claim nothing anyone else claims,
    so they are never reported and never the first claimant of what is, and leaving
    them out changes no issue, nor its order."""
    clashing = spec.claims.clashing
    if clashing:
        yield from _clashes([entry.facts for entry in spec.entries if entry.name in clashing],
                            spec.sources)


def _clashes(teams: list[TeamFacts], sources: Mapping[str, str]) -> Iterator[SpecIssue]:
    """The namespaces and hosts ``teams`` (in name order) claim after another did."""
    namespaces: dict[str, str] = {}
    for team in teams:
        for i, env in enumerate(team.environments):
            namespace = namespace_name(team.name, env)
            if namespaces.setdefault(namespace, team.name) != team.name:
                yield _issue(sources.get(team.name, team.name), f"spec.environments[{i}]",
                             env, f"namespace {namespace!r} is already team "
                             f"{namespaces[namespace]}'s; choose another team name")
    owners: dict[str, str] = {}
    for team in teams:
        for i, host, service in team.hosts:
            if host in owners:
                yield _issue(
                    sources.get(team.name, team.name),
                    f"spec.services[{i}].ingress.host",
                    host,
                    f"is already used by {owners[host]}; ingress hosts must be unique",
                )
            else:
                owners[host] = f"{team.name}/{service}"


def reserved_namespaces(platform: Platform) -> set[str]:
    spec = platform.spec
    return {
        *RESERVED_NAMESPACES,
        spec.argocd.namespace,
        spec.observability.dashboards_namespace,
        *spec.network.ingress_namespaces,
        *spec.network.monitoring_namespaces,
    }


def _duplicates(file: str, path: str, names: list[str]) -> Iterator[SpecIssue]:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            yield _issue(file, f"{path}[{i}]", name, "is listed twice; names must be unique")
        seen.add(name)


def _issue(file: str, path: str, value: object, message: str) -> SpecIssue:
    return SpecIssue(file=file, path=path, value=value, has_value=True, message=message)


def _list(names: object) -> str:
    return ", ".join(sorted(names)) or "none"  # type: ignore[call-overload]


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
