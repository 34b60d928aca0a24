"""A concern's renderer in two parts: the platform part (cluster-level objects, team
``None``) and the per-team part (every object whose coordinates name that team).

The split lets apply render only the teams whose inputs changed (see
:mod:`goldenpath.render.digest`) while ``render(spec)`` stays exactly the full Bundle:
both are the same two functions, called for all teams or for some.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.spec.models import Team
from goldenpath.spec.resolve import PlatformSpec

PlatformPart = Callable[[PlatformSpec], Iterable[Resource]]
TeamPart = Callable[[PlatformSpec, Team], Iterable[Resource]]
Bodies = Callable[[PlatformSpec, Team, str], Iterable[dict[str, Any]]]


def per_environment(concern: str, bodies: Bodies) -> TeamPart:
    """A team part that renders ``bodies(spec, team, env)`` in each of the team's
    environments, every object with that namespace's (cluster, team, environment)."""

    def render_team(spec: PlatformSpec, team: Team) -> Iterator[Resource]:
        for env in team.spec.environments:
            coords = Coordinates(spec.cluster_of[env].name, team.name, env)
            for body in bodies(spec, team, env):
                yield Resource(coords, body, concern)

    return render_team


def no_platform_objects(spec: PlatformSpec) -> Iterator[Resource]:
    """The platform part of a concern that renders only per-team objects."""
    return iter(())


@dataclass(frozen=True)
class Concern:
    platform: PlatformPart
    team: TeamPart

    def render(self, spec: PlatformSpec, teams: Iterable[Team] | None = None) -> Iterator[Resource]:
        """The platform part, then the team part of ``teams`` (every team when None)."""
        yield from self.platform(spec)
        for team in spec.teams if teams is None else teams:
            yield from self.team(spec, team)
