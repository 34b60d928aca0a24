"""Authorization from the specs: each role against each action, cross-team attempts,
the approval classification of each Team field, and hidden team existence."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import Forbidden, GoldenpathError, NotFound
from goldenpath.identity import Principal
from goldenpath.services import access
from goldenpath.services.access import (
    TEAM_FIELDS,
    Action,
    Decision,
    Outcome,
    PlatformAction,
    Role,
    authorize,
    classify_change,
    decide_change,
    decide_create,
    require_admin,
    visible_teams,
)
from goldenpath.spec import PlatformSpec, Team, load_platform
from goldenpath.spec.models import TeamBody, TeamNetworkSpec
from tests.factories import platform_doc, team_doc, write_platform

ADMIN = Principal.bootstrap_admin()
PLATFORM_ADMIN = Principal(frozenset({"user:ann@example.com", "group:platform-admins"}))
OWNER = Principal(frozenset({"user:olga@example.com", "group:payments-owners"}))
MEMBER = Principal(frozenset({"user:max@example.com", "group:payments-devs"}))
VIEWER = Principal(frozenset({"user:vic@example.com", "group:support"}))
OTHER_OWNER = Principal(frozenset({"user:carl@example.com", "group:checkout-owners"}))
STRANGER = Principal(frozenset({"user:eve@example.com", "group:everyone"}))
#: listed as an owner of payments and as a platform admin: gets neither through the API
SERVICEACCOUNT = Principal(frozenset({"serviceaccount:payments-dev/ci"}))
SERVICEACCOUNT_ADMIN = Principal(frozenset({"serviceaccount:platform/bot"}))

ROLES = {"admin": ADMIN, "platform-admin": PLATFORM_ADMIN, "owner": OWNER, "member": MEMBER,
         "viewer": VIEWER, "other-team-owner": OTHER_OWNER, "stranger": STRANGER,
         "serviceaccount": SERVICEACCOUNT, "serviceaccount-admin": SERVICEACCOUNT_ADMIN}


def _platform() -> dict[str, Any]:
    return platform_doc(
        admins=["group:platform-admins", "serviceaccount:platform/bot"],
        defaults={"quota": {"cpu": "4", "memory": "8Gi"}},
        limits={"grants": {"checkout": {"maxQuota": {"cpu": "16"}}}})


def _payments(**spec: Any) -> dict[str, Any]:
    doc = team_doc("payments", owners=["group:payments-owners",
                                       "serviceaccount:payments-dev/ci"],
                   network={"allowFromTeams": ["orders"], "egressCIDRs": ["10.20.0.0/16"]})
    doc["spec"].update(spec)
    return doc


def _checkout() -> dict[str, Any]:
    return team_doc("checkout", viewers=["group:checkout-support"],
                    network={"allowFromTeams": ["orders"]})


def _load(root: Path, teams: list[dict[str, Any]]) -> PlatformSpec:
    orders = team_doc("orders", viewers=[])
    return load_platform(write_platform(root, _platform(), [*teams, orders]))


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> PlatformSpec:
    return _load(tmp_path_factory.mktemp("platform"), [_payments(), _checkout()])


@pytest.fixture(scope="module")
def without(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PlatformSpec]:
    """team name -> the same platform without that team."""
    return {"checkout": _load(tmp_path_factory.mktemp("platform"), [_payments()]),
            "payments": _load(tmp_path_factory.mktemp("platform"), [_checkout()])}


# --- each role against each action ----------------------------------------------------

HIDDEN = "hidden"
#: role -> what authorize() gives on team payments for READ, PLAN, UPDATE, SCAFFOLD, DELETE
MATRIX: dict[str, list[Role | str]] = {
    "admin": [Role.ADMIN] * 5,
    "platform-admin": [Role.ADMIN] * 5,
    "owner": [Role.OWNER] * 4 + ['you are an owner of it; delete needs a platform admin'],
    "member": [Role.MEMBER] + [f"you are a member of it; {a} needs an owner or a platform admin"
                               for a in ("plan", "update", "scaffold")]
              + ["you are a member of it; delete needs a platform admin"],
    "viewer": [Role.VIEWER] + [f"you are a viewer of it; {a} needs an owner or a platform admin"
                               for a in ("plan", "update", "scaffold")]
              + ["you are a viewer of it; delete needs a platform admin"],
    "other-team-owner": [HIDDEN] * 5,
    "stranger": [HIDDEN] * 5,
    "serviceaccount": [HIDDEN] * 5,
    "serviceaccount-admin": [HIDDEN] * 5,
}
CASES = [(role, action, expected) for role, row in MATRIX.items()
         for action, expected in zip(Action, row, strict=True)]


@pytest.mark.parametrize(("role", "action", "expected"), CASES)
def test_each_role_against_each_action(spec: PlatformSpec, role: str, action: Action,
                                       expected: Role | str) -> None:
    principal = ROLES[role]
    if isinstance(expected, Role):
        assert authorize(spec, principal, "payments", action) is expected
        return
    with pytest.raises(Forbidden) as caught:
        authorize(spec, principal, "payments", action)
    if expected == HIDDEN:
        assert str(caught.value) == ('team "payments": no such team, or you have no role in '
                                     "it; its owners or a platform admin can add you")
    else:
        assert str(caught.value) == f'team "payments": {expected}'


@pytest.mark.parametrize("role", ["owner", "member", "viewer"])
@pytest.mark.parametrize("action", list(Action))
def test_a_role_in_one_team_gives_nothing_in_another(spec: PlatformSpec, role: str,
                                                     action: Action) -> None:
    with pytest.raises(Forbidden, match=r'^team "checkout": no such team'):
        authorize(spec, ROLES[role], "checkout", action)


def test_the_other_teams_owner_owns_its_own_team(spec: PlatformSpec) -> None:
    assert authorize(spec, OTHER_OWNER, "checkout", Action.UPDATE) is Role.OWNER


def _error(spec: PlatformSpec, principal: Principal, name: str,
           action: Action) -> tuple[type[GoldenpathError], str, tuple[object, ...], dict[str, Any]]:
    with pytest.raises(GoldenpathError) as caught:
        authorize(spec, principal, name, action)
    return type(caught.value), str(caught.value), caught.value.args, vars(caught.value)


@pytest.mark.parametrize(("role", "team"), [
    ("other-team-owner", "payments"), ("stranger", "payments"), ("serviceaccount", "payments"),
    ("serviceaccount-admin", "checkout"), ("stranger", "checkout"), ("owner", "checkout"),
    ("member", "checkout"), ("viewer", "checkout")])
@pytest.mark.parametrize("action", list(Action))
def test_an_unknown_team_and_a_forbidden_team_are_indistinguishable(
        spec: PlatformSpec, without: dict[str, PlatformSpec], role: str, team: str,
        action: Action) -> None:
    """Asking for a team the caller has no role in answers exactly as asking for the same
    name where no such team exists, and as asking for any other unknown name."""
    principal = ROLES[role]
    exists = _error(spec, principal, team, action)
    assert exists[0] is Forbidden
    assert _error(without[team], principal, team, action) == exists
    ghost = _error(spec, principal, "ghost", action)
    assert ghost[0] is Forbidden
    assert ghost[1] == exists[1].replace(f'"{team}"', '"ghost"')


def test_admins_are_told_a_team_does_not_exist(spec: PlatformSpec) -> None:
    with pytest.raises(NotFound, match=r'^team "ghost" not found$'):
        authorize(spec, PLATFORM_ADMIN, "ghost", Action.READ)


def test_a_hostile_team_name_is_not_echoed(spec: PlatformSpec) -> None:
    with pytest.raises(Forbidden) as caught:
        authorize(spec, STRANGER, "x\r\nSet-Cookie: a=b" + "y" * 5000, Action.READ)
    assert str(caught.value) == ('team "(not a team name)": no such team, or you have no role '
                                 "in it; its owners or a platform admin can add you")


@pytest.mark.parametrize(("role", "teams"), [
    ("admin", ["checkout", "orders", "payments"]),
    ("platform-admin", ["checkout", "orders", "payments"]),
    ("owner", ["payments"]), ("member", ["payments"]), ("viewer", ["payments"]),
    ("other-team-owner", ["checkout"]), ("stranger", []), ("serviceaccount", []),
    ("serviceaccount-admin", []),
])
def test_each_role_lists_only_the_teams_it_may_read(spec: PlatformSpec, role: str,
                                                    teams: list[str]) -> None:
    assert visible_teams(spec, ROLES[role]) == teams


@pytest.mark.parametrize("action", list(PlatformAction))
@pytest.mark.parametrize("role", list(ROLES))
def test_only_platform_admins_approve_audit_and_mint_tokens(
        spec: PlatformSpec, role: str, action: PlatformAction) -> None:
    if role in ("admin", "platform-admin"):
        require_admin(spec, ROLES[role], action)
        return
    with pytest.raises(Forbidden) as caught:
        require_admin(spec, ROLES[role], action)
    assert str(caught.value) == f"only platform admins may {action}"


# --- new teams -------------------------------------------------------------------------


def _team(doc: dict[str, Any]) -> Team:
    return Team.model_validate(doc)


@pytest.mark.parametrize("role", list(ROLES))
def test_a_new_team_is_made_by_an_admin_or_requested(spec: PlatformSpec, role: str) -> None:
    decision = decide_create(spec, ROLES[role], _team(team_doc("orders")))
    if role in ("admin", "platform-admin"):
        assert decision == Decision(Outcome.ALLOWED)
    else:
        assert decision == Decision(Outcome.NEEDS_APPROVAL, (
            'team "orders" is new: a platform admin creates teams, or approves a request '
            "for one",))


def test_requesting_a_taken_name_answers_as_for_a_free_one(spec: PlatformSpec) -> None:
    taken = decide_create(spec, STRANGER, _team(team_doc("checkout")))
    free = decide_create(spec, STRANGER, _team(team_doc("orders")))
    assert taken.outcome is free.outcome is Outcome.NEEDS_APPROVAL
    assert taken.reasons[0] == free.reasons[0].replace('"orders"', '"checkout"')


# --- changes: who -----------------------------------------------------------------------


def _changed(**spec: Any) -> Team:
    return _team(_payments(**spec))


def _current(spec: PlatformSpec) -> Team:
    return spec.team("payments")


@pytest.mark.parametrize("role", ["admin", "platform-admin"])
def test_admins_change_anything_directly(spec: PlatformSpec, role: str) -> None:
    new = _changed(owners=["user:ann@example.com"], costCenter="CC-9",
                   environments=["dev"], quota={"cpu": "60"})
    assert decide_change(spec, ROLES[role], _current(spec), new) == Decision(Outcome.ALLOWED)


@pytest.mark.parametrize("role", ["member", "viewer", "other-team-owner", "stranger",
                                  "serviceaccount", "serviceaccount-admin"])
def test_only_owners_and_admins_change_a_team(spec: PlatformSpec, role: str) -> None:
    new = _changed(displayName="Renamed")
    decision = decide_change(spec, ROLES[role], _current(spec), new)
    assert decision == Decision(Outcome.FORBIDDEN, (
        'team "payments": changing it needs an owner or a platform admin',))
    with pytest.raises(Forbidden, match="changing it needs an owner"):
        decision.enforce()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_nobody_renames_a_team(spec: PlatformSpec, role: str) -> None:
    doc = _payments()
    doc["metadata"]["name"] = "payments-2"
    decision = decide_change(spec, ROLES[role], _current(spec), _team(doc))
    assert decision == Decision(Outcome.FORBIDDEN, (
        'metadata.name: a team is not renamed ("payments" to "payments-2"); onboard the new '
        "team and offboard the old one",))


# --- changes: what an owner may do, field by field -------------------------------------

DIRECT: dict[str, dict[str, Any]] = {
    "displayName": {"displayName": "Payments & Ledger"},
    "members added": {"members": ["group:payments-devs", "user:new@example.com"]},
    "members removed": {"members": []},
    "viewers": {"viewers": ["group:support", "group:auditors"]},
    "alerting": {"alerting": {"slack": {"channel": "#pay-oncall",
                                        "secretRef": {"name": "slack", "key": "url"}}}},
    "quota lowered": {"quota": {"cpu": "2", "memory": "4Gi"}},
    "quota at the ceiling": {"quota": {"cpu": "4", "memory": "8Gi"}},
    "override lowered": {"environmentOverrides": {"prod": {"quota": {"pods": 10}}}},
    "allowFromTeams narrowed": {"network": {"allowFromTeams": [],
                                            "egressCIDRs": ["10.20.0.0/16"]}},
    "egressCIDRs narrowed": {"network": {"allowFromTeams": ["orders"]}},
}


def _services(*, host: str | None = None, replicas: int = 3, extra: bool = False) -> list[Any]:
    service = copy.deepcopy(_payments()["spec"]["services"][0])
    service["replicas"]["prod"] = replicas
    if host:
        # one environment per cluster serves a host (dev and staging share nonprod)
        service["ingress"] = {"host": host, "environments": ["prod"]}
    more = [{"name": "worker", "template": "python-worker"}] if extra else []
    return [service, *more]


@pytest.mark.parametrize("change", list(DIRECT))
def test_owners_make_these_changes_directly(spec: PlatformSpec, change: str) -> None:
    new = _changed(**DIRECT[change])
    assert classify_change(spec, _current(spec), new) == Decision(Outcome.ALLOWED)
    assert decide_change(spec, OWNER, _current(spec), new) == Decision(Outcome.ALLOWED)


@pytest.mark.parametrize("services", [_services(replicas=5), _services(extra=True), []])
def test_owners_change_services_directly(spec: PlatformSpec, services: list[Any]) -> None:
    assert classify_change(spec, _current(spec), _changed(services=services)).outcome \
        is Outcome.ALLOWED


APPROVAL: dict[str, tuple[dict[str, Any], list[str]]] = {
    "costCenter": ({"costCenter": "CC-9"}, [
        "spec.costCenter: moves the team's costs to another budget; a platform admin "
        "approves"]),
    "owners added": ({"owners": ["group:payments-owners", "serviceaccount:payments-dev/ci",
                                "group:everyone"]}, [
        "spec.owners: changes who controls the team; a platform admin approves"]),
    "owners removed": ({"owners": ["group:payments-owners"]}, [
        "spec.owners: changes who controls the team; a platform admin approves"]),
    "environment removed": ({"environments": ["dev", "staging"]}, [
        "spec.environments: creates or deletes the team's namespaces and everything in them;"
        " a platform admin approves"]),
    "allowFromTeams widened": ({"network": {"allowFromTeams": ["checkout", "orders"],
                                            "egressCIDRs": ["10.20.0.0/16"]}}, [
        "spec.network.allowFromTeams: admits traffic from more teams (checkout); a platform "
        "admin approves"]),
    "egressCIDRs widened": ({"network": {"allowFromTeams": ["orders"],
                                         "egressCIDRs": ["10.1.0.0/16", "10.20.0.0/16"]}}, [
        "spec.network.egressCIDRs: opens egress to more networks (10.1.0.0/16); a platform "
        "admin approves"]),
    "new ingress host": ({"services": _services(host="login.example.com")}, [
        "spec.services: claims ingress host login.example.com on the shared ingress, first "
        "come first served; a platform admin approves new hostnames"]),
    "quota above the defaults": ({"quota": {"cpu": "8"}}, [
        f"spec.quota: raises {field} in {env} from {was} to {now}, above the self-service "
        f"ceiling {was} (the platform's default quota, or spec.limits.grants.payments"
        ".maxQuota); a platform admin approves"
        for env in ("dev", "staging", "prod")
        for field, was, now in (("cpu", "4", "8"), ("limitsCpu", "8", "16"))]),
    "override above the defaults": (
        {"environmentOverrides": {"prod": {"quota": {"memory": "9Gi"}}}}, [
            "spec.quota: raises memory in prod from 8Gi to 9Gi, above the self-service "
            "ceiling 8Gi (the platform's default quota, or spec.limits.grants.payments"
            ".maxQuota); a platform admin approves",
            "spec.quota: raises limitsMemory in prod from 16Gi to 18Gi, above the "
            "self-service ceiling 16Gi (the platform's default quota, or spec.limits.grants"
            ".payments.maxQuota); a platform admin approves"]),
}


@pytest.mark.parametrize("change", list(APPROVAL))
def test_these_changes_by_owners_wait_for_an_admin(spec: PlatformSpec, change: str) -> None:
    fields, reasons = APPROVAL[change]
    decision = decide_change(spec, OWNER, _current(spec), _changed(**fields))
    assert decision == Decision(Outcome.NEEDS_APPROVAL, tuple(reasons))
    assert decision.enforce() is decision


def test_an_unchanged_spec_is_allowed(spec: PlatformSpec) -> None:
    assert decide_change(spec, OWNER, _current(spec), _changed()) == Decision(Outcome.ALLOWED)


def test_an_added_environment_waits_for_an_admin(tmp_path: Path) -> None:
    services = _services()
    services[0]["replicas"] = {"dev": 1}
    spec = _load(tmp_path, [_payments(environments=["dev"], services=services), _checkout()])
    decision = classify_change(spec, spec.team("payments"), _changed(services=services))
    assert decision.reasons == (
        "spec.environments: creates or deletes the team's namespaces and everything in them;"
        " a platform admin approves",)


def test_every_reason_is_given_at_once(spec: PlatformSpec) -> None:
    new = _changed(costCenter="CC-9", displayName="x",
                   network={"allowFromTeams": ["orders"], "egressCIDRs": ["10.9.0.0/16"]})
    assert [r.split(":")[0] for r in classify_change(spec, _current(spec), new).reasons] == [
        "spec.costCenter", "spec.network.egressCIDRs"]


def test_an_ingress_host_kept_or_removed_is_direct(tmp_path: Path) -> None:
    spec = _load(tmp_path, [_payments(services=_services(host="pay.example.com")),
                            _checkout()])
    current = spec.team("payments")
    for services in (_services(host="pay.example.com", replicas=4), _services()):
        assert classify_change(spec, current, _changed(services=services)).outcome \
            is Outcome.ALLOWED
    moved = classify_change(spec, current, _changed(services=_services(host="p.example.com")))
    assert moved.outcome is Outcome.NEEDS_APPROVAL


def test_a_quota_approved_earlier_may_be_lowered_not_raised(tmp_path: Path) -> None:
    spec = _load(tmp_path, [_payments(quota={"cpu": "32"}), _checkout()])
    current = spec.team("payments")
    assert classify_change(spec, current, _changed(quota={"cpu": "24"})).outcome \
        is Outcome.ALLOWED
    raised = classify_change(spec, current, _changed(quota={"cpu": "33"}))
    assert raised.reasons[0] == (
        "spec.quota: raises cpu in dev from 32 to 33, above the self-service ceiling 4 (the "
        "platform's default quota, or spec.limits.grants.payments.maxQuota); a platform "
        "admin approves")


def test_quota_within_the_ceiling_is_direct(tmp_path: Path) -> None:
    spec = _load(tmp_path, [_payments(quota={"cpu": "2"}), _checkout()])
    assert classify_change(spec, spec.team("payments"), _changed(quota={"cpu": "4"})) \
        == Decision(Outcome.ALLOWED)


def test_a_grant_raises_the_ceiling_for_its_team_only(spec: PlatformSpec) -> None:
    doc = _checkout()
    doc["spec"]["quota"] = {"cpu": "16"}
    assert classify_change(spec, spec.team("checkout"), _team(doc)) == Decision(Outcome.ALLOWED)
    doc["spec"]["quota"] = {"cpu": "17"}
    assert classify_change(spec, spec.team("checkout"), _team(doc)).reasons[0] == (
        "spec.quota: raises cpu in dev from 4 to 17, above the self-service ceiling 16 (the "
        "platform's default quota, or spec.limits.grants.checkout.maxQuota); a platform "
        "admin approves")
    assert classify_change(spec, _current(spec), _changed(quota={"cpu": "16"})).outcome \
        is Outcome.NEEDS_APPROVAL


# --- the table -------------------------------------------------------------------------


def _paths(model: type[Any], prefix: str) -> set[str]:
    return {f"{prefix}{info.alias or name}" for name, info in model.model_fields.items()}


def test_the_table_names_every_field_of_a_team_spec() -> None:
    fields = (_paths(TeamBody, "spec.") - {"spec.network"}) | _paths(
        TeamNetworkSpec, "spec.network.") | {"metadata.name"}
    assert set(TEAM_FIELDS) == fields


def test_a_field_without_a_rule_waits_for_an_admin(spec: PlatformSpec,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    table = {k: v for k, v in TEAM_FIELDS.items()
             if k not in ("spec.alerting", "spec.network.egressCIDRs")}
    monkeypatch.setattr(access, "TEAM_FIELDS", table)
    new = _changed(alerting={}, network={"allowFromTeams": ["orders"]})
    assert classify_change(spec, _current(spec), new).reasons == (
        "spec.alerting: no rule says owners may change it; a platform admin approves",
        "spec.network.egressCIDRs: no rule says owners may change it; a platform admin "
        "approves")
