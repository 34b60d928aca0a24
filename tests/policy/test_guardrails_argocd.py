"""Argo CD guardrails refuse AppProjects and Applications that reach past the team."""

from __future__ import annotations

import copy
from typing import Any

from goldenpath.render import Bundle
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
SERVER = "https://kubernetes.default.svc"


def _project(bundle: Bundle, **spec: Any) -> dict[str, Any]:
    """The rendered payments project of nonprod, renamed and with ``spec`` changed: a
    project that passes everything except what the test changes."""
    real = next(r for r in bundle.of_kind("AppProject")
                if r.name == "payments" and r.coords.cluster == "nonprod")
    body = copy.deepcopy(real.body)
    body["metadata"]["name"] = "tampered"
    del body["spec"]["roles"]  # their policies name the project payments
    body["spec"].update(spec)
    return body


def _add_project(example: Example, **spec: Any) -> list[str]:
    spec_, bundle = example
    return refused(spec_, plus(bundle, Coordinates("nonprod", "payments"),
                               _project(bundle, **spec)))


REF = "[argocd-projects] nonprod/AppProject argocd/tampered"


def test_project_with_a_foreign_destination(example: Example) -> None:
    destinations = [{"server": SERVER, "namespace": "payments-dev"},
                    {"server": SERVER, "namespace": "checkout-dev"},
                    {"server": SERVER, "namespace": "kube-system"}]
    assert _add_project(example, destinations=destinations) == [
        f"{REF}: destination namespace 'kube-system' is not a tenant namespace on cluster "
        "nonprod",
        f"{REF}: destinations span teams checkout, payments; a team project reaches one "
        "team's namespaces",
    ]


def test_project_with_a_wildcard_destination(example: Example) -> None:
    assert _add_project(example, destinations=[{"server": SERVER, "namespace": "*"}]) == [
        f"{REF}: destination namespace '*' is not a tenant namespace on cluster nonprod"
    ]


def test_project_allowing_cluster_scoped_kinds(example: Example) -> None:
    whitelist = [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}]
    assert _add_project(example, clusterResourceWhitelist=whitelist) == [
        f"{REF}: team projects may not deploy cluster-scoped kinds (clusterResourceWhitelist "
        "must be absent)"
    ]


def test_project_missing_a_blacklist_entry(example: Example) -> None:
    blacklist = [{"group": "", "kind": "ResourceQuota"}]
    lines = _add_project(example, namespaceResourceBlacklist=blacklist)
    assert f"{REF}: namespaceResourceBlacklist lacks LimitRange (group '')" in lines
    assert f"{REF}: namespaceResourceBlacklist lacks NetworkPolicy (group 'networking.k8s.io')" \
        in lines
    assert len(lines) == 9


def test_project_with_any_source_repository(example: Example) -> None:
    assert _add_project(example, sourceRepos=["*"]) == [
        f"{REF}: sourceRepos entry '*' is not one of team payments's service repositories"
    ]


def test_platform_project_granted_to_non_admins(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "AppProject", "argocd", "platform",
                    lambda b: b["spec"]["roles"][0]["groups"].append("payments-devs"),
                    cluster="prod")
    assert refused(spec, bundle) == [
        "[argocd-projects] prod/AppProject argocd/platform: role admin grants the platform "
        "project to non-admins: group:payments-devs"
    ]


def test_application_deploying_into_another_team(example: Example) -> None:
    spec, bundle = example
    app = {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "payments-sneaky-dev", "namespace": "argocd"},
        "spec": {"project": "payments",
                 "source": {"repoURL": "https://git.example.com/payments/ledger.git",
                            "path": "deploy/overlays/dev", "targetRevision": "main"},
                 "destination": {"server": SERVER, "namespace": "checkout-dev"}},
    }
    coords = Coordinates("nonprod", "payments", "dev", "sneaky")
    assert refused(spec, plus(bundle, coords, app)) == [
        "[argocd-applications] nonprod/Application argocd/payments-sneaky-dev: deploys to "
        "'checkout-dev', which team payments does not own"
    ]
