"""Argo CD guardrails refuse AppProjects and Applications that reach past the team."""

from __future__ import annotations

from typing import Any

from goldenpath.render import Bundle
from goldenpath.spec import PlatformSpec
from tests.policy.support import refused, tamper

Example = tuple[PlatformSpec, Bundle]
SERVER = "https://kubernetes.default.svc"
BLACKLIST = [{"group": "", "kind": "ResourceQuota"}, {"group": "", "kind": "LimitRange"},
             {"group": "networking.k8s.io", "kind": "NetworkPolicy"}]


def _project(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sourceRepos": ["https://git.example.com/payments/ledger.git"],
        "destinations": [{"server": SERVER, "namespace": "payments-dev"}],
        "namespaceResourceBlacklist": BLACKLIST,
    }
    body.update(spec)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
            "metadata": {"name": "payments", "namespace": "argocd"}, "spec": body}


def _add_project(example: Example, **spec: Any) -> list[str]:
    """Replace team payments' project on nonprod (a new project would also be refused by
    the coordinates guardrail: goldenpath renders one project per team, named after it)."""
    spec_, bundle = example
    bundle = tamper(bundle, "AppProject", "argocd", "payments",
                    lambda b: b.update(_project(**spec)), cluster="nonprod")
    return refused(spec_, bundle)


REF = "[argocd-projects] nonprod/AppProject argocd/payments"


def test_project_with_a_foreign_destination(example: Example) -> None:
    destinations = [{"server": SERVER, "namespace": "payments-dev"},
                    {"server": SERVER, "namespace": "checkout-dev"},
                    {"server": SERVER, "namespace": "kube-system"}]
    assert _add_project(example, destinations=destinations) == [
        f"{REF}: destination namespace 'checkout-dev' is not one of team payments's namespaces",
        f"{REF}: destination namespace 'kube-system' is not one of team payments's namespaces",
    ]


def test_project_with_a_wildcard_destination(example: Example) -> None:
    assert _add_project(example, destinations=[{"server": SERVER, "namespace": "*"}]) == [
        f"{REF}: destination namespace '*' is not one of team payments's namespaces"
    ]


def test_project_allowing_cluster_scoped_kinds(example: Example) -> None:
    whitelist = [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}]
    assert _add_project(example, clusterResourceWhitelist=whitelist) == [
        f"{REF}: team projects may not deploy cluster-scoped kinds (clusterResourceWhitelist "
        "must be absent)"
    ]


def test_project_missing_a_blacklist_entry(example: Example) -> None:
    assert _add_project(example, namespaceResourceBlacklist=BLACKLIST[:1]) == [
        f"{REF}: namespaceResourceBlacklist lacks LimitRange (group '')",
        f"{REF}: namespaceResourceBlacklist lacks NetworkPolicy (group 'networking.k8s.io')",
    ]


def test_project_with_any_source_repository(example: Example) -> None:
    assert _add_project(example, sourceRepos=["*"]) == [
        f"{REF}: sourceRepos must list the team's repositories, not '*'"
    ]


def test_platform_project_granted_to_non_admins(example: Example) -> None:
    spec, bundle = example
    roles = [{"name": "ops", "groups": ["platform-admins", "payments-devs"]}]
    bundle = tamper(bundle, "AppProject", "argocd", "platform",
                    lambda b: b["spec"].update({"roles": roles}), cluster="prod")
    assert refused(spec, bundle) == [
        "[argocd-projects] prod/AppProject argocd/platform: role ops grants the platform "
        "project to non-admins: group:payments-devs"
    ]


def test_application_deploying_into_another_team(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Application", "argocd", "payments-ledger-dev",
                    lambda b: b["spec"]["destination"].update({"namespace": "checkout-dev"}))
    assert refused(spec, bundle) == [
        "[argocd-applications] nonprod/Application argocd/payments-ledger-dev: deploys to "
        "'checkout-dev', which team payments does not own"
    ]
