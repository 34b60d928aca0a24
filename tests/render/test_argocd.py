"""Argo CD objects: upstream CRD schemas, and the rules the CRD cannot express (project
role policies as Argo CD's own project validation checks them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from goldenpath.render import argocd, rbac, render
from goldenpath.spec import load_platform
from goldenpath.spec.resolve import PlatformSpec
from tests.crds import assert_valid_custom_resource
from tests.factories import (
    EXAMPLE_PLATFORM,
    generated_platform,
    platform_doc,
    team_doc,
    write_platform,
)
from tests.render.argocd_rbac import ArgoCD, Identity

# --- a validator mirroring Argo CD's AppProject validation (validatePolicy et al.) -------

_ROLE_NAME = re.compile(r"^[a-zA-Z0-9]([-_a-zA-Z0-9]*[a-zA-Z0-9])?$")
_PROJECT_RESOURCES = {"applications", "applicationsets", "logs", "exec", "clusters",
                      "repositories"}
_ACTIONS = {"get", "create", "update", "delete", "sync", "override", "*"}


def policy_errors(project: str, role: str, policy: str) -> list[str]:
    parts = [part.strip(" ") for part in policy.split(",")]
    if len(parts) != 6 or parts[0] != "p":
        return ["must be of the form 'p, sub, res, act, obj, eft'"]
    _, subject, resource, action, obj, effect = parts
    errors = []
    if subject != f"proj:{project}:{role}":
        errors.append(f"subject must be proj:{project}:{role}")
    if resource not in _PROJECT_RESOURCES:
        errors.append(f"resource {resource!r} is not project-scoped")
    if action not in _ACTIONS and not action.startswith("action/"):
        errors.append(f"invalid action {action!r}")
    # Go's \w is ASCII only, hence the explicit class.
    if not re.fullmatch(re.escape(project) + r"/[*A-Za-z0-9_.-]+", obj):
        errors.append(f"object must be {project}/<app pattern>")
    if effect not in ("allow", "deny"):
        errors.append("effect must be allow or deny")
    return errors


def project_errors(body: dict[str, Any]) -> list[str]:
    project = body["metadata"]["name"]
    errors: list[str] = []
    names: set[str] = set()
    for role in body["spec"].get("roles", []):
        name = role["name"]
        if not _ROLE_NAME.match(name) or name in names:
            errors.append(f"bad or duplicate role name {name!r}")
        names.add(name)
        policies, groups = role.get("policies", []), role.get("groups", [])
        if len(set(policies)) != len(policies) or len(set(groups)) != len(groups):
            errors.append(f"role {name}: duplicate policy or group")
        for group in groups:
            if not group.strip() or ("," in group and not group.startswith('"')):
                errors.append(f"role {name}: group {group!r} must be quoted or non-empty")
        errors += [f"{policy}: {e}" for policy in policies
                   for e in policy_errors(project, name, policy)]
    return errors


@pytest.mark.parametrize("policy", [
    "p, proj:team:owners, *, get, team/*, allow",
    "p, proj:team:owners, applications, get, other/*, allow",
    "p, proj:other:owners, applications, get, team/*, allow",
    "p, proj:team:owners, applications, fly, team/*, allow",
    "p, proj:team:owners, applications, get, team/*, maybe",
    "p, proj:team:owners, applications, get, team/*",
])
def test_the_validator_rejects_what_argo_cd_rejects(policy: str) -> None:
    assert policy_errors("team", "owners", policy)


# --- the rendered objects --------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> PlatformSpec:
    return load_platform(EXAMPLE_PLATFORM)


def _objects(spec: PlatformSpec, kind: str) -> list[Any]:
    return [r for r in render(spec) if r.concern == argocd.CONCERN and r.kind == kind]


def test_every_argocd_object_passes_the_upstream_crd_schema(spec: PlatformSpec) -> None:
    objects = [r for r in render(spec) if r.concern == argocd.CONCERN]
    assert {r.kind for r in objects} == {"AppProject", "Application"}
    for resource in objects:
        assert_valid_custom_resource(resource.body)
        assert resource.namespace == spec.platform.spec.argocd.namespace


def test_project_role_policies_are_valid_casbin_lines(spec: PlatformSpec) -> None:
    projects = _objects(spec, "AppProject")
    assert any(p.body["spec"].get("roles") for p in projects)
    for project in projects:
        assert project_errors(project.body) == [], project.ref


def test_team_project_is_confined_to_the_team(spec: PlatformSpec) -> None:
    project = next(p for p in _objects(spec, "AppProject")
                   if p.name == "payments" and p.coords.cluster == "nonprod")
    body = project.body["spec"]
    assert body["destinations"] == [
        {"server": argocd.IN_CLUSTER, "namespace": "payments-dev"},
        {"server": argocd.IN_CLUSTER, "namespace": "payments-staging"},
    ]
    assert body["sourceRepos"] == ["https://git.example.com/payments/ledger.git",
                                   "https://git.example.com/payments/settlement-worker.git"]
    assert "clusterResourceWhitelist" not in body
    kinds = {(k["group"], k["kind"]) for k in body["namespaceResourceBlacklist"]}
    assert {("", "ResourceQuota"), ("", "LimitRange"),
            ("networking.k8s.io", "NetworkPolicy"), ("", "Endpoints"),
            ("discovery.k8s.io", "EndpointSlice"), ("networking.k8s.io", "Ingress"),
            ("gateway.networking.k8s.io", "*")} <= kinds
    assert project.body["metadata"]["finalizers"] == [argocd.FINALIZER]
    owners = next(r for r in body["roles"] if r["name"] == "owners")
    assert owners["groups"] == ["alice@example.com"]


def test_team_project_whitelists_exactly_what_the_edit_role_writes(spec: PlatformSpec) -> None:
    """One table, two gates: what Argo CD may sync for a team is what kubectl lets it
    write, and neither names a kind on the blacklist."""
    edit = next(r for r in rbac.render(spec) if r.name == rbac.ROLE_EDIT)
    writable = {(g, res) for rule in edit.body["rules"] if set(rule["verbs"]) - set(rbac.READ)
                for g in rule["apiGroups"] for res in rule["resources"]
                if "/" not in res}
    for project in _objects(spec, "AppProject"):
        if project.name == argocd.PLATFORM_PROJECT:
            continue
        body = project.body["spec"]
        whitelist = {(k["group"], k["kind"]) for k in body["namespaceResourceWhitelist"]}
        assert whitelist == {(k.group, k.kind) for k in rbac.TENANT_KINDS}
        assert {(k.group, k.resource) for k in rbac.TENANT_KINDS} == writable
        blacklist = {(k["group"], k["kind"]) for k in body["namespaceResourceBlacklist"]}
        assert not any(g == group and kind in (k, "*") for g, k in whitelist
                       for group, kind in blacklist)


def test_prod_access_is_view_only_for_owners(spec: PlatformSpec) -> None:
    project = next(p for p in _objects(spec, "AppProject")
                   if p.name == "payments" and p.coords.cluster == "prod")
    owners = next(r for r in project.body["spec"]["roles"] if r["name"] == "owners")
    assert all(", get, " in policy for policy in owners["policies"])


def test_tenancy_application_syncs_the_tenant_directory(spec: PlatformSpec) -> None:
    app = next(a for a in _objects(spec, "Application") if a.name == "payments-dev-tenancy")
    body = app.body["spec"]
    assert body["project"] == argocd.PLATFORM_PROJECT
    assert body["source"]["path"] == "tenants/payments/dev"
    assert body["destination"] == {"server": argocd.IN_CLUSTER, "namespace": "payments-dev"}
    assert body["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert set(body["syncPolicy"]["syncOptions"]) == {"CreateNamespace=false",
                                                      "ServerSideApply=true"}
    waves = app.body["metadata"]["annotations"][argocd.WAVE]
    assert int(waves) > int(argocd.WAVE_PROJECTS)


def test_service_application_points_at_the_service_repository(spec: PlatformSpec) -> None:
    app = next(a for a in _objects(spec, "Application") if a.name == "payments.ledger.prod")
    body = app.body["spec"]
    assert body["project"] == "payments"
    assert body["source"]["repoURL"] == "https://git.example.com/payments/ledger.git"
    assert body["source"]["path"] == "deploy/overlays/prod"
    assert body["destination"]["namespace"] == "payments-prod"
    assert app.coords.cluster == "prod"


def test_services_application_includes_only_its_clusters_files(spec: PlatformSpec) -> None:
    app = next(a for a in _objects(spec, "Application")
               if a.name == "payments-services" and a.coords.cluster == "prod")
    include = app.body["spec"]["source"]["directory"]["include"]
    assert include == ("{application-payments.ledger.prod.yaml,"
                       "application-payments.settlement-worker.prod.yaml}")
    assert app.body["spec"]["source"]["path"] == "tenants/payments/_apps"


# --- Argo CD's RBAC, enforced: casbin with Argo CD's model over the rendered projects ----

APP = "applications"
#: argocd-rbac-cm as goldenpath needs it: no default role, user: names in the email claim.
SCOPES = ("groups", "email")
CHECKOUT_OWNER = Identity("dex|7f3a", {"groups": ["checkout-leads"]})
SUPPORT = Identity("dex|51c0", {"groups": ["support"]})
ADMIN = Identity("dex|0001", {"groups": ["platform-admins"]})
ALICE = Identity("dex|a11c", {"email": "alice@example.com", "groups": ["finance"]})


def argo(spec: PlatformSpec, cluster: str, **rbac_cm: Any) -> ArgoCD:
    """The Argo CD of ``cluster``, with the projects goldenpath renders for it."""
    projects = [p.body for p in _objects(spec, "AppProject") if p.coords.cluster == cluster]
    return ArgoCD(projects, **{"scopes": SCOPES, **rbac_cm})


@pytest.mark.parametrize(("env", "can_sync"), [("dev", True), ("staging", True),
                                               ("prod", False)])
def test_an_owner_syncs_where_the_environment_grants_edit(spec: PlatformSpec, env: str,
                                                           can_sync: bool) -> None:
    cd = argo(spec, spec.cluster_of[env].name)
    app = f"checkout/{argocd.service_app_name('checkout', 'cart', env)}"
    assert cd.allows(CHECKOUT_OWNER, APP, "get", app)
    assert cd.allows(CHECKOUT_OWNER, APP, "sync", app) is can_sync
    for action in ("create", "update", "delete", "override"):
        assert not cd.allows(CHECKOUT_OWNER, APP, action, app), action


def test_an_owner_cannot_touch_another_teams_apps_or_the_platform(spec: PlatformSpec) -> None:
    cd = argo(spec, "nonprod")
    for obj in ("payments/payments.ledger.dev", "storefront/storefront.web.dev",
                f"{argocd.PLATFORM_PROJECT}/{argocd.tenancy_app_name('checkout', 'dev')}",
                f"{argocd.PLATFORM_PROJECT}/checkout-services",
                f"{argocd.PLATFORM_PROJECT}/{argocd.ROOT_APP}"):
        for action in ("get", "sync", "delete"):
            assert not cd.allows(CHECKOUT_OWNER, APP, action, obj), (action, obj)
    # A name in the checkout project cannot reach an app outside it either.
    assert not cd.allows(CHECKOUT_OWNER, APP, "sync", "checkout/../payments/payments.ledger.dev")


@pytest.mark.parametrize(("env", "can_sync"), [("dev", True), ("staging", False),
                                               ("prod", False)])
def test_members_sync_only_where_members_have_edit(spec: PlatformSpec, env: str,
                                                   can_sync: bool) -> None:
    member = Identity("dex|d3v5", {"groups": ["checkout-devs"]})
    cd = argo(spec, spec.cluster_of[env].name)
    app = f"checkout/{argocd.service_app_name('checkout', 'pricing', env)}"
    assert cd.allows(member, "logs", "get", app)
    assert cd.allows(member, APP, "sync", app) is can_sync


def test_viewers_never_sync(spec: PlatformSpec) -> None:
    for env in ("dev", "staging", "prod"):
        cd = argo(spec, spec.cluster_of[env].name)
        app = f"checkout/{argocd.service_app_name('checkout', 'cart', env)}"
        assert not cd.allows(SUPPORT, APP, "sync", app)
        # the example's prod grants viewers nothing at all
        assert cd.allows(SUPPORT, APP, "get", app) is (env != "prod")


def test_platform_admins_sync_the_platform_project(spec: PlatformSpec) -> None:
    cd = argo(spec, "nonprod")
    for app in (argocd.ROOT_APP, argocd.tenancy_app_name("payments", "dev"), "checkout-services"):
        for action in ("get", "sync", "delete"):
            assert cd.allows(ADMIN, APP, action, f"{argocd.PLATFORM_PROJECT}/{app}")


def test_user_subjects_need_their_claim_in_scopes(spec: PlatformSpec) -> None:
    """payments' owner is user:alice@example.com: Argo CD matches that name against the
    token's ``sub`` and the claims in ``scopes``. With the email claim in scopes she syncs
    her dev apps; with Argo CD's default scopes ([groups]) she gets nothing."""
    app = "payments/payments.ledger.dev"
    assert argo(spec, "nonprod").allows(ALICE, APP, "sync", app)
    assert not argo(spec, "nonprod", scopes=("groups",)).allows(ALICE, APP, "get", app)


def test_a_serviceaccount_member_gets_nothing_in_argo_cd(spec: PlatformSpec) -> None:
    """checkout lists serviceaccount:ci/checkout-deployer as a member: a Kubernetes
    identity, which Argo CD has no login for. No role names it, so whatever name a token
    might carry for it, Argo CD grants nothing."""
    cd = argo(spec, "nonprod")
    roles = [r for p in cd.projects for r in p["spec"].get("roles", [])]
    assert not any("checkout-deployer" in g for r in roles for g in r["groups"])
    for name in ("ci/checkout-deployer", "system:serviceaccount:ci:checkout-deployer",
                 "checkout-deployer"):
        who = Identity(name, {"groups": [name], "email": name})
        assert not cd.allows(who, APP, "get", "checkout/checkout-cart-dev"), name


def test_tenant_isolation_relies_on_an_empty_policy_default(spec: PlatformSpec) -> None:
    """What the README asks of argocd-rbac-cm, shown: with ``policy.default:
    role:readonly`` (Argo CD's built-in read-only role) every tenant reads every team's
    applications, including where its environment grants it nothing."""
    readonly = "p, role:readonly, applications, get, */*, allow"  # assets/builtin-policy.csv
    cd = argo(spec, "prod", policy_csv=readonly, policy_default="role:readonly")
    assert cd.allows(SUPPORT, APP, "get", "payments/payments.ledger.prod")
    assert not argo(spec, "prod").allows(SUPPORT, APP, "get", "payments/payments.ledger.prod")


def test_platform_admins_given_as_users_get_the_platform_role(tmp_path: Path) -> None:
    """A ``user:`` admin is bound as team roles bind users; a ``serviceaccount:`` admin has
    no Argo CD identity and is bound to nothing (its name could be an SSO group's)."""
    admins = ["group:platform-admins", "user:root@example.com", "serviceaccount:ops/deployer"]
    spec = load_platform(write_platform(tmp_path, platform_doc(admins=admins),
                                        [team_doc("shop")]))
    cd = argo(spec, "prod")
    root = Identity("dex|0002", {"email": "root@example.com"})
    deployer = Identity("dex|0003", {"groups": ["ops/deployer"]})
    app = f"{argocd.PLATFORM_PROJECT}/{argocd.tenancy_app_name('shop', 'prod')}"
    assert cd.allows(root, APP, "sync", app)
    assert cd.allows(ADMIN, APP, "sync", app)
    assert not cd.allows(deployer, APP, "get", app)
    assert not cd.allows(root, APP, "sync", "shop/shop-api-prod")  # team projects stay teams'


def test_the_platform_project_does_not_grow_with_the_teams(tmp_path: Path) -> None:
    """Listed one by one, tenant namespaces made the platform AppProject of 1,000 teams
    148 KiB (over the object-size limit, and near client-side apply's 256 KiB) and changed
    it on every onboarding; one pattern per environment keeps it the same."""
    def platform_projects(teams: int) -> dict[str, Any]:
        spec = load_platform(generated_platform(tmp_path / str(teams), teams, services=0))
        return {p.coords.cluster: p.body for p in render(spec).of_kind("AppProject")
                if p.name == argocd.PLATFORM_PROJECT}

    one, many = platform_projects(1), platform_projects(40)
    assert one == many
    for project in many.values():
        destinations = [d["namespace"] for d in project["spec"]["destinations"]]
        assert not [ns for ns in destinations if ns.startswith("team-")]
        assert [ns for ns in destinations if "*" in ns]  # the tenant patterns
