"""The shared edge: goldenpath's own Ingresses for the hosts teams own, the hosts written
on the Namespace, and the admission policy that keeps tenants' Services and Ingresses
inside their namespace, evaluated here with a CEL interpreter on hostile objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import celpy
import pytest
from celpy import celtypes, json_to_cel

from goldenpath.policy.schema import schema_errors
from goldenpath.render import Bundle, edge, render, tenancy
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_platform(EXAMPLE_PLATFORM)


@pytest.fixture(scope="module")
def bundle(spec: PlatformSpec) -> Bundle:
    return render(spec)


def test_one_ingress_per_service_and_serving_environment(bundle: Bundle) -> None:
    found = sorted((r.coords, r.namespace, r.name) for r in bundle.of_kind("Ingress"))
    assert found == [
        (Coordinates("nonprod", "checkout", "staging", "cart"), "checkout-staging", "cart"),
        (Coordinates("nonprod", "payments", "staging", "ledger"), "payments-staging", "ledger"),
        (Coordinates("nonprod", "storefront", "dev", "web"), "storefront-dev", "web"),
        (Coordinates("prod", "checkout", "prod", "cart"), "checkout-prod", "cart"),
        (Coordinates("prod", "payments", "prod", "ledger"), "payments-prod", "ledger"),
        (Coordinates("prod", "storefront", "prod", "web"), "storefront-prod", "web"),
    ]
    assert {r.concern for r in bundle.of_kind("Ingress")} == {"edge"}


def test_ingress_routes_the_host_to_the_services_http_port(bundle: Bundle) -> None:
    ledger = next(r for r in bundle.of_kind("Ingress") if r.namespace == "payments-prod")
    assert ledger.body == {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "ledger", "namespace": "payments-prod", "labels": {
            "app.kubernetes.io/managed-by": "goldenpath", "app.kubernetes.io/part-of": "payments",
            "goldenpath.dev/team": "payments", "goldenpath.dev/environment": "prod",
            "app.kubernetes.io/name": "ledger", "goldenpath.dev/service": "ledger"}},
        "spec": {"ingressClassName": "nginx", "rules": [{
            "host": "ledger.payments.example.com",
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {
                "service": {"name": "ledger", "port": {"name": "http"}}}}]}}]},
    }


def test_the_namespace_names_the_hosts_it_owns(bundle: Bundle) -> None:
    annotations = {r.name: r.body["metadata"]["annotations"].get(edge.ANNOTATION_HOSTS)
                   for r in bundle.of_kind("Namespace")}
    assert annotations["payments-prod"] == "ledger.payments.example.com"
    assert annotations["payments-dev"] is None  # ledger serves staging and prod only
    assert annotations["storefront-dev"] == "www.example.com"
    assert annotations["data-platform-dev"] is None
    assert edge.LABEL_TENANT == tenancy.LABEL_TENANT


def test_ingress_class_is_a_platform_setting(tmp_path: Path) -> None:
    services = [{"name": "api", "template": "python-service",
                 "ingress": {"host": "b.example.com", "environments": ["dev", "prod"]}},
                {"name": "web", "template": "python-service",
                 "ingress": {"host": "a.example.com", "environments": ["dev"]}}]
    platform = platform_doc(network={"ingressClassName": "traefik"})
    spec = load_platform(write_platform(tmp_path, platform, [team_doc("alpha",
                                                                      services=services)]))
    bundle = render(spec)
    assert {r.body["spec"]["ingressClassName"] for r in bundle.of_kind("Ingress")} == {"traefik"}
    dev = next(r for r in bundle.of_kind("Namespace") if r.name == "alpha-dev")
    assert dev.body["metadata"]["annotations"][edge.ANNOTATION_HOSTS] == \
        "a.example.com,b.example.com"
    policy = next(r for r in bundle.of_kind("ValidatingAdmissionPolicy"))
    assert "object.spec.ingressClassName == 'traefik'" in str(policy.body)


def test_one_policy_and_binding_per_cluster(bundle: Bundle) -> None:
    found = sorted((r.coords, r.kind, r.name, r.api_version) for r in bundle
                   if r.kind.startswith("ValidatingAdmissionPolicy"))
    api = "admissionregistration.k8s.io/v1"
    assert found == [
        (Coordinates("nonprod"), "ValidatingAdmissionPolicy", edge.POLICY, api),
        (Coordinates("nonprod"), "ValidatingAdmissionPolicyBinding", edge.POLICY, api),
        (Coordinates("prod"), "ValidatingAdmissionPolicy", edge.POLICY, api),
        (Coordinates("prod"), "ValidatingAdmissionPolicyBinding", edge.POLICY, api),
    ]
    binding = next(r for r in bundle.of_kind("ValidatingAdmissionPolicyBinding"))
    assert binding.body["spec"] == {
        "policyName": edge.POLICY, "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {
            "goldenpath.dev/tenant": "true"}}}}


@pytest.mark.parametrize(("version", "api"), [
    ("1.28", "v1beta1"), ("1.29", "v1beta1"), ("1.30", "v1"), ("1.31", "v1"), ("1.37", "v1"),
])
def test_policy_api_follows_the_kubernetes_version_and_passes_its_schema(
        tmp_path: Path, version: str, api: str) -> None:
    spec = load_platform(write_platform(tmp_path, platform_doc(kubernetesVersion=version),
                                        [team_doc("alpha")]))
    objects = list(edge.render(spec))
    assert {r.api_version for r in objects if r.coords.team is None} == {
        f"admissionregistration.k8s.io/{api}"}
    for resource in objects:
        assert schema_errors(resource.body, version) == [], resource.ref


@pytest.mark.parametrize("version", ["1.27", "1.25"])
def test_kubernetes_older_than_1_28_is_refused(tmp_path: Path, version: str) -> None:
    from goldenpath.errors import SpecError

    write_platform(tmp_path, platform_doc(kubernetesVersion=version), [team_doc("alpha")])
    with pytest.raises(SpecError) as info:
        load_platform(tmp_path)
    [issue] = info.value.issues
    assert str(issue).endswith(
        f'spec.kubernetesVersion: "{version}": is older than 1.28, the oldest Kubernetes '
        "goldenpath supports: tenant Services and Ingresses are checked by a "
        "ValidatingAdmissionPolicy, which older versions do not serve "
        f"(and {version} is long out of support)")


# --- the policy, evaluated -----------------------------------------------------------------


def _split(text: celtypes.StringType, sep: celtypes.StringType) -> celtypes.ListType:
    """Kubernetes' CEL strings library ``split`` (cel-go ext.Strings), which celpy lacks."""
    return celtypes.ListType([celtypes.StringType(p) for p in str(text).split(str(sep))])


class Admission:
    """Evaluates the rendered policy as the API server would: the variables, then every
    validation; returns the messages of those that fail."""

    def __init__(self, policy: dict[str, Any]) -> None:
        env = celpy.Environment()
        spec = policy["spec"]
        self.variables = [(v["name"], env.program(env.compile(v["expression"]),
                                                  functions={"split": _split}))
                          for v in spec["variables"]]
        self.checks = [(env.program(env.compile(v["expression"]), functions={"split": _split}),
                        v["message"]) for v in spec["validations"]]

    def denials(self, obj: dict[str, Any], namespace: dict[str, Any]) -> list[str]:
        activation: dict[str, Any] = {
            "object": json_to_cel(obj), "namespaceObject": json_to_cel(namespace),
            "request": json_to_cel({"kind": {"kind": obj["kind"]}}),
        }
        variables = {}
        for name, program in self.variables:
            variables[name] = program.evaluate({**activation,
                                                "variables": json_to_cel(variables)})
        activation["variables"] = celtypes.MapType(
            {celtypes.StringType(k): v for k, v in variables.items()})
        return [message for program, message in self.checks
                if not bool(program.evaluate(activation))]


@pytest.fixture(scope="module")
def admission(bundle: Bundle) -> Admission:
    return Admission(next(r for r in bundle.of_kind("ValidatingAdmissionPolicy")).body)


def _namespace(bundle: Bundle, name: str) -> dict[str, Any]:
    return next(r.body for r in bundle.of_kind("Namespace") if r.name == name)


def _service(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "api", "namespace": "payments-prod"},
            "spec": {"selector": {"app": "api"}, "ports": [{"name": "http", "port": 80}],
                     **spec}}


TYPE = ("tenant Services must be of type ClusterIP: ExternalName, NodePort and LoadBalancer "
        "reach past the namespace; traffic enters through the platform's Ingress")
EXTERNAL_IPS = ("tenant Services may not set externalIPs: they capture traffic for those "
                "addresses on every node")


@pytest.mark.parametrize(("fields", "denied"), [
    ({}, []),
    ({"type": "ClusterIP"}, []),
    ({"type": "ClusterIP", "clusterIP": "None"}, []),
    ({"type": "ExternalName", "externalName": "checkout.checkout-prod.svc.cluster.local"},
     [TYPE]),
    ({"type": "NodePort"}, [TYPE]),
    ({"type": "LoadBalancer"}, [TYPE]),
    ({"externalIPs": ["10.0.0.10"]}, [EXTERNAL_IPS]),
    ({"type": "LoadBalancer", "externalIPs": ["203.0.113.7"]}, [TYPE, EXTERNAL_IPS]),
], ids=["default", "cluster-ip", "headless", "external-name", "node-port", "load-balancer",
        "external-ips", "both"])
def test_policy_on_services(admission: Admission, bundle: Bundle, fields: dict[str, Any],
                            denied: list[str]) -> None:
    assert admission.denials(_service(**fields), _namespace(bundle, "payments-prod")) == denied


HOSTS = ("tenant Ingresses may route only the hosts their namespace owns (annotation "
         "goldenpath.dev/ingress-hosts on the Namespace)")
TLS = "tenant Ingresses may terminate TLS only for the hosts their namespace owns"
SNIPPET = ("tenant Ingresses may not carry snippet annotations: they inject configuration "
           "into the shared ingress controller")
DEFAULT = ("tenant Ingresses may not set a defaultBackend: it catches every host no other "
           "Ingress claims")
CLASS = "tenant Ingresses must use the ingress class nginx"


def _with(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    import copy

    out = copy.deepcopy(body)
    for key, value in changes.items():
        if key == "annotations":
            out["metadata"]["annotations"] = value
        else:
            out["spec"][key] = value
    return out


def test_policy_admits_the_ingresses_goldenpath_renders(admission: Admission,
                                                        bundle: Bundle) -> None:
    for ingress in bundle.of_kind("Ingress"):
        namespace = _namespace(bundle, str(ingress.namespace))
        assert admission.denials(ingress.body, namespace) == [], ingress.ref


@pytest.mark.parametrize(("changes", "denied"), [
    ({"rules": [{"host": "www.example.com"}]}, [HOSTS]),  # storefront's host
    ({"rules": [{"host": "ledger.payments.example.com"}, {"host": "cart.example.com"}]},
     [HOSTS]),
    ({"rules": [{"http": {"paths": []}}]}, [HOSTS]),  # no host: every host
    ({"tls": [{"hosts": ["www.example.com"], "secretName": "stolen"}]}, [TLS]),
    ({"defaultBackend": {"service": {"name": "ledger", "port": {"name": "http"}}}}, [DEFAULT]),
    ({"ingressClassName": "internal"}, [CLASS]),
    ({"annotations": {"nginx.ingress.kubernetes.io/server-snippet": "location / {}"}},
     [SNIPPET]),
    ({"annotations": {"nginx.ingress.kubernetes.io/configuration-snippet": "x"}}, [SNIPPET]),
], ids=["foreign-host", "extra-host", "no-host", "foreign-tls", "default-backend",
        "other-class", "server-snippet", "configuration-snippet"])
def test_policy_on_ingresses(admission: Admission, bundle: Bundle, changes: dict[str, Any],
                             denied: list[str]) -> None:
    ledger = next(r.body for r in bundle.of_kind("Ingress") if r.namespace == "payments-prod")
    namespace = _namespace(bundle, "payments-prod")
    assert admission.denials(_with(ledger, **changes), namespace) == denied


def test_policy_on_a_namespace_that_owns_no_host(admission: Admission, bundle: Bundle) -> None:
    ledger = next(r.body for r in bundle.of_kind("Ingress") if r.namespace == "payments-prod")
    # payments-dev serves no host: even the team's own host is not routed there
    assert admission.denials(ledger, _namespace(bundle, "payments-dev")) == [HOSTS]
