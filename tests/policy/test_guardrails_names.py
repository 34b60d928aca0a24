"""unique-names refuses a Bundle in which two objects are one object on a cluster, or
share a file of the repository, whatever coordinates the renderer attached to them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.render import Bundle
from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.spec import PlatformSpec
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
SAME_OBJECT = ("two objects on one cluster may not share group, kind, namespace and name")
SAME_FILE = "two objects may not share a file of the repository"
UNSAFE = "it cannot be named safely in the repository"


def _one(bundle: Bundle, kind: str, name: str, namespace: str | None = None) -> Resource:
    (found,) = [r for r in bundle if (r.kind, r.name, r.coords.cluster) == (kind, name, "nonprod")
                and (namespace is None or r.namespace == namespace)]
    return found


def _copy(resource: Resource, coords: Coordinates | None = None, **meta: Any) -> Resource:
    body = copy.deepcopy(resource.body)
    body["metadata"].update(meta)
    return Resource(coords or resource.coords, body, resource.concern)


def _with(bundle: Bundle, *extra: Resource) -> Bundle:
    return Bundle.of([*bundle, *extra])


def _unique_names(spec: PlatformSpec, bundle: Bundle) -> list[str]:
    """The violations of unique-names alone, as ``object: message``."""
    result = next(r for r in policy.check(spec, bundle).results if r.name == "unique-names")
    return [f"{v.object_ref}: {v.message}" for v in result.violations]


def test_the_rendered_example_passes(example: Example) -> None:
    spec, bundle = example
    result = next(r for r in policy.check(spec, bundle).results if r.name == "unique-names")
    assert result.passed and result.covered == len(bundle)


def test_another_teams_application_under_the_same_name(example: Example) -> None:
    # What "a" + "b-c" and "a-b" + "c" did: checkout's Application took payments' name.
    # In its own project and namespace, so only the name gives it away.
    spec, bundle = example
    taken = _one(bundle, "Application", "payments.ledger.dev").name
    hijack = tamper(bundle, "Application", "argocd", "checkout.cart.dev",
                    lambda body: body["metadata"].update(name=taken))
    # coordinates refuses checkout's coordinates on a payments name; unique-names the copy
    assert refused(spec, hijack) == [
        f"[coordinates] nonprod/Application argocd/{taken}: has team checkout's coordinates "
        "(cluster nonprod, team checkout, environment dev, service cart), but goldenpath "
        "renders no Application in namespace argocd for them",
        f"[unique-names] nonprod/Application argocd/{taken}: is the same object as "
        f"nonprod/Application argocd/{taken} (group argoproj.io): {SAME_OBJECT}",
    ]


def test_the_same_object_under_another_version_of_its_group(example: Example) -> None:
    spec, bundle = example
    monitor = _one(bundle, "ServiceMonitor", "ledger", "payments-dev")
    other = _copy(monitor, Coordinates("nonprod", "checkout", "dev", "ledger"))
    other.body["apiVersion"] = "monitoring.coreos.com/v1alpha1"
    other.body["metadata"]["namespace"] = "payments-dev"
    assert [line for line in refused(spec, _with(bundle, other))
            if line.startswith("[unique-names]")] == [
        "[unique-names] nonprod/ServiceMonitor payments-dev/ledger: is the same object as "
        f"nonprod/ServiceMonitor payments-dev/ledger (group monitoring.coreos.com): {SAME_OBJECT}",
    ]


def test_a_cluster_scoped_object_is_the_same_in_any_namespace(example: Example) -> None:
    spec, bundle = example
    role = _one(bundle, "ClusterRole", "goldenpath-tenant-view")
    again = _copy(role, Coordinates("nonprod", "payments"), namespace="payments-dev")
    assert refused(spec, _with(bundle, again)) == [
        "[coordinates] nonprod/ClusterRole payments-dev/goldenpath-tenant-view: has team "
        "payments's coordinates (cluster nonprod, team payments, environment None, service "
        "None), but goldenpath renders no ClusterRole named goldenpath-tenant-view for them",
        "[unique-names] nonprod/ClusterRole payments-dev/goldenpath-tenant-view: is the same "
        "object as nonprod/ClusterRole goldenpath-tenant-view (group rbac.authorization.k8s.io)"
        f": {SAME_OBJECT}",
    ]


def test_an_exact_duplicate_is_one_object_and_one_file(example: Example) -> None:
    spec, bundle = example
    namespace = _one(bundle, "Namespace", "payments-dev")
    assert refused(spec, _with(bundle, _copy(namespace))) == [
        "[unique-names] nonprod/Namespace payments-dev: is the same object as "
        f"nonprod/Namespace payments-dev (group core): {SAME_OBJECT}",
        "[unique-names] nonprod/Namespace payments-dev: is written to "
        "tenants/payments/dev/namespace-payments-dev.yaml, as is nonprod/Namespace "
        f"payments-dev: {SAME_FILE}",
    ]


def test_two_objects_in_one_file(example: Example) -> None:
    # Different objects (another namespace), but the layout names files by kind and name.
    spec, bundle = example
    dashboard = _one(bundle, "ConfigMap", "dashboard.payments.dev")
    shadow = _copy(dashboard, namespace="payments-dev")
    shadow.body["data"] = {"note": "not a dashboard"}
    assert refused(spec, _with(bundle, shadow)) == [
        "[coordinates] nonprod/ConfigMap payments-dev/dashboard.payments.dev: has team "
        "payments's coordinates (cluster nonprod, team payments, environment dev, service "
        "None), but goldenpath renders no ConfigMap in namespace payments-dev for them",
        "[unique-names] nonprod/ConfigMap payments-dev/dashboard.payments.dev: is written to "
        "tenants/payments/dev/configmap-dashboard.payments.dev.yaml, as is nonprod/ConfigMap "
        f"monitoring/dashboard.payments.dev: {SAME_FILE}",
    ]


def test_the_same_name_on_another_cluster_is_another_object(example: Example) -> None:
    spec, bundle = example
    role = _one(bundle, "ClusterRole", "goldenpath-tenant-view")
    elsewhere = _copy(role, Coordinates("elsewhere"))
    result = next(r for r in policy.check(spec, _with(bundle, elsewhere)).results
                  if r.name == "unique-names")
    assert result.passed


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("name", "../../../clusters/prod/bootstrap", "name '../../../clusters/prod/bootstrap' is "
     "not a DNS-1123 subdomain"),
    ("name", "ledger\n", "name 'ledger\\n' is not a DNS-1123 subdomain"),
    ("name", "Ledger", "name 'Ledger' is not a DNS-1123 subdomain"),
    ("name", "x" * 254, f"name {'x' * 80!r}... is not a DNS-1123 subdomain"),
    ("namespace", "payments-dev/../x", "namespace 'payments-dev/../x' is not a DNS-1123 label"),
    ("namespace", "a.b", "namespace 'a.b' is not a DNS-1123 label"),
])
def test_names_that_would_leave_their_directory(example: Example, field: str, value: str,
                                                problem: str) -> None:
    spec, bundle = example
    monitor = _one(bundle, "ServiceMonitor", "ledger", "payments-dev")
    odd = _copy(monitor, Coordinates("nonprod", "payments", "dev", "x"), **{field: value})
    assert _unique_names(spec, _with(bundle, odd)) == [f"{odd.ref}: {problem}; {UNSAFE}"]


def test_a_kind_that_would_leave_its_directory(example: Example) -> None:
    spec, bundle = example
    body = {"apiVersion": "v1", "kind": "../ConfigMap",
            "metadata": {"name": "x", "namespace": "payments-dev"}}
    tampered = plus(bundle, Coordinates("nonprod", "payments", "dev"), body)
    assert _unique_names(spec, tampered) == [
        f"nonprod/../ConfigMap payments-dev/x: kind '../ConfigMap' is not a Kubernetes kind; "
        f"{UNSAFE}"]


def test_two_dashboards_with_one_uid(example: Example) -> None:
    # Another team's dashboard ConfigMap carrying payments' dashboard: Grafana would show
    # one of them under payments' uid.
    spec, bundle = example
    theirs = _one(bundle, "ConfigMap", "dashboard.payments.dev")
    ours = _one(bundle, "ConfigMap", "dashboard.checkout.dev")
    forged = copy.deepcopy(ours.body)
    forged["data"] = dict(theirs.body["data"])
    tampered = Bundle.of([Resource(r.coords, forged, r.concern) if r is ours else r
                          for r in bundle])
    (uid,) = (key.removesuffix(".json") for key in theirs.body["data"])
    assert refused(spec, tampered) == [
        f"[unique-names] nonprod/ConfigMap monitoring/dashboard.payments.dev: has dashboard "
        f"uid {uid!r}, as has nonprod/ConfigMap monitoring/dashboard.checkout.dev: Grafana "
        "keeps one dashboard per uid",
    ]
