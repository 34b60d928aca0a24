"""Argo CD guardrails refuse AppProjects and Applications that reach past the team."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from goldenpath import policy
from goldenpath.render import Bundle, render
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.policy.support import refused, tamper

Example = tuple[PlatformSpec, Bundle]
SERVER = "https://kubernetes.default.svc"


def _project(bundle: Bundle, **spec: Any) -> dict[str, Any]:
    """The rendered payments project of nonprod with ``spec`` changed: a project that
    passes everything except what the test changes."""
    real = next(r for r in bundle.of_kind("AppProject")
                if r.name == "payments" and r.coords.cluster == "nonprod")
    body = copy.deepcopy(real.body)
    body["spec"].update(spec)
    return body


def _add_project(example: Example, **spec: Any) -> list[str]:
    """Replace team payments' project on nonprod (a new project would also be refused by
    the coordinates guardrail: goldenpath renders one project per team, named after it)."""
    spec_, bundle = example
    replaced = _project(bundle, **spec)
    bundle = tamper(bundle, "AppProject", "argocd", "payments",
                    lambda b: b.update(replaced), cluster="nonprod")
    return refused(spec_, bundle)


REF = "[argocd-projects] nonprod/AppProject argocd/payments"


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
        "project to non-admins: payments-devs"
    ]


def test_platform_project_granted_to_a_serviceaccount_admins_name(tmp_path: Path) -> None:
    """A serviceaccount: admin has no Argo CD login; its name in a role would grant the
    platform project to any SSO group or user of that name."""
    admins = ["group:platform-admins", "user:root@example.com", "serviceaccount:ops/deployer"]
    spec = load_platform(write_platform(tmp_path, platform_doc(admins=admins),
                                        [team_doc("alpha")]))
    bundle = render(spec)
    [project] = [r for r in bundle.of_kind("AppProject")
                 if r.coords.cluster == "prod" and r.name == "platform"]
    [role] = project.body["spec"]["roles"]
    assert role["groups"] == ["platform-admins", "root@example.com"]  # what is rendered
    assert policy.check(spec, bundle).passed

    def forge(body: dict[str, Any]) -> None:
        body["spec"]["roles"][0]["groups"].append("ops/deployer")

    forged = tamper(bundle, "AppProject", "argocd", "platform", forge, cluster="prod")
    assert refused(spec, forged) == [
        "[argocd-projects] prod/AppProject argocd/platform: role admin grants the platform "
        "project to non-admins: ops/deployer"
    ]


def test_application_deploying_into_another_team(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Application", "argocd", "payments.ledger.dev",
                    lambda b: b["spec"]["destination"].update({"namespace": "checkout-dev"}))
    assert refused(spec, bundle) == [
        "[argocd-applications] nonprod/Application argocd/payments.ledger.dev: deploys to "
        "'checkout-dev', which team payments does not own"
    ]


def test_platform_project_destinations_beyond_its_tenant_patterns(example: Example) -> None:
    """The platform project names tenant namespaces by one pattern per environment the
    cluster hosts: a bare '*' or another cluster's environment is refused."""
    spec, bundle = example

    def widen(body: dict[str, Any]) -> None:
        body["spec"]["destinations"] += [{"server": SERVER, "namespace": "*"},
                                         {"server": SERVER, "namespace": "*-dev"},
                                         {"server": SERVER, "namespace": "kube-system"}]

    bundle = tamper(bundle, "AppProject", "argocd", "platform", widen, cluster="prod")
    assert refused(spec, bundle) == [
        f"[argocd-projects] prod/AppProject argocd/platform: destination namespace {ns!r} is "
        "neither a platform namespace nor a tenant namespace on cluster prod"
        for ns in ("*", "*-dev", "kube-system")
    ]
