"""Amplification guardrails: what one spec renders stays small enough to apply and review.

A few lines of a Team spec multiply into many objects (every service in every
environment) and into large ones (an AppProject lists every subject and repository of
its team). The platform bounds both (``spec.limits``):

- ``object-size``: every object's compact JSON, what client-side apply copies into the
  ``kubectl.kubernetes.io/last-applied-configuration`` annotation (all annotations of an
  object are limited to 256 KiB), is at most ``maxObjectBytes``;
- ``team-objects``: a team's objects, all environments and clusters together, are at
  most ``maxObjectsPerTeam`` (or the team's grant). An object is the team's when it lives
  in one of the team's namespaces or carries the team's label, whatever coordinates the
  renderer attached to it.
"""

from __future__ import annotations

from collections import Counter

import orjson

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.render.meta import LABEL_TEAM
from goldenpath.spec.resolve import PlatformSpec


def check_object_size(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    limit = spec.platform.spec.limits.max_object_bytes
    for resource in bundle:
        findings.cover()
        try:
            size = len(orjson.dumps(resource.body))
        except TypeError:  # orjson.JSONEncodeError: no Kubernetes object is like that
            findings.fail(resource, "cannot be written as JSON")
            continue
        if size > limit:
            findings.fail(resource, f"is {size} bytes as JSON, more than the platform's "
                          f"maximum of {limit} (spec.limits.maxObjectBytes): client-side "
                          "apply copies the object into an annotation limited to 256 KiB; "
                          "render less into it (fewer subjects, services or rules) or ask "
                          "a platform admin")


def check_team_objects(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owners = {ns: team for ns, (_, team, _) in tenant_namespaces(spec).items()}
    counts: Counter[str] = Counter()
    for resource in bundle:
        team = _team_of(resource, owners)
        if team is not None:
            counts[team] += 1
    for team in spec.team_names:
        findings.cover()
        limit = spec.max_objects(team)
        if counts[team] > limit:
            findings.fail(f"team {team}", f"renders {counts[team]} objects, more than the "
                          f"{limit} the platform allows a team; ask a platform admin to "
                          "raise spec.limits.maxObjectsPerTeam, or to grant the team more "
                          f"in spec.limits.grants.{team}.maxObjects, in platform.yaml")


def _team_of(resource: Resource, owners: dict[str, str]) -> str | None:
    """The team an object belongs to by its namespace, else by its team label."""
    team = owners.get(resource.namespace or "")
    if team is not None:
        return team
    meta = resource.body.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    found = labels.get(LABEL_TEAM) if isinstance(labels, dict) else None
    return found if isinstance(found, str) else None
