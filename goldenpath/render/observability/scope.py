"""Where an observability object belongs: one team in one environment, or one service there.

Every observability renderer walks the same scopes, so ServiceMonitors, rules, routing and
dashboards agree on namespaces, labels and Coordinates without each working them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from goldenpath.render.bundle import Coordinates
from goldenpath.render.meta import LABEL_APP_NAME, LABEL_SERVICE, team_labels
from goldenpath.spec.models import ObservabilitySpec, ServiceSpec, Team
from goldenpath.spec.resolve import PlatformSpec, namespace_name


@dataclass(frozen=True)
class Scope:
    """A team in an environment; with ``service`` set, one of its services there."""

    spec: PlatformSpec
    team: Team
    env: str
    service: ServiceSpec | None = None

    @property
    def namespace(self) -> str:
        return namespace_name(self.team.name, self.env)

    @property
    def cluster(self) -> str:
        return self.spec.cluster_of[self.env].name

    @property
    def observability(self) -> ObservabilitySpec:
        return self.spec.platform.spec.observability

    @property
    def service_spec(self) -> ServiceSpec:
        """The service; only valid on a service scope."""
        if self.service is None:
            raise ValueError(f"{self.namespace}: not a service scope")
        return self.service

    @property
    def service_name(self) -> str:
        return self.service_spec.name

    @property
    def coords(self) -> Coordinates:
        service = None if self.service is None else self.service.name
        return Coordinates(self.cluster, self.team.name, self.env, service)

    def labels(self) -> dict[str, str]:
        """The labels of every object rendered for this scope."""
        labels = team_labels(self.team, self.env)
        if self.service is not None:
            labels |= {LABEL_APP_NAME: self.service.name, LABEL_SERVICE: self.service.name}
        return labels

    def with_service(self, service: ServiceSpec) -> Scope:
        return Scope(self.spec, self.team, self.env, service)


def team_scopes(spec: PlatformSpec, team: Team) -> Iterator[Scope]:
    """The team in every one of its environments."""
    for env in team.spec.environments:
        yield Scope(spec, team, env)


def service_scopes(spec: PlatformSpec, team: Team) -> Iterator[Scope]:
    """Every service of the team in every one of the team's environments."""
    for scope in team_scopes(spec, team):
        for service in scope.team.spec.services:
            yield scope.with_service(service)
