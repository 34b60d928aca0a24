"""Tampering helpers: copy a Bundle, change one object, and see the guardrails refuse it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.errors import PolicyViolation
from goldenpath.render.bundle import Bundle, Coordinates, Resource
from goldenpath.spec import PlatformSpec

Body = dict[str, Any]


def _matches(r: Resource, kind: str, namespace: str | None, name: str, cluster: str | None) -> bool:
    return (r.kind == kind and r.namespace == namespace and r.name == name
            and (cluster is None or r.coords.cluster == cluster))


def tamper(bundle: Bundle, kind: str, namespace: str | None, name: str,
           change: Callable[[Body], object], *, cluster: str | None = None) -> Bundle:
    """A copy of ``bundle`` where ``change`` has edited a deep copy of exactly one body."""
    out, hits = [], 0
    for r in bundle:
        if _matches(r, kind, namespace, name, cluster):
            hits += 1
            body = copy.deepcopy(r.body)
            change(body)
            out.append(Resource(r.coords, body, r.concern))
        else:
            out.append(r)
    assert hits == 1, f"{kind} {namespace}/{name}: {hits} matches"
    return Bundle.of(out)


def without(bundle: Bundle, kind: str, namespace: str | None, name: str) -> Bundle:
    kept = [r for r in bundle if not _matches(r, kind, namespace, name, None)]
    assert len(kept) == len(bundle) - 1
    return Bundle.of(kept)


def plus(bundle: Bundle, coords: Coordinates, body: Body) -> Bundle:
    return Bundle.of([*bundle, Resource(coords, body)])


def refused(spec: PlatformSpec, bundle: Bundle) -> list[str]:
    """Every violation ``policy.enforce`` raises, as ``[guardrail] object: message``."""
    with pytest.raises(PolicyViolation) as info:
        policy.enforce(spec, bundle)
    lines = [str(v) for v in info.value.violations]
    count = len(lines)
    assert str(info.value).splitlines() == [
        f"{count} guardrail violation{'s' if count != 1 else ''}; nothing was written",
        *(f"  {line}" for line in lines),
    ]
    return lines
