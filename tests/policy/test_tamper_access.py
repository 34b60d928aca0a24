"""Tampering with access: RBAC, Argo CD and the shared edge, on the real rendered Bundle of
the example platform.

Each tamper changes, adds or removes objects the way a hostile tenant (or a broken
renderer) would, and must be refused by the named guardrail with exactly the message
given, and by nothing else (where goldenpath renders no object of the kind, or the object
is where its coordinates say it is not, ``coordinates`` refuses it too). Every tamper runs
three times: with the coordinates the renderer attached, with coordinates rewritten to
look platform-owned (no team), and with coordinates of another team: the access
guardrails decide from the objects, so their verdict is the same, and the rewrite itself
is refused by ``coordinates`` (or, where it makes the object a second copy of another
team's, or writes it over another team's file, by ``unique-names``). (The cluster
coordinate is where an object is written and applied; a tamper about the wrong cluster
changes it deliberately.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.render import Bundle
from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.spec import PlatformSpec
from tests.policy.support import refused

Example = tuple[PlatformSpec, Bundle]
Body = dict[str, Any]
Change = Callable[[Body], object]
RBAC = "rbac.authorization.k8s.io"
SERVER = "https://kubernetes.default.svc"
GITOPS = "https://git.example.com/platform/gitops.git"
LEDGER = "https://git.example.com/payments/ledger.git"
EDIT, VIEW = "goldenpath-tenant-edit", "goldenpath-tenant-view"


@dataclass(frozen=True)
class Target:
    kind: str
    namespace: str | None
    name: str
    cluster: str

    def matches(self, r: Resource) -> bool:
        return (r.kind, r.namespace, r.name, r.coords.cluster) == (
            self.kind, self.namespace, self.name, self.cluster)


@dataclass(frozen=True)
class Tamper:
    id: str
    expected: list[str]
    edits: list[tuple[Target, Change]] = field(default_factory=list)
    adds: list[tuple[Coordinates, Body]] = field(default_factory=list)
    removes: list[Target] = field(default_factory=list)
    #: move the edited objects to this cluster (the wrong-cluster tampers)
    to_cluster: str | None = None


def _other_team(team: str | None) -> str:
    return "payments" if team == "checkout" else "checkout"


COORDINATES: dict[str, Callable[[Coordinates], Coordinates]] = {
    "as-rendered": lambda c: c,
    "platform-owned": lambda c: Coordinates(c.cluster),
    "another-team": lambda c: Coordinates(c.cluster, _other_team(c.team), c.environment),
}


def apply(bundle: Bundle, tamper: Tamper, coords: Callable[[Coordinates], Coordinates],
          moved: list[Resource] | None = None) -> Bundle:
    """The tampered Bundle; the edited and added objects get ``coords`` of their
    coordinates, and those it changed are appended to ``moved``."""
    out: list[Resource] = []
    hits = dict.fromkeys([t for t, _ in tamper.edits] + tamper.removes, 0)
    for r in bundle:
        edit = next((change for t, change in tamper.edits if t.matches(r)), None)
        removed = next((t for t in tamper.removes if t.matches(r)), None)
        for target in hits:
            hits[target] += target.matches(r)
        if removed is not None:
            continue
        if edit is None:
            out.append(r)
            continue
        body = copy.deepcopy(r.body)
        edit(body)
        where = r.coords
        if tamper.to_cluster is not None:
            where = Coordinates(tamper.to_cluster, where.team, where.environment, where.service)
        out.append(Resource(coords(where), body, r.concern))
        if moved is not None and coords(where) != where:
            moved.append(out[-1])
    assert all(count == 1 for count in hits.values()), hits
    for c, body in tamper.adds:
        out.append(Resource(coords(c), body))
        if moved is not None and coords(c) != c:
            moved.append(out[-1])
    return Bundle.of(out)


# --- helpers building changes --------------------------------------------------------------


def add_subject(subject: Body) -> Change:
    return lambda b: b["subjects"].append(subject)


def group(name: str) -> Body:
    return {"apiGroup": RBAC, "kind": "Group", "name": name}


def role_ref(kind: str, name: str) -> Change:
    return lambda b: b.update(roleRef={"apiGroup": RBAC, "kind": kind, "name": name})


def add_rule(groups: list[str], resources: list[str], verbs: list[str]) -> Change:
    return lambda b: b["rules"].append(
        {"apiGroups": groups, "resources": resources, "verbs": verbs})


def set_spec(**fields: Any) -> Change:
    return lambda b: b["spec"].update(copy.deepcopy(fields))


def drop_spec(key: str) -> Change:
    return lambda b: b["spec"].pop(key)


def append_to(key: str, item: Any) -> Change:
    return lambda b: b["spec"][key].append(copy.deepcopy(item))


def remove_from(key: str, item: Any) -> Change:
    return lambda b: b["spec"][key].remove(item)


def set_source(**fields: Any) -> Change:
    return lambda b: b["spec"]["source"].update(fields)


def set_destination(**fields: Any) -> Change:
    return lambda b: b["spec"]["destination"].update(fields)


def chain(*changes: Change) -> Change:
    def run(body: Body) -> None:
        for change in changes:
            change(body)
    return run


# --- targets --------------------------------------------------------------------------------

MEMBERS_DEV = Target("RoleBinding", "payments-dev", "goldenpath-members", "nonprod")
VIEWERS_DEV = Target("RoleBinding", "payments-dev", "goldenpath-viewers", "nonprod")
OWNERS_PROD = Target("RoleBinding", "payments-prod", "goldenpath-owners", "prod")
EDIT_ROLE = Target("ClusterRole", None, EDIT, "nonprod")
VIEW_ROLE = Target("ClusterRole", None, VIEW, "nonprod")
PROJECT = Target("AppProject", "argocd", "payments", "nonprod")
PLATFORM = Target("AppProject", "argocd", "platform", "prod")
TENANCY_DEV = Target("Application", "argocd", "payments-dev-tenancy", "nonprod")
ROOT = Target("Application", "argocd", "root", "nonprod")
SERVICES = Target("Application", "argocd", "payments-services", "nonprod")
LEDGER_DEV = Target("Application", "argocd", "payments.ledger.dev", "nonprod")
LEDGER_PROD = Target("Application", "argocd", "payments.ledger.prod", "prod")
INGRESS = Target("Ingress", "payments-prod", "ledger", "prod")
CHECKOUT_PROD = Target("Namespace", None, "checkout-prod", "prod")
CHECKOUT_DEV = Target("Namespace", None, "checkout-dev", "nonprod")
PAYMENTS_PROD = Target("Namespace", None, "payments-prod", "prod")
POLICY = Target("ValidatingAdmissionPolicy", None, "goldenpath-tenant-edge", "nonprod")
BINDING = Target("ValidatingAdmissionPolicyBinding", None, "goldenpath-tenant-edge", "nonprod")

MEMBERS_REF = "[rbac-bindings] nonprod/RoleBinding payments-dev/goldenpath-members"
EDIT_REF = f"[rbac-roles] nonprod/ClusterRole {EDIT}"
PROJECT_REF = "[argocd-projects] nonprod/AppProject argocd/payments"
PLATFORM_REF = "[argocd-projects] prod/AppProject argocd/platform"
TENANCY_REF = "[argocd-applications] nonprod/Application argocd/payments-dev-tenancy"
LEDGER_REF = "[argocd-applications] nonprod/Application argocd/payments.ledger.dev"
INGRESS_REF = "[shared-edge] prod/Ingress payments-prod/ledger"
NOT_GIVEN = "which team payments's spec does not give access to dev"
CONTROL = f"project platform syncs only the control repository {GITOPS} at main"
#: the files of the team's apps directory (tenants/payments/_apps) its Applications are in
LEDGER_DEV_FILE = "application-payments.ledger.dev.yaml"
LEDGER_PROD_FILE = "application-payments.ledger.prod.yaml"


def _binding(name: str, namespace: str | None, role: str, kind: str = "RoleBinding") -> Body:
    meta: Body = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    return {"apiVersion": f"{RBAC}/v1", "kind": kind, "metadata": meta,
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role},
            "subjects": [group("payments-devs")]}


def _object(api: str, kind: str, namespace: str, name: str, **fields: Any) -> Body:
    return {"apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": namespace}, **fields}


RBAC_TAMPERS = [
    Tamper("subject-system-authenticated",
           [f"{MEMBERS_REF}: binds Group 'system:authenticated', {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject(group("system:authenticated")))]),
    Tamper("subject-system-serviceaccounts",
           [f"{MEMBERS_REF}: binds Group 'system:serviceaccounts', {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject(group("system:serviceaccounts")))]),
    Tamper("subject-another-teams-group",
           [f"{MEMBERS_REF}: binds Group 'checkout-devs', {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject(group("checkout-devs")))]),
    Tamper("subject-unknown-user",
           [f"{MEMBERS_REF}: binds User 'mallory@example.com', {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject({"apiGroup": RBAC, "kind": "User",
                                       "name": "mallory@example.com"}))]),
    Tamper("subject-foreign-service-account",
           [f"{MEMBERS_REF}: binds ServiceAccount kube-system/default, {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject({"kind": "ServiceAccount", "name": "default",
                                       "namespace": "kube-system"}))]),
    Tamper("subject-same-name-other-kind",
           [f"{MEMBERS_REF}: binds User 'payments-devs', {NOT_GIVEN}"],
           [(MEMBERS_DEV, add_subject({"apiGroup": RBAC, "kind": "User",
                                       "name": "payments-devs"}))]),
    Tamper("viewers-bound-to-edit",
           ["[rbac-bindings] nonprod/RoleBinding payments-dev/goldenpath-viewers: grants "
            "Group 'support' edit access to dev, where the platform gives it view"],
           [(VIEWERS_DEV, role_ref("ClusterRole", EDIT))]),
    Tamper("owners-edit-in-view-only-prod",
           ["[rbac-bindings] prod/RoleBinding payments-prod/goldenpath-owners: grants User "
            "'alice@example.com' edit access to prod, where the platform gives it view"],
           [(OWNERS_PROD, role_ref("ClusterRole", EDIT))]),
    *(Tamper(f"binding-to-built-in-{role}",
             [f"[rbac-roles] nonprod/RoleBinding payments-dev/goldenpath-members: refers to "
              f"ClusterRole {role}, which goldenpath does not render; tenants may only hold "
              "goldenpath's roles"],
             [(MEMBERS_DEV, role_ref("ClusterRole", role))])
      for role in ("admin", "edit", "cluster-admin")),
    Tamper("binding-to-a-namespaced-role",
           [f"[rbac-roles] nonprod/RoleBinding payments-dev/goldenpath-members: refers to Role "
            f"{EDIT}, which goldenpath does not render; tenants may only hold goldenpath's "
            "roles"],
           [(MEMBERS_DEV, role_ref("Role", EDIT))]),
    Tamper("cluster-role-binding",
           ["[coordinates] nonprod/ClusterRoleBinding payments-admin: goldenpath renders no "
            "rbac.authorization.k8s.io/v1 ClusterRoleBinding, so nothing says where it "
            "belongs; refused",
            "[rbac-bindings] nonprod/ClusterRoleBinding payments-admin: ClusterRoleBindings "
            "are not rendered for anyone: they grant across every namespace; use "
            "RoleBindings in the team's namespaces"],
           adds=[(Coordinates("nonprod", "payments"),
                  _binding("payments-admin", None, "cluster-admin", "ClusterRoleBinding"))]),
    Tamper("binding-outside-tenant-namespaces",
           ["[coordinates] nonprod/RoleBinding kube-system/payments: has team payments's "
            "coordinates, but namespace 'kube-system' is not one of its namespaces "
            "(payments-dev, payments-prod, payments-staging)",
            "[rbac-bindings] nonprod/RoleBinding kube-system/payments: binds in namespace "
            "'kube-system', which is not a tenant namespace; goldenpath renders RoleBindings "
            "only for tenants"],
           adds=[(Coordinates("nonprod", "payments", "dev"),
                  _binding("payments", "kube-system", EDIT))]),
    Tamper("binding-on-the-wrong-cluster",
           ["[coordinates] nonprod/RoleBinding payments-prod/goldenpath-owners: is in team "
            "payments's namespace payments-prod, so its coordinates must be (cluster prod, team "
            "payments, environment prod, service None), not (cluster nonprod, team payments, "
            "environment prod, service None)",
            "[rbac-bindings] nonprod/RoleBinding payments-prod/goldenpath-owners: namespace "
            "'payments-prod' is on cluster prod, not nonprod"],
           [(OWNERS_PROD, lambda b: None)], to_cluster="nonprod"),
    Tamper("aggregation-rule",
           [f"{EDIT_REF}: has an aggregationRule: its rules would be whatever other "
            "ClusterRoles' labels add; list the rules"],
           [(EDIT_ROLE, lambda b: b.update(aggregationRule={"clusterRoleSelectors": [
               {"matchLabels": {"rbac.example.com/aggregate-to-tenants": "true"}}]}))]),
    Tamper("aggregates-into-built-in-view",
           [f"[rbac-roles] nonprod/ClusterRole {VIEW}: label "
            "rbac.authorization.k8s.io/aggregate-to-view adds its rules to a built-in role"],
           [(VIEW_ROLE, lambda b: b["metadata"]["labels"].update(
               {"rbac.authorization.k8s.io/aggregate-to-view": "true"}))]),
    Tamper("new-aggregated-cluster-role",
           ["[rbac-roles] nonprod/ClusterRole sneaky: has an aggregationRule: its rules would "
            "be whatever other ClusterRoles' labels add; list the rules"],
           adds=[(Coordinates("nonprod"), {
               "apiVersion": f"{RBAC}/v1", "kind": "ClusterRole", "metadata": {"name": "sneaky"},
               "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}})]),
    Tamper("write-serviceaccount-tokens",
           [f"{EDIT_REF}: lets tenants change serviceaccounts/token (create): it mints API "
            "tokens for any service account of the namespace"],
           [(EDIT_ROLE, add_rule([""], ["serviceaccounts/token"], ["create"]))]),
    Tamper("write-service-accounts",
           [f"{EDIT_REF}: lets tenants change serviceaccounts (create, patch): service "
            "accounts are platform-owned"],
           [(EDIT_ROLE, add_rule([""], ["serviceaccounts"], ["create", "patch"]))]),
    Tamper("write-endpoints",
           [f"{EDIT_REF}: lets tenants change endpoints (create, update): hand-made endpoints "
            "send a Service's traffic to any address, another tenant's pods included"],
           [(EDIT_ROLE, add_rule([""], ["endpoints"], ["create", "update"]))]),
    Tamper("write-endpointslices",
           [f"{EDIT_REF}: lets tenants change endpointslices (create): hand-made endpoints "
            "send a Service's traffic to any address, another tenant's pods included"],
           [(EDIT_ROLE, add_rule(["discovery.k8s.io"], ["endpointslices"], ["create"]))]),
    Tamper("write-ingresses",
           [f"{EDIT_REF}: lets tenants change ingresses (patch): Ingresses are platform-owned: "
            "goldenpath renders one per service for the host the team owns"],
           [(EDIT_ROLE, add_rule(["networking.k8s.io"], ["ingresses"], ["patch"]))]),
    Tamper("write-gateway-routes",
           [f"{EDIT_REF}: lets tenants change gateway.networking.k8s.io {res} (create): "
            "Gateway API objects claim hosts and routes at the shared edge; goldenpath "
            "renders Ingresses" for res in ("httproutes", "grpcroutes", "referencegrants")],
           [(EDIT_ROLE, add_rule(["gateway.networking.k8s.io"],
                                 ["httproutes", "grpcroutes", "referencegrants"], ["create"]))]),
    Tamper("write-ephemeral-containers",
           [f"{EDIT_REF}: lets tenants change pods/ephemeralcontainers (patch): ephemeral "
            "containers run outside the LimitRange and the quota"],
           [(EDIT_ROLE, add_rule([""], ["pods/ephemeralcontainers"], ["patch"]))]),
    Tamper("write-a-cluster-scoped-kind",
           [f"{EDIT_REF}: lets tenants change persistentvolumes (create), which is not one of "
            "the kinds tenants may deploy"],
           [(EDIT_ROLE, add_rule([""], ["persistentvolumes"], ["create"]))]),
    Tamper("write-ingress-classes",
           [f"{EDIT_REF}: lets tenants change ingressclasses.networking.k8s.io (create), which "
            "is not one of the kinds tenants may deploy"],
           [(EDIT_ROLE, add_rule(["networking.k8s.io"], ["ingressclasses"], ["create"]))]),
    Tamper("wildcard-verbs",
           [f"{EDIT_REF}: grants *"],
           [(EDIT_ROLE, add_rule([""], ["configmaps"], ["*"]))]),
    Tamper("wildcard-resources",
           [f"{EDIT_REF}: uses a wildcard in apiGroups=['apps'] resources=['*'] verbs=['get']"],
           [(EDIT_ROLE, add_rule(["apps"], ["*"], ["get"]))]),
    Tamper("wildcard-groups",
           [f"{EDIT_REF}: uses a wildcard in apiGroups=['*'] resources=['deployments'] "
            "verbs=['create']"],
           [(EDIT_ROLE, add_rule(["*"], ["deployments"], ["create"]))]),
    *(Tamper(f"verb-{verb}", [f"{EDIT_REF}: grants {verb}"],
             [(EDIT_ROLE, add_rule([RBAC if verb != "impersonate" else ""],
                                   ["clusterroles" if verb != "impersonate" else "users"],
                                   [verb]))])
      for verb in ("impersonate",)),
    *(Tamper(f"verb-{verb}", [f"{EDIT_REF}: grants {verb}",
                              f"{EDIT_REF}: lets tenants change clusterroles ({verb})"],
             [(EDIT_ROLE, add_rule([RBAC], ["clusterroles"], [verb]))])
      for verb in ("escalate", "bind")),
    Tamper("view-role-that-writes",
           [f"[rbac-roles] nonprod/ClusterRole {VIEW}: is bound for view access but grants "
            "create in apiGroups=[''] resources=['configmaps'] verbs=['create']"],
           [(VIEW_ROLE, add_rule([""], ["configmaps"], ["create"]))]),
]

_BLACKLIST = [("", "Endpoints"), ("", "LimitRange"), ("", "ResourceQuota"),
              ("", "ServiceAccount"), ("discovery.k8s.io", "EndpointSlice"),
              ("gateway.networking.k8s.io", "*"), ("networking.k8s.io", "Ingress"),
              ("networking.k8s.io", "NetworkPolicy"), (RBAC, "Role"), (RBAC, "RoleBinding")]
_POLICY = "p, proj:payments:owners, applications, *, checkout/*, allow"

PROJECT_TAMPERS = [
    *(Tamper(f"blacklist-lacks-{kind}",
             [f"{PROJECT_REF}: namespaceResourceBlacklist lacks {kind} (group {group_!r})"],
             [(PROJECT, remove_from("namespaceResourceBlacklist",
                                    {"group": group_, "kind": kind}))])
      for group_, kind in _BLACKLIST),
    Tamper("no-whitelist",
           [f"{PROJECT_REF}: namespaceResourceWhitelist is missing: without it the project "
            "syncs every namespaced kind not blacklisted"],
           [(PROJECT, drop_spec("namespaceResourceWhitelist"))]),
    Tamper("empty-blacklists",
           [f"{PROJECT_REF}: clusterResourceBlacklist lacks {{group: '*', kind: '*'}}",
            *(f"{PROJECT_REF}: namespaceResourceBlacklist lacks {k} (group {g!r})"
              for g, k in sorted(_BLACKLIST))],
           [(PROJECT, set_spec(namespaceResourceBlacklist=[], clusterResourceBlacklist=[]))]),
    *(Tamper(f"whitelist-{kind}",
             [f"{PROJECT_REF}: namespaceResourceWhitelist allows {kind} (group {group_!r}), "
              "which tenants must never deploy"],
             [(PROJECT, append_to("namespaceResourceWhitelist", {"group": group_, "kind": kind}))])
      for group_, kind in [("", "Endpoints"), ("discovery.k8s.io", "EndpointSlice"),
                           ("networking.k8s.io", "Ingress"),
                           ("gateway.networking.k8s.io", "HTTPRoute"),
                           ("networking.k8s.io", "NetworkPolicy"), (RBAC, "RoleBinding")]),
    Tamper("whitelist-everything",
           [f"{PROJECT_REF}: namespaceResourceWhitelist allows * (group '*'), which is not one "
            "of the kinds tenants may deploy"],
           [(PROJECT, append_to("namespaceResourceWhitelist", {"group": "*", "kind": "*"}))]),
    Tamper("cluster-whitelist",
           [f"{PROJECT_REF}: team projects may not deploy cluster-scoped kinds "
            "(clusterResourceWhitelist must be absent)"],
           [(PROJECT, set_spec(clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}]))]),
    *(Tamper(f"source-repo-{label}",
             [f"{PROJECT_REF}: sourceRepos entry {repo!r} is not one of team payments's "
              "service repositories"],
             [(PROJECT, append_to("sourceRepos", repo))])
      for label, repo in [("star", "*"), ("host-glob", "https://git.example.com/*"),
                          ("double-star", "**"),
                          ("another-team", "https://git.example.com/checkout/cart.git"),
                          ("control-repo", GITOPS)]),
    Tamper("destination-any-namespace",
           [f"{PROJECT_REF}: destination namespace '*' is not a tenant namespace on cluster "
            "nonprod"],
           [(PROJECT, append_to("destinations", {"server": SERVER, "namespace": "*"}))]),
    Tamper("destination-another-server",
           [f"{PROJECT_REF}: destination server 'https://prod.k8s.example.com' is not this "
            "cluster's own API server https://kubernetes.default.svc"],
           [(PROJECT, append_to("destinations", {"server": "https://prod.k8s.example.com",
                                                 "namespace": "payments-dev"}))]),
    Tamper("destination-by-cluster-name",
           [f"{PROJECT_REF}: destination server None is not this cluster's own API server "
            "https://kubernetes.default.svc"],
           [(PROJECT, append_to("destinations", {"name": "in-cluster",
                                                 "namespace": "payments-dev"}))]),
    Tamper("destination-another-team",
           [f"{PROJECT_REF}: destinations span teams checkout, payments; a team project "
            "reaches one team's namespaces"],
           [(PROJECT, append_to("destinations", {"server": SERVER,
                                                 "namespace": "checkout-dev"}))]),
    Tamper("destination-on-another-cluster",
           [f"{PROJECT_REF}: destination namespace 'payments-prod' is not a tenant namespace "
            "on cluster nonprod"],
           [(PROJECT, append_to("destinations", {"server": SERVER,
                                                 "namespace": "payments-prod"}))]),
    Tamper("role-grants-another-teams-group",
           [f"{PROJECT_REF}: role owners grants the project to 'checkout-devs', which is not a "
            "subject of team payments"],
           [(PROJECT, lambda b: b["spec"]["roles"][0]["groups"].append("checkout-devs"))]),
    Tamper("role-grants-a-viewer-the-owners-role",
           [f"{PROJECT_REF}: role owners grants the project to 'support', which is not one of "
            "team payments's owners"],
           [(PROJECT, lambda b: b["spec"]["roles"][0]["groups"].append("support"))]),
    Tamper("role-with-another-name",
           [f"{PROJECT_REF}: role admins is not one of the audiences owners, members, viewers"],
           [(PROJECT, lambda b: b["spec"]["roles"][0].update(name="admins"))]),
    *(Tamper(f"role-policy-{label}",
             [f"{PROJECT_REF}: role {role} policy {line!r} grants more than the platform's "
              f"access levels give team payments's {role}"],
             [(PROJECT, lambda b, role=role, line=line: next(
                 r for r in b["spec"]["roles"] if r["name"] == role)["policies"].append(line))])
      for label, role, line in [
          ("exec", "owners", "p, proj:payments:owners, exec, create, payments/*, allow"),
          ("delete", "owners",
           "p, proj:payments:owners, applications, delete, payments/payments.*.dev, allow"),
          ("everything", "owners", "p, proj:payments:owners, *, *, payments/*, allow"),
          ("sync-where-view-only", "members",
           "p, proj:payments:members, applications, sync, payments/payments.*.staging, allow"),
          ("viewers-sync", "viewers",
           "p, proj:payments:viewers, applications, sync, payments/payments.*.dev, allow")]),
    Tamper("role-policy-on-another-project",
           [f"{PROJECT_REF}: role owners policy {_POLICY!r} must read 'p, proj:payments:owners,"
            " <resource>, <action>, payments/<application>, <effect>'"],
           [(PROJECT, lambda b: b["spec"]["roles"][0]["policies"].append(_POLICY))]),
    Tamper("source-namespaces",
           [f"{PROJECT_REF}: sourceNamespaces lets Applications outside the Argo CD namespace "
            "use this project; remove it"],
           [(PROJECT, set_spec(sourceNamespaces=["payments-dev"]))]),
    Tamper("platform-project-to-non-admins",
           [f"{PLATFORM_REF}: role admin grants the platform project to non-admins: "
            "payments-devs"],
           [(PLATFORM, lambda b: b["spec"]["roles"][0]["groups"].append("payments-devs"))]),
    Tamper("platform-project-tenant-repo",
           [f"{PLATFORM_REF}: sourceRepos entry {LEDGER!r} is not the control repository "
            f"{GITOPS}, the platform project's only source"],
           [(PLATFORM, append_to("sourceRepos", LEDGER))]),
    Tamper("platform-project-any-namespace",
           [f"{PLATFORM_REF}: destination namespace '*' is neither a platform namespace nor "
            "a tenant namespace on cluster prod"],
           [(PLATFORM, append_to("destinations", {"server": SERVER, "namespace": "*"}))]),
    Tamper("platform-project-source-namespaces",
           [f"{PLATFORM_REF}: sourceNamespaces lets Applications outside the Argo CD "
            "namespace use this project; remove it"],
           [(PLATFORM, set_spec(sourceNamespaces=["*"]))]),
]

APPLICATION_TAMPERS = [
    Tamper("platform-app-from-a-service-repo",
           [f"{TENANCY_REF}: {CONTROL}, not {LEDGER!r} at 'main'"],
           [(TENANCY_DEV, set_source(repoURL=LEDGER))]),
    Tamper("platform-app-another-revision",
           [f"{TENANCY_REF}: {CONTROL}, not {GITOPS!r} at 'tenant-branch'"],
           [(TENANCY_DEV, set_source(targetRevision="tenant-branch"))]),
    Tamper("service-app-moved-to-project-platform",
           [f"{LEDGER_REF}: {CONTROL}, not {LEDGER!r} at 'HEAD'"],
           [(LEDGER_DEV, set_spec(project="platform"))]),
    *(Tamper(f"platform-app-path-{label}",
             [f"{TENANCY_REF}: project platform may sync only tenants/payments/dev into "
              f"'payments-dev' on cluster nonprod, not {path!r}"],
             [(TENANCY_DEV, set_source(path=path))])
      for label, path in [("another-tenant", "tenants/checkout/dev"),
                          ("climbing", "tenants/payments/dev/../../checkout/dev"),
                          ("apps", "tenants/payments/_apps"), ("cluster", "clusters/nonprod")]),
    Tamper("platform-app-into-a-namespace-of-another-cluster",
           [f"{TENANCY_REF}: project platform deploys to 'payments-prod', which is neither the "
            "Argo CD namespace nor a tenant namespace on cluster nonprod"],
           [(TENANCY_DEV, chain(set_destination(namespace="payments-prod"),
                                set_source(path="tenants/payments/prod")))]),
    Tamper("root-of-another-cluster",
           ["[argocd-applications] nonprod/Application argocd/root: project platform may sync "
            "only clusters/nonprod or tenants/<team>/_apps of a team on it into 'argocd' on "
            "cluster nonprod, not 'clusters/prod'"],
           [(ROOT, set_source(path="clusters/prod"))]),
    Tamper("services-app-without-include",
           ["[argocd-applications] nonprod/Application argocd/payments-services: syncs "
            "tenants/payments/_apps without directory.include: every environment's "
            "Applications of team payments, other clusters' included"],
           [(SERVICES, lambda b: b["spec"]["source"].pop("directory"))]),
    *(Tamper(f"services-app-include-{label}",
             ["[argocd-applications] nonprod/Application argocd/payments-services: "
              f"directory.include {include!r} must name only team payments's Application "
              f"files of cluster nonprod (not {shown})"],
             [(SERVICES, set_source(directory={"include": include}))])
      for label, include, shown in [
          ("glob", "*.yaml", "*.yaml"),
          ("another-cluster", f"{{{LEDGER_DEV_FILE},{LEDGER_PROD_FILE}}}", LEDGER_PROD_FILE),
          ("another-team", "../../checkout/_apps/application-checkout.cart.dev.yaml",
           "../../checkout/_apps/application-checkout.cart.dev.yaml")]),
    Tamper("services-app-recurse",
           ["[argocd-applications] nonprod/Application argocd/payments-services: "
            f"directory.include {LEDGER_DEV_FILE!r} must name only team payments's Application "
            "files of cluster nonprod (not recurse)"],
           [(SERVICES, set_source(directory={"include": LEDGER_DEV_FILE, "recurse": True}))]),
    Tamper("service-app-into-another-team",
           [f"{LEDGER_REF}: deploys to 'checkout-dev', which team payments does not own"],
           [(LEDGER_DEV, set_destination(namespace="checkout-dev"))]),
    Tamper("service-app-in-another-teams-project",
           [f"{LEDGER_REF}: deploys to 'payments-dev', which team checkout does not own",
            f"{LEDGER_REF}: source {LEDGER!r} is not one of team checkout's service "
            "repositories"],
           [(LEDGER_DEV, set_spec(project="checkout"))]),
    Tamper("service-app-from-the-control-repo",
           [f"{LEDGER_REF}: source {GITOPS!r} is not one of team payments's service "
            "repositories"],
           [(LEDGER_DEV, set_source(repoURL=GITOPS))]),
    Tamper("service-app-another-server",
           [f"{LEDGER_REF}: destination server 'https://prod.k8s.example.com' is not this "
            "cluster's own API server https://kubernetes.default.svc"],
           [(LEDGER_DEV, set_destination(server="https://prod.k8s.example.com"))]),
    Tamper("service-app-unknown-project",
           [f"{LEDGER_REF}: project 'ghost' is not a team project on cluster nonprod"],
           [(LEDGER_DEV, set_spec(project="ghost"))]),
    Tamper("service-app-on-the-wrong-cluster",
           ["[coordinates] nonprod/Application argocd/payments.ledger.prod: has team payments's "
            "coordinates on cluster nonprod, which does not host its environment prod",
            "[argocd-applications] nonprod/Application argocd/payments.ledger.prod: deploys to "
            "'payments-prod', which is on cluster prod, not nonprod"],
           [(LEDGER_PROD, lambda b: None)], to_cluster="nonprod"),
    Tamper("application-outside-the-argocd-namespace",
           ["[coordinates] nonprod/Application payments-dev/payments.ledger.dev: has team "
            "payments's coordinates (cluster nonprod, team payments, environment dev, service "
            "ledger), but goldenpath renders no Application in namespace payments-dev for them",
            "[argocd-applications] nonprod/Application payments-dev/payments.ledger.dev: "
            "Applications live in the Argo CD namespace 'argocd' only"],
           [(LEDGER_DEV, lambda b: b["metadata"].update(namespace="payments-dev"))]),
]

HOSTS = "it serves: ledger.payments.example.com"

EDGE_TAMPERS = [
    Tamper("ingress-for-another-teams-host",
           [f"{INGRESS_REF}: routes host 'www.example.com', which payments-prod does not serve "
            f"({HOSTS})"],
           [(INGRESS, lambda b: b["spec"]["rules"][0].update(host="www.example.com"))]),
    Tamper("ingress-tls-for-another-teams-host",
           [f"{INGRESS_REF}: routes host 'cart.example.com', which payments-prod does not serve "
            f"({HOSTS})"],
           [(INGRESS, set_spec(tls=[{"hosts": ["cart.example.com"], "secretName": "x"}]))]),
    Tamper("ingress-without-host",
           [f"{INGRESS_REF}: routes host None, which payments-prod does not serve ({HOSTS})"],
           [(INGRESS, lambda b: b["spec"]["rules"][0].pop("host"))]),
    Tamper("ingress-own-host-to-another-service",
           [f"{INGRESS_REF}: routes host 'ledger.payments.example.com' to Service "
            "'settlement-worker', not to 'ledger', the service that owns it"],
           [(INGRESS, lambda b: b["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
             .update(name="settlement-worker"))]),
    Tamper("ingress-default-backend",
           [f"{INGRESS_REF}: has a defaultBackend, which catches every host no other Ingress "
            "claims"],
           [(INGRESS, set_spec(defaultBackend={"service": {"name": "ledger",
                                                           "port": {"name": "http"}}}))]),
    Tamper("ingress-other-class",
           [f"{INGRESS_REF}: ingressClassName is 'internal', not the platform's 'nginx'"],
           [(INGRESS, set_spec(ingressClassName="internal"))]),
    Tamper("ingress-snippet",
           [f"{INGRESS_REF}: annotation nginx.ingress.kubernetes.io/server-snippet injects "
            "configuration into the shared ingress controller"],
           [(INGRESS, lambda b: b["metadata"].update(annotations={
               "nginx.ingress.kubernetes.io/server-snippet": "location /admin {}"}))]),
    Tamper("ingress-in-a-namespace-that-serves-nothing",
           ["[shared-edge] nonprod/Ingress payments-dev/ledger: routes host "
            "'ledger.payments.example.com', which payments-dev does not serve (it serves: "
            "none)"],
           adds=[(Coordinates("nonprod", "payments", "dev", "ledger"), {
               "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "ledger", "namespace": "payments-dev"},
               "spec": {"ingressClassName": "nginx", "rules": [{
                   "host": "ledger.payments.example.com", "http": {"paths": [{
                       "path": "/", "pathType": "Prefix", "backend": {"service": {
                           "name": "ledger", "port": {"name": "http"}}}}]}}]}})]),
    Tamper("ingress-in-a-platform-namespace",
           ["[coordinates] prod/Ingress ingress-nginx/grab: has platform-owned coordinates, but "
            "goldenpath renders no platform-owned Ingress in namespace ingress-nginx",
            "[shared-edge] prod/Ingress ingress-nginx/grab: namespace 'ingress-nginx' is not "
            "a tenant namespace; goldenpath renders Ingresses only for the hosts of tenant "
            "namespaces"],
           adds=[(Coordinates("prod"), _object(
               "networking.k8s.io/v1", "Ingress", "ingress-nginx", "grab",
               spec={"ingressClassName": "nginx", "rules": [{"host": "www.example.com"}]}))]),
    Tamper("external-name-service",
           ["[coordinates] prod/Service payments-prod/checkout: goldenpath renders no v1 "
            "Service, so nothing says where it belongs; refused",
            "[shared-edge] prod/Service payments-prod/checkout: goldenpath renders no "
            "Service: Services come from the teams' repositories, where admission checks them"],
           adds=[(Coordinates("prod", "payments", "prod"), _object(
               "v1", "Service", "payments-prod", "checkout",
               spec={"type": "ExternalName",
                     "externalName": "cart.checkout-prod.svc.cluster.local"}))]),
    Tamper("external-ips-service",
           ["[coordinates] prod/Service payments-prod/capture: goldenpath renders no v1 "
            "Service, so nothing says where it belongs; refused",
            "[shared-edge] prod/Service payments-prod/capture: goldenpath renders no Service: "
            "Services come from the teams' repositories, where admission checks them"],
           adds=[(Coordinates("prod", "payments", "prod"), _object(
               "v1", "Service", "payments-prod", "capture",
               spec={"ports": [{"port": 443}], "externalIPs": ["203.0.113.10"]}))]),
    Tamper("hand-made-endpoints",
           ["[coordinates] prod/Endpoints payments-prod/cart: goldenpath renders no v1 "
            "Endpoints, so nothing says where it belongs; refused",
            "[shared-edge] prod/Endpoints payments-prod/cart: goldenpath renders no Endpoints: "
            "hand-made endpoints send a Service's traffic to any address"],
           adds=[(Coordinates("prod", "payments", "prod"), _object(
               "v1", "Endpoints", "payments-prod", "cart",
               subsets=[{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 8000}]}]))]),
    Tamper("hand-made-endpoint-slice",
           ["[coordinates] prod/EndpointSlice payments-prod/cart-x: goldenpath renders no "
            "discovery.k8s.io/v1 EndpointSlice, so nothing says where it belongs; refused",
            "[shared-edge] prod/EndpointSlice payments-prod/cart-x: goldenpath renders no "
            "EndpointSlice: hand-made endpoints send a Service's traffic to any address"],
           adds=[(Coordinates("prod", "payments", "prod"), _object(
               "discovery.k8s.io/v1", "EndpointSlice", "payments-prod", "cart-x",
               addressType="IPv4", endpoints=[{"addresses": ["10.1.2.3"]}]))]),
    Tamper("gateway-route",
           ["[schema] prod/HTTPRoute payments-prod/www: no Kubernetes 1.31 schema for "
            "gateway.networking.k8s.io/v1 HTTPRoute",
            "[coordinates] prod/HTTPRoute payments-prod/www: goldenpath renders no "
            "gateway.networking.k8s.io/v1 HTTPRoute, so nothing says where it belongs; refused",
            "[shared-edge] prod/HTTPRoute payments-prod/www: goldenpath renders no Gateway API "
            "objects: they claim hosts and routes at the shared edge; hosts are served by "
            "Ingresses"],
           adds=[(Coordinates("prod", "payments", "prod"), _object(
               "gateway.networking.k8s.io/v1", "HTTPRoute", "payments-prod", "www",
               spec={"hostnames": ["www.example.com"]}))]),
    Tamper("namespace-claims-another-teams-host",
           ["[shared-edge] prod/Namespace checkout-prod: annotation goldenpath.dev/ingress-hosts "
            "is 'cart.example.com,ledger.payments.example.com', but the spec has it serve "
            "cart.example.com: the admission policy lets its Ingresses route exactly the hosts "
            "listed there"],
           [(CHECKOUT_PROD, lambda b: b["metadata"]["annotations"].update(
               {"goldenpath.dev/ingress-hosts": "cart.example.com,ledger.payments.example.com"}))]),
    Tamper("namespace-serving-nothing-claims-a-host",
           ["[shared-edge] nonprod/Namespace checkout-dev: annotation "
            "goldenpath.dev/ingress-hosts is 'www.example.com', but the spec has it serve no "
            "host: the admission policy lets its Ingresses route exactly the hosts listed "
            "there"],
           [(CHECKOUT_DEV, lambda b: b["metadata"]["annotations"].update(
               {"goldenpath.dev/ingress-hosts": "www.example.com"}))]),
    Tamper("namespace-hosts-annotation-removed",
           ["[shared-edge] prod/Namespace payments-prod: annotation goldenpath.dev/ingress-hosts "
            "is None, but the spec has it serve ledger.payments.example.com: the admission "
            "policy lets its Ingresses route exactly the hosts listed there"],
           [(PAYMENTS_PROD, lambda b: b["metadata"]["annotations"].pop(
               "goldenpath.dev/ingress-hosts"))]),
    Tamper("no-admission-policy",
           ["[edge-admission] cluster nonprod: has no ValidatingAdmissionPolicy "
            "goldenpath-tenant-edge: nothing stops a tenant's ExternalName Service or "
            "foreign-host Ingress"],
           removes=[POLICY]),
    Tamper("no-admission-binding",
           ["[edge-admission] cluster nonprod: has no ValidatingAdmissionPolicyBinding "
            "goldenpath-tenant-edge: nothing stops a tenant's ExternalName Service or "
            "foreign-host Ingress"],
           removes=[BINDING]),
    Tamper("admission-policy-weakened",
           ["[edge-admission] nonprod/ValidatingAdmissionPolicy goldenpath-tenant-edge: "
            "differs from the policy the platform spec renders: spec.validations"],
           [(POLICY, lambda b: b["spec"]["validations"].pop(0))]),
    Tamper("admission-policy-ignores-failures",
           ["[edge-admission] nonprod/ValidatingAdmissionPolicy goldenpath-tenant-edge: "
            "differs from the policy the platform spec renders: spec.failurePolicy"],
           [(POLICY, set_spec(failurePolicy="Ignore"))]),
    Tamper("admission-binding-only-warns",
           ["[edge-admission] nonprod/ValidatingAdmissionPolicyBinding goldenpath-tenant-edge: "
            "differs from the policy the platform spec renders: spec.validationActions"],
           [(BINDING, set_spec(validationActions=["Warn"]))]),
]

TAMPERS = [*RBAC_TAMPERS, *PROJECT_TAMPERS, *APPLICATION_TAMPERS, *EDGE_TAMPERS]


def test_tamper_ids_are_unique() -> None:
    ids = [t.id for t in TAMPERS]
    assert len(ids) == len(set(ids))


ACCESS_KINDS = {"RoleBinding", "ClusterRole", "AppProject", "Application", "Ingress",
                "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}


#: the guardrails that judge coordinates and identities, not access
PLACEMENT = ("[coordinates]", "[unique-names]")


def _access(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith(PLACEMENT)]


def _placement_refuses(lines: list[str], moved: list[Resource], expected: list[str]) -> None:
    """Each object given other coordinates is refused by a placement guardrail, and the
    placement guardrails refuse nothing else than what the tamper expects anyway."""
    placement = [line for line in lines if line.startswith(PLACEMENT)]
    for resource in moved:
        assert [line for line in placement if resource.ref in line], resource.ref
    assert all(line in expected or any(r.ref in line for r in moved) for line in placement)


@pytest.mark.parametrize("coordinates", sorted(COORDINATES))
def test_coordinates_alone_change_nothing(example: Example, coordinates: str) -> None:
    """No false alarm either: the real objects pass every access guardrail whatever
    coordinates they carry; coordinates that are not the objects' own are refused by the
    placement guardrails, on those objects only."""
    spec, bundle = example
    rewrite = COORDINATES[coordinates]
    moved = [Resource(rewrite(r.coords), r.body, r.concern) for r in bundle
             if r.kind in ACCESS_KINDS and rewrite(r.coords) != r.coords]
    rewritten = Bundle.of([*(r for r in bundle if r.kind not in ACCESS_KINDS
                             or rewrite(r.coords) == r.coords), *moved])
    lines = [str(v) for v in policy.check(spec, rewritten).violations]
    assert _access(lines) == []
    _placement_refuses(lines, moved, [])


@pytest.mark.parametrize("coordinates", sorted(COORDINATES))
@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.id for t in TAMPERS])
def test_tamper_is_refused(example: Example, tamper: Tamper, coordinates: str) -> None:
    spec, bundle = example
    moved: list[Resource] = []
    lines = refused(spec, apply(bundle, tamper, COORDINATES[coordinates], moved))
    if coordinates == "as-rendered":
        assert lines == tamper.expected
        return
    assert _access(lines) == _access(tamper.expected)
    _placement_refuses(lines, moved, tamper.expected)
