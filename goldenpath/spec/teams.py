"""A loaded team as the platform holds it: small facts always at hand, the model on demand.

Rules across teams and the cluster-level objects need only a few facts of every team
(its name, environments, the teams it admits, its ingress hosts); rendering a team needs
its whole model. On a platform of 1,000 teams where one file changed, apply renders one
team, so the loader keeps each unchanged team's model serialised (see
:mod:`goldenpath.spec.cache`) and a :class:`TeamEntry` rebuilds it only when something
asks for it. The facts are derived from the model by :meth:`TeamFacts.of`, so they can
never say something the model does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from goldenpath.spec.models import Team

if TYPE_CHECKING:
    from goldenpath.spec.resolve import ResolvedQuota


class TeamFacts(NamedTuple):
    """What cross-team rules and cluster-level objects read of a team. (A NamedTuple:
    the loader rebuilds a thousand of these from its index on every load.)"""

    name: str
    environments: tuple[str, ...]
    allow_from_teams: tuple[str, ...]
    #: (index in spec.services, ingress host, service name) of each service with an ingress
    hosts: tuple[tuple[int, str, str], ...]

    @classmethod
    def of(cls, team: Team) -> TeamFacts:
        body = team.spec
        hosts = tuple((i, s.ingress.host, s.name) for i, s in enumerate(body.services)
                      if s.ingress is not None)
        return cls(team.name, tuple(body.environments), tuple(body.network.allow_from_teams),
                   hosts)



class TeamEntry:
    """One team of a platform: its facts, the digest of its canonical JSON, and its
    model, built by ``load`` the first time it is asked for unless given.

    ``quotas`` holds the team's resolved quota per environment as far as known: resolved
    in this process, or (``known_quotas``) from an earlier load of the same file under
    the same platform (the loader's check cache), read only when first asked for."""

    __slots__ = ("_known", "_load", "_model", "_quotas", "digest", "facts", "name")

    def __init__(self, facts: TeamFacts, digest: str, *, model: Team | None = None,
                 load: Callable[[], Team] | None = None) -> None:
        if model is None and load is None:
            raise ValueError("a TeamEntry needs its model or a way to load it")
        self.facts = facts
        #: the team's name (an attribute, not a property: the indexes over 1,000 teams
        #: read it thousands of times per spec)
        self.name = facts.name
        self.digest = digest
        self._load = load
        self._model = model
        self._quotas: dict[str, ResolvedQuota] | None = {}
        self._known: Callable[[], dict[str, ResolvedQuota]] | None = None

    @property
    def quotas(self) -> dict[str, ResolvedQuota]:
        if self._quotas is None:
            assert self._known is not None  # set together by known_quotas
            self._quotas, self._known = self._known(), None
        return self._quotas

    def known_quotas(self, read: Callable[[], dict[str, ResolvedQuota]]) -> None:
        """The quotas an earlier load resolved, to be read by ``read`` when needed."""
        self._quotas, self._known = None, read

    @property
    def model(self) -> Team:
        if self._model is None:
            assert self._load is not None  # guaranteed by __init__
            self._model = self._load()
            self._load = None
        return self._model

    def holds(self, team: Team) -> bool:
        """Is ``team`` this entry's model (already built), not some other Team object?"""
        return self._model is team

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TeamEntry):
            return NotImplemented
        return self.facts == other.facts and self.digest == other.digest

    def __hash__(self) -> int:
        return hash((self.facts, self.digest))

    def __repr__(self) -> str:
        return f"TeamEntry({self.name!r})"
