"""unique-names: every object of a Bundle is one object on its cluster and one file.

Two objects with the same identity on a cluster are one object to the API server: the
second would overwrite the first, and as Argo CD Applications one team would take over
another's. Identity is read from each object itself: the API group of its ``apiVersion``
(not the version: ``v1beta1`` and ``v1`` of a group serve the same objects), its
``kind``, ``metadata.namespace`` (ignored for cluster-scoped kinds, as the API server
ignores it) and ``metadata.name``; the cluster is the one the object is applied to.

Grafana dashboards are objects too: the dashboard sidecar hands Grafana every dashboard
of a ConfigMap labelled ``grafana_dashboard``, and Grafana keeps one per ``uid``, so two
dashboards with one uid on a cluster are refused (uids come from the dashboard JSON).

Two objects written to one repository path would overwrite each other's file; the path
is the one the GitOps writer uses (:func:`goldenpath.render.paths.path_for`). Since names
and namespaces are joined into paths, they must be DNS-1123 names and kinds plain
words: a name like ``../x`` would be written outside its directory.

The names goldenpath renders cannot collide by construction (see
:mod:`goldenpath.render.paths`); this guardrail holds whatever a Bundle contains.
"""

from __future__ import annotations

import re

import orjson

from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.render.observability.dashboards import DASHBOARD_LABEL
from goldenpath.render.paths import path_for
from goldenpath.spec.resolve import PlatformSpec

Identity = tuple[str, str, str, str, str]

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")
#: Built-in cluster-scoped kinds (by group): a namespace on them means nothing.
CLUSTER_SCOPED = frozenset({
    ("", "Namespace"), ("", "Node"), ("", "PersistentVolume"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
    ("apiregistration.k8s.io", "APIService"), ("scheduling.k8s.io", "PriorityClass"),
    ("storage.k8s.io", "StorageClass"), ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
})


def group_of(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; ``v1`` (the core group) -> ``""``."""
    group, slash, _ = api_version.rpartition("/")
    return group if slash else ""


def identity(resource: Resource) -> Identity:
    """(cluster, group, kind, namespace, name): what the API server keys the object by."""
    group, kind = group_of(resource.api_version), resource.kind
    namespace = "" if (group, kind) in CLUSTER_SCOPED else resource.namespace or ""
    return resource.coords.cluster, group, kind, namespace, resource.name


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    objects: dict[Identity, Resource] = {}
    files: dict[str, Resource] = {}
    uids: dict[tuple[str, str], Resource] = {}
    for resource in bundle:
        findings.cover()
        if not _well_formed(resource, findings):
            continue
        for uid in _dashboard_uids(resource):
            key = (resource.coords.cluster, uid)
            if key in uids:
                findings.fail(resource, f"has dashboard uid {_shown(uid)}, as has "
                              f"{uids[key].ref}: Grafana keeps one dashboard per uid")
            uids.setdefault(key, resource)
        first = objects.setdefault(identity(resource), resource)
        if first is not resource:
            group = group_of(resource.api_version) or "core"
            findings.fail(resource, f"is the same object as {first.ref} (group {group}): "
                          "two objects on one cluster may not share group, kind, namespace "
                          "and name")
        path = path_for(resource)
        taken = files.setdefault(path, resource)
        if taken is not resource:
            findings.fail(resource, f"is written to {path}, as is {taken.ref}: two objects "
                          "may not share a file of the repository")


def _dashboard_uids(resource: Resource) -> list[str]:
    """The uids of the Grafana dashboards a ConfigMap hands the dashboard sidecar (one per
    data key; a key whose value is not a dashboard has none)."""
    labels = resource.body["metadata"].get("labels") or {}
    if resource.kind != "ConfigMap" or DASHBOARD_LABEL not in labels:
        return []
    found = []
    for value in (resource.body.get("data") or {}).values():
        try:
            dashboard = orjson.loads(value)
        except (orjson.JSONDecodeError, TypeError):
            continue
        uid = dashboard.get("uid") if isinstance(dashboard, dict) else None
        if isinstance(uid, str):
            found.append(uid)
    return found


def _well_formed(resource: Resource, findings: Findings) -> bool:
    """Names that are safe to join into a path (and that the API server would accept)."""
    problems = []
    if _KIND.fullmatch(resource.kind) is None:
        problems.append(f"kind {_shown(resource.kind)} is not a Kubernetes kind")
    name = resource.name
    if len(name) > 253 or _SUBDOMAIN.fullmatch(name) is None:
        problems.append(f"name {_shown(name)} is not a DNS-1123 subdomain")
    namespace = resource.namespace
    if namespace is not None and (len(namespace) > 63 or _LABEL.fullmatch(namespace) is None):
        problems.append(f"namespace {_shown(namespace)} is not a DNS-1123 label")
    for problem in problems:
        findings.fail(resource, f"{problem}; it cannot be named safely in the repository")
    return not problems


def _shown(value: str, limit: int = 80) -> str:
    """A bounded quotation of a value that may be anything."""
    return repr(value[:limit]) + ("..." if len(value) > limit else "")
