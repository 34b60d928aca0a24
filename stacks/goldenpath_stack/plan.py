"""Which component owns which Bundle object: the pure half of the Pulumi program.

The program provisions one cluster. Its Bundle objects are grouped into components:
platform-owned objects (``team is None``) into the one cluster component, a team's
objects into one component per *part* (tenancy, delivery, observability) chosen by the
renderer concern that produced them. Nothing here imports pulumi, so the grouping is
plain data that tests and the program share.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from goldenpath.errors import GoldenpathError, NotFound
from goldenpath.render import Bundle, Resource

#: renderer concern -> the team component that provisions its objects
PART_OF_CONCERN: dict[str, str] = {
    "tenancy": "tenancy",
    "network": "tenancy",
    "rbac": "tenancy",
    "edge": "tenancy",
    "argocd": "delivery",
    "observability": "observability",
}
#: the part that holds platform-owned objects, whatever their concern
CLUSTER_PART = "cluster"
#: the order components are built in; see ``ordered`` for why namespaces lead
PARTS = (CLUSTER_PART, "tenancy", "delivery", "observability")


def concerns_of(part: str) -> frozenset[str]:
    """The renderer concerns whose team objects the ``part`` component provisions."""
    return frozenset(c for c, p in PART_OF_CONCERN.items() if p == part)


@dataclass(frozen=True)
class ComponentPlan:
    """The objects one component provisions. ``team`` is None for the cluster component."""

    part: str
    team: str | None
    objects: tuple[Resource, ...]

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Names of the Namespace objects this component creates, sorted."""
        return tuple(sorted(r.name for r in self.objects if r.kind == "Namespace"))


def cluster_objects(bundle: Bundle, cluster: str) -> Bundle:
    """The Bundle objects of ``cluster``; an unknown cluster name is an error, not an
    empty stack (an empty stack would delete everything on ``pulumi up``)."""
    known = bundle.clusters()
    if cluster not in known:
        raise NotFound(
            f"cluster {cluster!r} has no objects in this platform "
            f"(goldenpath:cluster must be one of: {', '.join(known) or 'none'})",
            kind="cluster",
            name=cluster,
        )
    return bundle.for_cluster(cluster)


def plan(objects: Iterable[Resource]) -> list[ComponentPlan]:
    """Group one cluster's objects into component plans, in build order."""
    groups: dict[tuple[str, str | None], list[Resource]] = {}
    for resource in objects:
        groups.setdefault(_owner(resource), []).append(resource)
    plans = [ComponentPlan(part, team, tuple(rs)) for (part, team), rs in groups.items()]
    return ordered(plans)


def ordered(plans: list[ComponentPlan]) -> list[ComponentPlan]:
    """Components that create namespaces first, then by part and team.

    A namespaced object depends on its Namespace resource, which must therefore exist
    (as a Python object) before the object is declared, whichever component holds it.
    """
    result = sorted(
        plans,
        key=lambda p: (not p.namespaces, PARTS.index(p.part), p.team or ""),
    )
    _check_namespaces_come_first(result)
    return result


def _check_namespaces_come_first(plans: list[ComponentPlan]) -> None:
    """Fail loudly if some object would be declared before its Namespace (possible only
    when two components both create namespaces and use each other's)."""
    pending = {ns for p in plans for ns in p.namespaces}
    for p in plans:
        pending -= set(p.namespaces)
        for r in p.objects:
            if r.namespace in pending:
                raise GoldenpathError(
                    f"{r.ref}: its namespace is created by a later component; "
                    f"the stack cannot order it (see plan.ordered)"
                )


def _owner(resource: Resource) -> tuple[str, str | None]:
    team = resource.coords.team
    if team is None:
        return CLUSTER_PART, None
    part = PART_OF_CONCERN.get(resource.concern)
    if part is None:
        # Failing here (and in the parity test) beats parking objects under a
        # provisional parent: moving them later changes their URNs and replaces them.
        raise UnmappedConcern(resource)
    return part, team


class UnmappedConcern(GoldenpathError):
    """A team object comes from a concern no Pulumi component provisions yet."""

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        super().__init__(
            f"{resource.ref}: concern {resource.concern!r} has no Pulumi component; "
            f"map it in stacks/goldenpath_stack/plan.py PART_OF_CONCERN"
        )


def team_summaries(plans: Iterable[ComponentPlan]) -> dict[str, dict[str, object]]:
    """Per team: its namespaces on this cluster and its object counts (a stack output)."""
    by_team: dict[str, list[Resource]] = {}
    for p in plans:
        if p.team is not None:
            by_team.setdefault(p.team, []).extend(p.objects)
    return {team: summarise(objects) for team, objects in sorted(by_team.items())}


def summarise(objects: Iterable[Resource]) -> dict[str, object]:
    """Namespaces created and object counts (total and per kind) of some objects."""
    objects = list(objects)
    counts = Counter(r.kind for r in objects)
    return {
        "namespaces": sorted(r.name for r in objects if r.kind == "Namespace"),
        "objectCount": len(objects),
        "objectCounts": dict(sorted(counts.items())),
    }
