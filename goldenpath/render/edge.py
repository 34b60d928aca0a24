"""The shared edge: how traffic enters a tenant namespace, and what a tenant cannot claim.

Tenants share each cluster's ingress controller and its Service network, so a tenant that
could write an Ingress could claim another team's host, and one that could write
Endpoints, an ExternalName Service or ``externalIPs`` could send traffic to (or capture
traffic for) addresses that are not its own. So:

- goldenpath renders the Ingress of every service with ``ingress.host``, in the team's
  namespace of each environment that serves it, routing the host to the Service named
  after the service, port ``http``; tenants cannot write Ingresses, Gateway API routes,
  Endpoints or EndpointSlices at all (see :data:`goldenpath.render.rbac.TENANT_KINDS`);
- the hosts a namespace serves are written on the Namespace (:data:`ANNOTATION_HOSTS`),
  which tenants cannot change;
- per cluster, a ValidatingAdmissionPolicy denies, in every tenant namespace, Services
  other than ClusterIP, Services with ``externalIPs``, and Ingresses for hosts the
  namespace does not own, with a default backend, another class or snippet annotations.
  RBAC cannot look inside an object; the policy does, whoever the writer (a tenant, Argo
  CD, a controller a tenant runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.concern import Concern
from goldenpath.render.meta import (
    LABEL_APP_NAME,
    LABEL_SERVICE,
    MANAGED_BY,
    k8s_object,
    metadata,
    team_labels,
)
from goldenpath.spec.models import ServiceSpec, Team
from goldenpath.spec.resolve import PlatformSpec, namespace_name

CONCERN = "edge"
POLICY = "goldenpath-tenant-edge"
#: On every tenant Namespace that serves a host: the hosts, comma-separated, sorted.
ANNOTATION_HOSTS = "goldenpath.dev/ingress-hosts"
#: Set on every tenant namespace by the tenancy renderer (tenancy.LABEL_TENANT, which
#: imports this module); the policy selects on it.
LABEL_TENANT = "goldenpath.dev/tenant"
#: The Service port every Ingress routes to (the golden-path templates name it so).
SERVICE_PORT_NAME = "http"
_TENANT_NAMESPACES = {"matchLabels": {LABEL_TENANT: "true"}}


def serves(service: ServiceSpec, team: Team, env: str) -> bool:
    """Does ``service`` serve its ingress host in ``env``?"""
    ingress = service.ingress
    if ingress is None or env not in team.spec.environments:
        return False
    return ingress.environments is None or env in ingress.environments


def ingress_services(team: Team, env: str) -> list[ServiceSpec]:
    """The team's services with an Ingress in ``env``."""
    return [s for s in team.spec.services if serves(s, team, env)]


def hosts_annotation(team: Team, env: str) -> dict[str, str]:
    """The Namespace annotation naming the hosts ``<team>-<env>`` owns (empty if none)."""
    hosts = sorted({s.ingress.host for s in ingress_services(team, env) if s.ingress})
    return {ANNOTATION_HOSTS: ",".join(hosts)} if hosts else {}


def render_platform(spec: PlatformSpec) -> Iterator[Resource]:
    for cluster in spec.clusters:
        coords = Coordinates(cluster)
        yield Resource(coords, admission_policy(spec), CONCERN)
        yield Resource(coords, admission_binding(spec), CONCERN)


def render_team(spec: PlatformSpec, team: Team) -> Iterator[Resource]:
    for env in team.spec.environments:
        cluster = spec.cluster_of[env].name
        for service in ingress_services(team, env):
            if service.ingress is not None:
                body = ingress(spec, team, env, service.name, service.ingress.host)
                yield Resource(Coordinates(cluster, team.name, env, service.name), body,
                               CONCERN)


RENDERER = Concern(render_platform, render_team)
render = RENDERER.render


def ingress(spec: PlatformSpec, team: Team, env: str, service: str, host: str) -> dict[str, Any]:
    """Route ``host`` to the Service ``service``, port ``http``, in ``<team>-<env>``."""
    labels = {**team_labels(team, env), LABEL_APP_NAME: service, LABEL_SERVICE: service}
    backend = {"service": {"name": service, "port": {"name": SERVICE_PORT_NAME}}}
    rule = {"host": host,
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    return k8s_object("networking.k8s.io/v1", "Ingress",
                      metadata(service, namespace_name(team.name, env), labels),
                      spec={"ingressClassName": spec.platform.spec.network.ingress_class_name,
                            "rules": [rule]})


def admission_api(spec: PlatformSpec) -> str:
    """ValidatingAdmissionPolicy is v1 from Kubernetes 1.30, v1beta1 in 1.28 and 1.29
    (there behind the ValidatingAdmissionPolicy feature gate; see the README)."""
    major, minor = (int(p) for p in spec.platform.spec.kubernetes_version.split("."))
    version = "v1" if (major, minor) >= (1, 30) else "v1beta1"
    return f"admissionregistration.k8s.io/{version}"


def _rule(group: str, resource: str) -> dict[str, Any]:
    return {"apiGroups": [group], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
            "resources": [resource]}


def validations(ingress_class: str) -> list[dict[str, str]]:
    """The CEL checks, each with the message a refused writer sees. Kind guards make each
    check apply to one kind; ``variables.hosts`` are the namespace's own hosts."""
    service = "request.kind.kind != 'Service' || "
    ingress = "request.kind.kind != 'Ingress' || "
    return [
        {"expression": service + "!has(object.spec.type) || object.spec.type == 'ClusterIP'",
         "message": "tenant Services must be of type ClusterIP: ExternalName, NodePort and "
                    "LoadBalancer reach past the namespace; traffic enters through the "
                    "platform's Ingress"},
        {"expression": service + "!has(object.spec.externalIPs) || "
                                 "size(object.spec.externalIPs) == 0",
         "message": "tenant Services may not set externalIPs: they capture traffic for "
                    "those addresses on every node"},
        {"expression": ingress + "!has(object.spec.defaultBackend)",
         "message": "tenant Ingresses may not set a defaultBackend: it catches every host "
                    "no other Ingress claims"},
        {"expression": ingress + f"has(object.spec.ingressClassName) && "
                                 f"object.spec.ingressClassName == '{ingress_class}'",
         "message": f"tenant Ingresses must use the ingress class {ingress_class}"},
        {"expression": ingress + "!has(object.spec.rules) || object.spec.rules.all(r, "
                                 "has(r.host) && r.host in variables.hosts)",
         "message": f"tenant Ingresses may route only the hosts their namespace owns "
                    f"(annotation {ANNOTATION_HOSTS} on the Namespace)"},
        {"expression": ingress + "!has(object.spec.tls) || object.spec.tls.all(t, "
                                 "!has(t.hosts) || t.hosts.all(h, h in variables.hosts))",
         "message": "tenant Ingresses may terminate TLS only for the hosts their namespace "
                    "owns"},
        {"expression": ingress + "!has(object.metadata.annotations) || "
                                 "!object.metadata.annotations.exists(k, k.endsWith('-snippet'))",
         "message": "tenant Ingresses may not carry snippet annotations: they inject "
                    "configuration into the shared ingress controller"},
    ]


def admission_policy(spec: PlatformSpec) -> dict[str, Any]:
    annotations = "namespaceObject.metadata.annotations"
    hosts = (f"has({annotations}) && '{ANNOTATION_HOSTS}' in {annotations} ? "
             f"{annotations}['{ANNOTATION_HOSTS}'].split(',') : []")
    body = {
        "failurePolicy": "Fail",
        "matchConstraints": {
            "namespaceSelector": _TENANT_NAMESPACES,
            "resourceRules": [_rule("", "services"), _rule("networking.k8s.io", "ingresses")],
        },
        "variables": [{"name": "hosts", "expression": hosts}],
        "validations": validations(spec.platform.spec.network.ingress_class_name),
    }
    return k8s_object(admission_api(spec), "ValidatingAdmissionPolicy",
                      metadata(POLICY, None, MANAGED_BY), spec=body)


def admission_binding(spec: PlatformSpec) -> dict[str, Any]:
    body = {"policyName": POLICY, "validationActions": ["Deny"],
            "matchResources": {"namespaceSelector": _TENANT_NAMESPACES}}
    return k8s_object(admission_api(spec), "ValidatingAdmissionPolicyBinding",
                      metadata(POLICY, None, MANAGED_BY), spec=body)
