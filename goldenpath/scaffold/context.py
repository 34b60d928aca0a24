"""The cookiecutter context of a service: platform facts plus what the tenant decided.

Templates never ask questions; everything they need comes from the specs, so a service
starts in the right namespaces, with its spec's port, replicas and resources (the
platform's container defaults where the spec says nothing) and the metric names and
latency bucket the observability renderer reads (:mod:`goldenpath.render.metrics`).

What a tenant decides about a render is one value, :class:`ServiceInputs`: the team's
name, display name and environments, and the service's spec entry (parameters included).
``new-service`` and ``update-service`` build it from the current spec; ``update-service``
also reads the one a repository was rendered with back from its record, through the same
pydantic models as the spec loader, so a record edited by hand is refused as a team file
would be. Every value of the context is data: :mod:`.cookie` never renders it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from goldenpath.render import metrics
from goldenpath.spec.models import ServiceSpec, SpecModel, Team
from goldenpath.spec.quantity import parse_quantity
from goldenpath.spec.resolve import PlatformSpec, namespace_name
from goldenpath.spec.types import DNSLabel

#: The context keys goldenpath sets; a template parameter may not take one of these names.
RESERVED = frozenset({"service_name", "team", "team_display_name", "port", "catalog_namespace",
                      "kubernetes_version", "environments", "metrics"})


class ServiceInputs(SpecModel):
    """What the tenant decided about one service's render (strict, unknown keys refused)."""

    team: DNSLabel
    display_name: str = Field(min_length=1, max_length=120)
    environments: list[DNSLabel] = Field(min_length=1, max_length=64)
    service: ServiceSpec


def inputs_from_spec(team: Team, service: ServiceSpec) -> ServiceInputs:
    return ServiceInputs(team=team.name, display_name=team.spec.display_name,
                         environments=list(team.spec.environments), service=service)


def service_context(spec: PlatformSpec, inputs: ServiceInputs) -> dict[str, Any]:
    service = inputs.service
    latency = service.slo.latency_p99_ms if service.slo else None
    return {
        **service.parameters,
        "service_name": service.name,
        "team": inputs.team,
        "team_display_name": inputs.display_name,
        "port": str(service.port),
        # Backstage takes one namespace; the last environment is the production-most one.
        "catalog_namespace": namespace_name(inputs.team, inputs.environments[-1]),
        "kubernetes_version": spec.platform.spec.kubernetes_version,
        "environments": {env: environment_context(spec, inputs, env)
                         for env in inputs.environments},
        "metrics": {**metrics.template_context(), "buckets": list(metrics.buckets_for(latency))},
    }


def environment_context(spec: PlatformSpec, inputs: ServiceInputs, env: str) -> dict[str, Any]:
    defaults = spec.platform.spec.defaults.container
    service = inputs.service
    cpu = service.resources.cpu if service.resources else defaults.cpu_request
    memory = service.resources.memory if service.resources else defaults.memory_request
    return {
        "namespace": namespace_name(inputs.team, env),
        "replicas": service.replicas.get(env, 1),
        "cpu": cpu,
        "memory": memory,
        # A request above the platform's default limit raises the limit to the request.
        "cpu_limit": _at_least(defaults.cpu_limit, cpu),
        "memory_limit": _at_least(defaults.memory_limit, memory),
    }


def _at_least(limit: str, request: str) -> str:
    return request if parse_quantity(request) > parse_quantity(limit) else limit
