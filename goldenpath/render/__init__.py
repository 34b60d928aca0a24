"""Render layer: a pure function from a validated spec to a Bundle.

Each concern is one module with a ``render(spec) -> Iterator[Resource]``; ``render``
runs them all and orders the result. No I/O happens here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from goldenpath.render import argocd, network, observability, rbac, tenancy
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.spec.resolve import PlatformSpec

Renderer = Callable[[PlatformSpec], Iterable[Resource]]

#: The concerns, in the order their objects are produced (the Bundle re-sorts anyway).
RENDERERS: tuple[Renderer, ...] = (
    tenancy.render,
    network.render,
    rbac.render,
    observability.render,
    argocd.render,
)


def render(spec: PlatformSpec) -> Bundle:
    """Render every concern of ``spec`` into one deterministic Bundle."""
    return Bundle.of(resource for renderer in RENDERERS for resource in renderer(spec))


__all__ = ["Bundle", "Coordinates", "Resource", "render"]
