"""Render layer: a pure function from a validated spec to a Bundle.

Each concern is one module with a :class:`~goldenpath.render.concern.Concern`: a platform
part (cluster-level objects) and a per-team part. ``render`` runs both parts of every
concern for every team; ``render_teams`` runs the platform parts and the team parts of
some teams only, which is what apply needs when most teams' inputs did not change (see
:mod:`goldenpath.render.digest`). Both order the result the same way. No I/O happens here.
"""

from __future__ import annotations

from collections.abc import Iterable

from goldenpath.gcpause import cyclic_gc_paused
from goldenpath.render import argocd, edge, network, observability, rbac, tenancy
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.render.concern import Concern
from goldenpath.spec.resolve import PlatformSpec

#: The concerns, in the order their objects are produced (the Bundle re-sorts anyway).
CONCERNS: tuple[Concern, ...] = (
    tenancy.RENDERER,
    network.RENDERER,
    rbac.RENDERER,
    edge.RENDERER,
    observability.RENDERER,
    argocd.RENDERER,
)


def render(spec: PlatformSpec) -> Bundle:
    """Render every concern of ``spec`` into one deterministic Bundle."""
    # No cycles among the rendered objects; the collector was half of render time.
    with cyclic_gc_paused():
        return Bundle.of(r for concern in CONCERNS for r in concern.render(spec))


def render_teams(spec: PlatformSpec, names: Iterable[str]) -> Bundle:
    """The platform objects and the objects of the teams ``names`` only: for each of them
    exactly what ``render(spec)`` holds."""
    teams = [spec.team(name) for name in sorted(set(names))]
    with cyclic_gc_paused():
        return Bundle.of(r for concern in CONCERNS for r in concern.render(spec, teams))


__all__ = ["Bundle", "Coordinates", "Resource", "render", "render_teams"]
