"""Labels and metadata every renderer shares, so conventions are written once."""

from __future__ import annotations

from typing import Any

from goldenpath.spec.models import Team

MANAGED_BY = {"app.kubernetes.io/managed-by": "goldenpath"}
LABEL_TEAM = "goldenpath.dev/team"
LABEL_ENVIRONMENT = "goldenpath.dev/environment"
LABEL_COST_CENTER = "goldenpath.dev/cost-center"
LABEL_SERVICE = "goldenpath.dev/service"
#: Kubernetes sets this label on every namespace itself; tenants cannot forge it.
LABEL_NAMESPACE_NAME = "kubernetes.io/metadata.name"
LABEL_APP_NAME = "app.kubernetes.io/name"
LABEL_PART_OF = "app.kubernetes.io/part-of"


def team_labels(team: Team, environment: str | None = None) -> dict[str, str]:
    """The labels every object of a team carries."""
    labels = {**MANAGED_BY, LABEL_TEAM: team.name, LABEL_PART_OF: team.name}
    if environment is not None:
        labels[LABEL_ENVIRONMENT] = environment
    return labels


def metadata(
    name: str,
    namespace: str | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A ``metadata`` block; empty label/annotation maps are omitted."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def k8s_object(api_version: str, kind: str, meta: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A manifest with ``apiVersion``, ``kind``, ``metadata`` and the given top-level fields."""
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **fields}
