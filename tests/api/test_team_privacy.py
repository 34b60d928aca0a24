"""Attacks on team names: an owner of one team probing, through its own team's writes and
plans, whether another team exists, what it is called or what its files hold.

Each attack sends the same request twice, once naming something of a team that exists
(or colliding with one) and once something that does not, and asserts the answers are
the same: status and body, with the probed name and request ids and times set aside.
Admins still get every message as the loader writes it."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.errors import PolicyViolation, Violation
from goldenpath.services import teams as svc
from goldenpath.services.privacy import redact_policy
from tests.api.conftest import Api, make_settings, mint_all, wait_final
from tests.gitops.conftest import commits, git

OTHER_TEAMS = ("checkout", "data-platform", "storefront")
_VOLATILE = {"id", "created_at", "updated_at", "started_at", "finished_at"}
HOST_TAKEN = ("platform/teams/payments.yaml: conflicts with another team's spec (ingress "
              "hosts and namespaces are unique on the platform); only a platform admin "
              "sees which team and where")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    return path


def started(tmp_path: Path, remote: Path, edits: dict[str, str],
            teams: dict[str, str] | None = None) -> Iterator[Api]:
    """The API over the example platform, its platform.yaml edited (old: new text), with
    more ``teams`` (name: file text)."""
    settings = make_settings(tmp_path, gitops_repo=str(remote))
    for name, file in (teams or {}).items():
        (settings.platform_dir / "teams" / f"{name}.yaml").write_text(file)
    platform = settings.platform_dir / "platform.yaml"
    text = platform.read_text()
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    platform.write_text(text)
    assert svc.seed(settings.platform_dir, svc.Where(settings=settings)) is not None
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, mint_all(client))


@pytest.fixture
def api(tmp_path: Path, remote: Path) -> Iterator[Api]:
    yield from started(tmp_path, remote, {})


@pytest.fixture
def tight_api(tmp_path: Path, remote: Path) -> Iterator[Api]:
    """The prod cluster declares 50 CPUs; its teams' quotas request 46 (32+8+6)."""
    yield from started(tmp_path, remote, {'capacity: {cpu: "400"': 'capacity: {cpu: "50"'})


@pytest.fixture
def eu_api(tmp_path: Path, remote: Path) -> Iterator[Api]:
    """An environment eu-dev, and a team payments-eu in dev: its namespace payments-eu-dev
    is the one payments would get in eu-dev."""
    team = ("apiVersion: goldenpath.dev/v1alpha1\nkind: Team\nmetadata: {name: payments-eu}\n"
            "spec: {displayName: EU, costCenter: CC-7, owners: ['group:eu-leads'], "
            "environments: [dev]}\n")
    yield from started(tmp_path, remote, {
        "environments: [dev, staging]\n": "environments: [dev, staging, eu-dev]\n",
        "  defaults:\n": "    - name: eu-dev\n      podSecurity: baseline\n  defaults:\n"},
        {"payments-eu": team})


def read(api: Api, team: str, role: str = "owner") -> tuple[dict[str, Any], str]:
    answer = api.client.get(f"/v1/teams/{team}", headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    return copy.deepcopy(answer.json()["spec"]), answer.headers["ETag"]


def put(api: Api, team: str, doc: dict[str, Any], etag: str, role: str = "owner") -> Any:
    return api.client.put(f"/v1/teams/{team}", json=doc,
                          headers={**api.auth(role), "If-Match": etag})


def plan(api: Api, team: str, doc: dict[str, Any], role: str = "owner") -> Any:
    return api.client.post(f"/v1/teams/{team}/plan", json=doc, headers=api.auth(role))


def shape(answer: Any, probe: str) -> tuple[int, Any]:
    """An answer with ``probe`` replaced and request ids and times left out."""
    text = answer.text.replace(probe, "<probe>")
    body = json.loads(text)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in _VOLATILE}
    return answer.status_code, body


def names_no_other_team(answer: Any) -> None:
    for team in OTHER_TEAMS:
        assert team not in answer.text, answer.text


def with_peer(doc: dict[str, Any], peer: str) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    changed["spec"]["network"]["allowFromTeams"].append(peer)
    return changed


def with_host(doc: dict[str, Any], host: str) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    changed["spec"]["services"][0]["ingress"]["host"] = host  # ledger's
    return changed


# --- allowFromTeams: the one field that names another team ------------------------------


def test_put_does_not_tell_a_foreign_peer_from_an_unknown_one(api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    head = commits(remote)
    foreign = put(api, "payments", with_peer(doc, "storefront"), etag)
    unknown = put(api, "payments", with_peer(doc, "no-such-team"), etag)
    assert foreign.status_code == 202, foreign.text
    assert shape(foreign, "storefront") == shape(unknown, "no-such-team")
    assert unknown.json()["state"] == "pending-approval"
    assert unknown.json()["payload"]["reasons"] == [
        "spec.network.allowFromTeams: admits traffic from more teams (no-such-team); a "
        "platform admin approves"]
    assert commits(remote) == head


def test_plan_does_not_tell_a_foreign_peer_from_an_unknown_one(api: Api) -> None:
    doc, _ = read(api, "payments")
    foreign = plan(api, "payments", with_peer(doc, "storefront"))
    unknown = plan(api, "payments", with_peer(doc, "no-such-team"))
    assert foreign.status_code == 200, foreign.text
    assert shape(foreign, "storefront") == shape(unknown, "no-such-team")
    body = unknown.json()
    assert body["warnings"] == [
        'platform/teams/payments.yaml: spec.network.allowFromTeams[1]: "no-such-team": is '
        "not planned: a team another team admits is checked (and rendered) when a platform "
        "admin approves the change, since only admins are told which teams exist"]
    # the rest of the proposal is the file as it is: nothing changes
    assert body["diffs"] == [] and body["objects"] == [] and body["hidden"] == 0


def test_a_peer_already_listed_is_planned_as_before(api: Api) -> None:
    """Only peers the proposal adds are set aside: the ones the file lists exist."""
    doc, _ = read(api, "payments")
    doc["spec"]["quota"]["pods"] = 90
    answer = plan(api, "payments", doc)
    assert answer.status_code == 200, answer.text
    assert not any("allowFromTeams" in w for w in answer.json()["warnings"])
    assert {o["kind"] for o in answer.json()["objects"]} == {"ResourceQuota"}


def test_an_approved_request_fails_without_naming_other_teams(api: Api,
                                                              remote: Path) -> None:
    doc, etag = read(api, "payments")
    pending = put(api, "payments", with_peer(doc, "no-such-team"), etag).json()
    head = commits(remote)
    approved = api.client.post(f"/v1/requests/{pending['id']}/approve",
                               headers=api.auth("admin"))
    assert approved.status_code == 200, approved.text
    done = wait_final(api, pending["id"], "viewer")  # every reader of payments sees it
    assert done["state"] == "failed", done
    assert done["result"] == {"error": "SpecError", "message": (
        '1 spec error\n  platform/teams/payments.yaml: spec.network.allowFromTeams[1]: '
        '"no-such-team": is not a team a platform admin can let in; ask the platform '
        "admins for the team's exact name")}
    seen = api.client.get(f"/v1/requests/{pending['id']}", headers=api.auth("viewer")).json()
    for team in OTHER_TEAMS[1:]:  # checkout is payments' own peer: its file names it
        assert team not in json.dumps([seen["result"], seen["log"]])
    assert commits(remote) == head


# --- ingress hosts: unique on the platform ------------------------------------------------


@pytest.mark.parametrize("send", [put, plan], ids=["put", "plan"])
def test_a_host_another_team_holds_is_refused_without_naming_it(api: Api, remote: Path,
                                                                send: Any) -> None:
    """cart.example.com is checkout's (sorted before payments: the issue is in payments'
    file), www.example.com storefront's (sorted after: the loader puts the issue in
    storefront's file). Both answers are the same, and name neither team."""
    doc, etag = read(api, "payments")
    head = commits(remote)
    args = (etag,) if send is put else ()
    before = send(api, "payments", with_host(doc, "cart.example.com"), *args)
    after = send(api, "payments", with_host(doc, "www.example.com"), *args)
    free = send(api, "payments", with_host(doc, "free.payments.example.com"), *args)
    assert before.status_code == 422, before.text
    assert shape(before, "cart") == shape(after, "www")
    assert before.json()["details"] == [HOST_TAKEN]
    names_no_other_team(before)
    names_no_other_team(after)
    assert free.status_code in (200, 202), free.text
    assert commits(remote) == head


def test_own_file_issues_are_kept_verbatim_beside_the_generic_one(api: Api) -> None:
    doc, etag = read(api, "payments")
    bad = with_host(doc, "www.example.com")
    bad["spec"]["quota"]["cpu"] = "64"  # above the team's maximum: its own file's issue
    answer = put(api, "payments", bad, etag)
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"] == [
        HOST_TAKEN,
        'platform/teams/payments.yaml: spec.quota.cpu: "64": is above the platform\'s '
        "maximum 32 per team and environment (in dev, staging); ask a platform admin to "
        "raise spec.limits.maxQuota.cpu, or to grant the team more in "
        "spec.limits.grants.payments.maxQuota.cpu, in platform.yaml"]


def test_a_namespace_another_team_holds_is_refused_without_naming_it(eu_api: Api) -> None:
    api = eu_api
    doc, etag = read(api, "payments")
    doc["spec"]["environments"].append("eu-dev")
    for answer in (put(api, "payments", doc, etag), plan(api, "payments", doc)):
        assert answer.status_code == 422, answer.text
        assert answer.json()["details"] == [HOST_TAKEN]
        assert "payments-eu" not in answer.text
    every = put(api, "payments", doc, etag, role="admin")
    assert every.json()["details"] == [
        'platform/teams/payments-eu.yaml: spec.environments[0]: "dev": namespace '
        "'payments-eu-dev' is already team payments's; choose another team name"]


# --- plan output --------------------------------------------------------------------------


def test_a_non_admin_plan_shows_only_its_own_team_and_counts_the_rest(api: Api) -> None:
    """Payments no longer admits checkout: checkout's allow-to-teams policies change too."""
    doc, _ = read(api, "payments")
    doc["spec"]["network"]["allowFromTeams"] = []
    mine = plan(api, "payments", doc)
    every = plan(api, "payments", doc, role="admin")
    assert mine.status_code == every.status_code == 200, mine.text
    theirs = every.json()
    assert {o["team"] for o in theirs["objects"]} == {"payments", "checkout"}
    assert theirs["hidden"] == 0
    shown = mine.json()
    assert shown["objects"] == [o for o in theirs["objects"] if o["team"] == "payments"]
    paths = {d["path"] for d in shown["diffs"]}
    assert paths >= {"platform/teams/payments.yaml"} | {o["path"] for o in shown["objects"]}
    assert paths == {d["path"] for d in theirs["diffs"]
                     if d["path"].startswith(("tenants/payments/", "platform/teams/payments."))}
    assert shown["files"] == len(shown["diffs"])
    assert shown["hidden"] == len(theirs["diffs"]) - len(shown["diffs"]) > 0
    assert "storefront" not in mine.text and "data-platform" not in mine.text


def test_a_guardrail_over_other_teams_is_redacted_for_owners(tight_api: Api) -> None:
    """Storefront's owner (bob) raises its prod CPU within its maximum; the capacity
    guardrail's message lists the largest namespaces of the cluster: other teams'."""
    api = tight_api
    doc, _ = read(api, "storefront", "other-owner")
    doc["spec"]["quota"]["cpu"] = "12"
    mine = plan(api, "storefront", doc, role="other-owner")
    every = plan(api, "storefront", doc, role="admin")
    assert every.status_code == 422 and "payments-prod" in every.text, every.text
    assert mine.status_code == 422, mine.text
    assert mine.json()["guardrails"] == ["capacity"]
    assert mine.json()["details"] == [
        "[capacity] team storefront: the proposed spec breaks this guardrail together with "
        "other teams' or the platform's objects; only a platform admin sees the details"]
    for team in ("payments", "checkout", "data-platform"):
        assert team not in mine.text


# --- onboarding ---------------------------------------------------------------------------


def new_team(name: str, host: str = "new.example.com") -> dict[str, Any]:
    return {"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
            "metadata": {"name": name},
            "spec": {"displayName": "New", "costCenter": "CC-9",
                     "owners": ["user:mallory@example.com"], "environments": ["dev"],
                     "network": {"allowFromTeams": ["checkout"]},
                     "services": [{"name": "web", "template": "python-service",
                                   "port": 8080, "ingress": {"host": host}}]}}


def test_a_non_admin_onboarding_checks_nothing_against_other_teams(api: Api,
                                                                   remote: Path) -> None:
    head = commits(remote)
    for probe, host in (("storefront", "www.example.com"),
                        ("no-such-team", "new.example.com")):
        answer = api.client.post("/v1/teams", json=new_team(probe, host),
                                 headers=api.auth("stranger"))
        assert answer.status_code == 202, answer.text
        text = re.sub(r"www|new", "<host>", answer.text.replace(probe, "<probe>"))
        body = {k: v for k, v in json.loads(text).items() if k not in _VOLATILE}
        if probe == "storefront":
            first = body
    assert body == first and body["state"] == "pending-approval"
    assert commits(remote) == head


# --- admins see everything ----------------------------------------------------------------


def test_admins_still_get_every_message_as_the_loader_writes_it(api: Api) -> None:
    doc, etag = read(api, "payments", "admin")
    unknown = plan(api, "payments", with_peer(doc, "no-such-team"), role="admin")
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["details"] == [
        'platform/teams/payments.yaml: spec.network.allowFromTeams[1]: "no-such-team": is '
        "not a team (known: checkout, data-platform, payments, storefront)"]
    taken = put(api, "payments", with_host(doc, "www.example.com"), etag, role="admin")
    assert taken.status_code == 422, taken.text
    assert taken.json()["details"] == [
        'platform/teams/storefront.yaml: spec.services[0].ingress.host: "www.example.com": '
        "is already used by payments/ledger; ingress hosts must be unique"]


def test_a_bad_peer_name_is_refused_in_a_plan_as_in_a_put(api: Api) -> None:
    """Set aside for planning, an added peer is still validated as the owner wrote it."""
    doc, etag = read(api, "payments")
    bad = with_peer(doc, "Not_A_Label")
    answers = [plan(api, "payments", bad), put(api, "payments", bad, etag)]
    assert [a.status_code for a in answers] == [422, 422], answers[0].text
    assert answers[0].json()["details"] == answers[1].json()["details"]
    assert answers[0].json()["details"][0].startswith(
        'platform/teams/payments.yaml: spec.network.allowFromTeams[1]: "Not_A_Label": ')


def test_guardrail_violations_of_the_callers_own_team_are_kept_verbatim() -> None:
    """Unit level: which violations a non-admin sees word for word."""
    document = {"spec": {"environments": ["dev", "prod"]}}
    own = Violation("network-reach", "prod/NetworkPolicy payments-prod/allow-egress-cidrs",
                    "ipBlock 8.8.8.8/32 is outside the allowed ranges")
    whole = Violation("team-objects", "team payments", "renders 1001 objects, more than 1000")
    theirs = Violation("network-reach", "prod/NetworkPolicy checkout-prod/x", "about checkout")
    shared = Violation("unique-names", "prod/ConfigMap payments-prod/c",
                       "is the same object as prod/ConfigMap checkout-prod/c")
    cluster = Violation("capacity", "cluster prod", "largest: checkout-prod 8")
    shown = redact_policy(PolicyViolation([own, whole, theirs, shared, cluster]), "payments",
                          document)
    generic = "the proposed spec breaks this guardrail together with other teams' or the " \
              "platform's objects; only a platform admin sees the details"
    assert shown.violations == [own, whole,
                                Violation("network-reach", "team payments", generic),
                                Violation("unique-names", "team payments", generic),
                                Violation("capacity", "team payments", generic)]
