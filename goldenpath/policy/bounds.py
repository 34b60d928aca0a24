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
  renderer attached to it;
- ``quota-max``: no ResourceQuota in a team's namespace allows more than the team's
  maximum (``maxQuota`` and its grant), the bound the spec checks hold team specs to.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import orjson

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.render.meta import LABEL_TEAM
from goldenpath.spec.quantity import QuantityError, parse_quantity
from goldenpath.spec.resolve import PlatformSpec

#: ResourceQuota ``hard`` key -> the quota field that bounds it
_QUOTA_FIELDS = {
    "requests.cpu": "cpu",
    "limits.cpu": "limits_cpu",
    "requests.memory": "memory",
    "limits.memory": "limits_memory",
    "requests.storage": "storage",
    "requests.ephemeral-storage": "ephemeral_storage",
    "limits.ephemeral-storage": "ephemeral_storage",
    "pods": "pods",
    "services": "services",
    "secrets": "secrets",
    "configmaps": "configmaps",
    "persistentvolumeclaims": "persistentvolumeclaims",
}


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


def check_quota_max(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owners = {ns: team for ns, (_, team, _) in tenant_namespaces(spec).items()}
    for resource in bundle.of_kind("ResourceQuota"):
        team = owners.get(resource.namespace or "")
        if team is None:
            continue
        findings.cover()
        maximum = spec.max_quota(team)
        quota_spec = resource.body.get("spec")
        hard = quota_spec.get("hard") if isinstance(quota_spec, dict) else None
        for key, field in _QUOTA_FIELDS.items():
            if not isinstance(hard, dict) or not isinstance(hard.get(key), str | int):
                continue  # absent, or of a type the schema guardrail refuses
            bound, value = getattr(maximum, field), _amount(hard[key])
            # an amount that is not a quantity is resource-quota's to refuse
            if value is not None and value > (_amount(bound) or 0):
                findings.fail(resource, f"{key} {_shown(hard[key])} is above the maximum "
                              f"{bound} of team {team} (spec.limits.maxQuota.{_camel(field)} "
                              "and its grant)")


def _amount(value: object) -> Decimal | None:
    """The value of a quota amount (a count or a quantity), None if it is neither or is
    beyond what a quantity can be (both are resource-quota's to refuse)."""
    if not isinstance(value, str | int):
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def _shown(value: object) -> str:
    """A tampered amount for a message, never built from an unbounded value."""
    if isinstance(value, str):
        return value if len(value) <= 64 else value[:64] + "..."
    if isinstance(value, int) and value.bit_length() <= 200:
        return str(value)
    return f"a {type(value).__name__}"


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)
