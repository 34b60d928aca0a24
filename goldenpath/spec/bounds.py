"""The platform's bounds on what a team may ask for: quota, services, egress reach.

Tenants write their own specs; the platform (``spec.limits``, ``spec.network``,
``spec.clusters[].networks``) says how far they may go without an admin. Anything beyond
is a spec error that names the bound and the platform.yaml field an admin changes to
allow it (``spec.limits.grants.<team>`` for one team). Like every rule of
:mod:`goldenpath.spec.crossref`, these return SpecIssues and never raise.

The same bounds are enforced again on the rendered Bundle by the guardrails
(``network-reach``, ``object-size``, ``team-objects``), which do not trust this module's
verdict.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from decimal import Decimal

from goldenpath.errors import SpecIssue
from goldenpath.spec.models import Platform, QuotaSpec, Team
from goldenpath.spec.quantity import parse_quantity
from goldenpath.spec.reach import reaches_everything
from goldenpath.spec.resolve import BUILTIN_MAX_QUOTA, PlatformSpec, ResolvedQuota, merge_quota

_LIMITS = {"limits_cpu": "cpu", "limits_memory": "memory"}


def platform_issues(platform: Platform, file: str) -> Iterator[SpecIssue]:
    """The default quota every team gets fits the platform's maximum."""
    limits = platform.spec.limits
    maximum = merge_quota(limits.max_quota, base=BUILTIN_MAX_QUOTA)
    defaults = platform.spec.defaults.quota
    above = list(_above(merge_quota(defaults), maximum))
    fields = {field for field, _, _ in above}
    for field, value, bound in above:
        source = field if getattr(defaults, field) is not None else _LIMITS.get(field, field)
        if source != field and source in fields:
            continue  # twice a request that is already too much: said of the request
        if getattr(defaults, source) is not None:
            yield _issue(file, f"spec.defaults.quota.{_camel(source)}", getattr(defaults, source),
                         f"gives every team {_camel(field)} {value}, above "
                         f"spec.limits.maxQuota.{_camel(field)} ({bound}); lower the default "
                         "or raise the maximum")
        else:
            yield _issue(file, f"spec.limits.maxQuota.{_camel(field)}", bound,
                         f"is below the built-in default {_camel(field)} {value} every team "
                         f"gets; raise it or set spec.defaults.quota.{_camel(source)}")


def team_issues(spec: PlatformSpec, team: Team, file: str,
                environments: list[str]) -> Iterator[SpecIssue]:
    """The team's services, its quota in each of ``environments`` (those that exist) and
    its egress CIDRs stay within the platform's bounds."""
    yield from _service_count(spec, team, file)
    yield from _quota_bounds(spec, team, file, environments)
    yield from _egress(spec, team, file)


def _service_count(spec: PlatformSpec, team: Team, file: str) -> Iterator[SpecIssue]:
    count, bound = len(team.spec.services), spec.max_services(team.name)
    if count > bound:
        yield SpecIssue(file, "spec.services",
                        f"{count} services are more than the {bound} the platform allows a "
                        f"team; {_ask(team.name, 'maxServicesPerTeam', 'maxServices')}")


def _quota_bounds(spec: PlatformSpec, team: Team, file: str,
                  environments: list[str]) -> Iterator[SpecIssue]:
    maximum = spec.max_quota(team.name)
    # one issue per field the team wrote, naming every environment where it is too much
    found: dict[tuple[str, str], tuple[object, str, list[str]]] = {}
    for env in environments:
        above = list(_above(spec.quota(team, env), maximum))
        fields = {field for field, _, _ in above}
        for field, value, bound in above:
            path, written, what = _source(team, env, field, value)
            if what.startswith("makes") and _LIMITS[field] in fields:
                continue  # twice a request that is already too much: said of the request
            found.setdefault((path, field), (written, f"{what} above the platform's maximum "
                                             f"{bound}", []))[2].append(env)
    for (path, field), (written, what, envs) in found.items():
        yield _issue(file, path, written,
                     f"{what} per team and environment (in {', '.join(envs)}); "
                     + _ask(team.name, f"maxQuota.{_camel(field)}", f"maxQuota.{_camel(field)}"))


def _above(quota: ResolvedQuota, maximum: ResolvedQuota) -> Iterator[tuple[str, object, object]]:
    """(field, value, maximum) of every field of ``quota`` above ``maximum``."""
    for field in ResolvedQuota._fields:
        value, bound = getattr(quota, field), getattr(maximum, field)
        if _amount(value) > _amount(bound):
            yield field, value, bound


def _amount(value: object) -> Decimal:
    return Decimal(value) if isinstance(value, int) else parse_quantity(str(value))


def _source(team: Team, env: str, field: str, value: object) -> tuple[str, object, str]:
    """Where the team set ``field`` in ``env``: (path, value written there, what it makes).
    A limit the team did not set is twice the request it did set."""
    override = team.spec.environment_overrides.get(env)
    layers: list[tuple[str, QuotaSpec]] = [(f"spec.environmentOverrides.{env}.quota",
                                            override.quota)] if override else []
    layers.append(("spec.quota", team.spec.quota))
    request = _LIMITS.get(field)
    for prefix, layer in layers:
        if getattr(layer, field) is not None:
            return f"{prefix}.{_camel(field)}", getattr(layer, field), "is"
        if request is not None and getattr(layer, request) is not None:
            return (f"{prefix}.{_camel(request)}", getattr(layer, request),
                    f"makes {_camel(field)} {value} (twice the request, unless set),")
    return f"spec.quota.{_camel(field)}", value, "the platform default is"


def _egress(spec: PlatformSpec, team: Team, file: str) -> Iterator[SpecIssue]:
    cidrs = team.spec.network.egress_cidrs
    networks = [ipaddress.ip_network(cidr) for cidr in cidrs]
    for i, (cidr, network) in enumerate(zip(cidrs, networks, strict=True)):
        for problem in spec.reach.problems(network):
            yield _issue(file, f"spec.network.egressCIDRs[{i}]", cidr, problem)
    for everything in reaches_everything(networks):
        yield SpecIssue(file, "spec.network.egressCIDRs",
                        f"together reach {everything}; name only the networks the team needs")


def _ask(team: str, field: str, grant: str) -> str:
    return (f"ask a platform admin to raise spec.limits.{field}, or to grant the team more "
            f"in spec.limits.grants.{team}.{grant}, in platform.yaml")


def _issue(file: str, path: str, value: object, message: str) -> SpecIssue:
    return SpecIssue(file=file, path=path, value=value, has_value=True, message=message)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
