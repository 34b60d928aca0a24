"""Shared-edge guardrails: no object in the Bundle exposes another tenant's pods or claims
a host its namespace does not serve, and every cluster holding tenants enforces the same
at admission.

An Ingress is checked against the hosts the spec gives its namespace (not against its
coordinates, nor the Namespace annotation the renderer wrote), and so is that annotation,
which is what the admission policy lets the namespace's own Ingresses route; a Service, Endpoints,
EndpointSlice or Gateway API route is refused wherever it appears, since goldenpath
renders none (tenants' own come from their repositories and meet the admission policy,
their role and their project). The admission policy must be exactly what the platform
spec renders: a weakened expression is a tampered policy.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from goldenpath.policy.index import tenant_namespaces
from goldenpath.policy.report import Findings
from goldenpath.render import edge
from goldenpath.render.bundle import Bundle, Resource
from goldenpath.spec.resolve import PlatformSpec

#: Kinds goldenpath never renders because each can route traffic past a namespace.
NEVER_RENDERED = {
    "Endpoints": "hand-made endpoints send a Service's traffic to any address",
    "EndpointSlice": "hand-made endpoints send a Service's traffic to any address",
    "Service": "Services come from the teams' repositories, where admission checks them",
}
GATEWAY_GROUP = "gateway.networking.k8s.io"


def check_objects(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    owned = tenant_namespaces(spec)
    for resource in bundle:
        group = resource.api_version.rpartition("/")[0]
        if resource.kind in NEVER_RENDERED and group in ("", "discovery.k8s.io"):
            findings.cover()
            findings.fail(resource, f"goldenpath renders no {resource.kind}: "
                          f"{NEVER_RENDERED[resource.kind]}")
        elif group == GATEWAY_GROUP:
            findings.cover()
            findings.fail(resource, "goldenpath renders no Gateway API objects: they claim "
                          "hosts and routes at the shared edge; hosts are served by Ingresses")
        elif resource.kind == "Ingress":
            findings.cover()
            for message in _ingress_issues(spec, resource, owned):
                findings.fail(resource, message)
        elif resource.kind == "Namespace" and group == "":
            findings.cover()
            message = _hosts_issue(spec, resource, owned)
            if message:
                findings.fail(resource, message)


def _hosts_issue(spec: PlatformSpec, namespace: Resource,
                 owned: Mapping[str, tuple[str, str, str]]) -> str:
    """The hosts annotation is the spec's hosts of the namespace (absent when none): at
    admission it is the list of hosts the namespace's Ingresses may route."""
    annotations = namespace.body.get("metadata", {}).get("annotations") or {}
    found = annotations.get(edge.ANNOTATION_HOSTS)
    where = owned.get(namespace.name)
    expected = edge.hosts_annotation(spec.team(where[1]), where[2]).get(
        edge.ANNOTATION_HOSTS) if where else None
    if found == expected:
        return ""
    return (f"annotation {edge.ANNOTATION_HOSTS} is {found!r}, but the spec has it serve "
            f"{expected or 'no host'}: the admission policy lets its Ingresses route "
            "exactly the hosts listed there")


def _ingress_issues(spec: PlatformSpec, ingress: Resource,
                    owned: Mapping[str, tuple[str, str, str]]) -> Iterator[str]:
    namespace = ingress.namespace or ""
    if namespace not in owned:
        yield f"namespace {namespace!r} is not a tenant namespace; goldenpath renders " \
              "Ingresses only for the hosts of tenant namespaces"
        return
    _, team, env = owned[namespace]
    served = {s.ingress.host: s.name for s in edge.ingress_services(spec.team(team), env)
              if s.ingress is not None}
    body: dict[str, Any] = ingress.body.get("spec") or {}
    expected_class = spec.platform.spec.network.ingress_class_name
    if body.get("ingressClassName") != expected_class:
        yield f"ingressClassName is {body.get('ingressClassName')!r}, not the platform's " \
              f"{expected_class!r}"
    if "defaultBackend" in body:
        yield "has a defaultBackend, which catches every host no other Ingress claims"
    annotations = ingress.body.get("metadata", {}).get("annotations") or {}
    for key in sorted(k for k in annotations if k.endswith("-snippet")):
        yield f"annotation {key} injects configuration into the shared ingress controller"
    hosts = [rule.get("host") for rule in body.get("rules") or []]
    hosts += [h for tls in body.get("tls") or [] for h in tls.get("hosts") or []]
    for host in hosts:
        if host not in served:
            yield f"routes host {host!r}, which {namespace} does not serve " \
                  f"(it serves: {', '.join(sorted(served)) or 'none'})"
    for rule in body.get("rules") or []:
        for path in (rule.get("http") or {}).get("paths") or []:
            backend = (path.get("backend") or {}).get("service") or {}
            if served.get(rule.get("host")) not in (None, backend.get("name")):
                yield f"routes host {rule.get('host')!r} to Service {backend.get('name')!r}, " \
                      f"not to {served[rule.get('host')]!r}, the service that owns it"


def check_admission(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    expected_policy = edge.admission_policy(spec)
    expected_binding = edge.admission_binding(spec)
    clusters = {cluster for cluster, _, _ in tenant_namespaces(spec).values()}
    for cluster in sorted(clusters):
        objects = bundle.for_cluster(cluster)
        for expected in (expected_policy, expected_binding):
            findings.cover()
            kind = expected["kind"]
            found = [r for r in objects.of_kind(kind) if r.name == edge.POLICY]
            if not found:
                findings.fail(f"cluster {cluster}", f"has no {kind} {edge.POLICY}: nothing "
                              "stops a tenant's ExternalName Service or foreign-host Ingress")
            for resource in found:
                if resource.body.get("apiVersion") != expected["apiVersion"] \
                        or resource.body.get("spec") != expected["spec"]:
                    findings.fail(resource, "differs from the policy the platform spec "
                                  f"renders: {_difference(resource.body, expected)}")


def _difference(found: dict[str, Any], expected: dict[str, Any]) -> str:
    if found.get("apiVersion") != expected["apiVersion"]:
        return f"apiVersion {found.get('apiVersion')}, expected {expected['apiVersion']}"
    spec, want = found.get("spec") or {}, expected["spec"]
    keys = sorted(k for k in set(spec) | set(want) if spec.get(k) != want.get(k))
    return f"spec.{', spec.'.join(keys)}"
