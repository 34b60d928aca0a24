"""Who may call what, for every role of the example platform, over the app.

payments: owner user:alice@example.com, member group:payments-devs, viewer
group:support; admins group:platform-admins (and the bootstrap token); "other-owner"
owns storefront and has no role in payments; "stranger" has none anywhere. No worker runs
(``idle_api``): requests stay queued, nothing is scaffolded."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

ROLES = ["bootstrap", "admin", "owner", "member", "viewer", "other-owner", "stranger", "none"]
HIDDEN = ('team "{}": no such team, or you have no role in it; its owners or a platform '
          "admin can add you")


def _scaffold(api: Api, role: str, team: str = "payments", name: str = "svc") -> object:
    return api.client.post(f"/v1/teams/{team}/services", headers=api.auth(role),
                           json={"name": name, "template": "python-service"})


@pytest.mark.parametrize(("role", "status"), [
    ("bootstrap", 202), ("admin", 202), ("owner", 202), ("member", 403), ("viewer", 403),
    ("other-owner", 403), ("stranger", 403), ("none", 401)])
def test_scaffold_needs_an_owner_or_an_admin(idle_api: Api, role: str, status: int) -> None:
    answer = _scaffold(idle_api, role, name=f"svc-{role}")
    assert answer.status_code == status, answer.text
    if role in {"member", "viewer"}:
        who = "a member" if role == "member" else "a viewer"
        assert answer.json()["message"] == (f'team "payments": you are {who} of it; scaffold '
                                            "needs an owner or a platform admin")


@pytest.mark.parametrize("role", ["member", "viewer", "other-owner", "stranger"])
def test_no_answer_says_whether_another_team_exists(idle_api: Api, role: str) -> None:
    for team in ("storefront", "ghost", "data-platform"):
        if role == "other-owner" and team == "storefront":
            continue
        answer = _scaffold(idle_api, role, team=team)
        assert (answer.status_code, answer.json()) == (403, {
            "error": "Forbidden", "message": HIDDEN.format(team), "details": [],
            "guardrails": []}), team
    admin = _scaffold(idle_api, "admin", team="ghost")
    assert admin.status_code == 404  # only admins may learn that a team does not exist


@pytest.fixture
def queued(idle_api: Api) -> str:
    answer = _scaffold(idle_api, "owner")
    assert answer.status_code == 202
    rid: str = answer.json()["id"]
    return rid


@pytest.mark.parametrize(("role", "status"), [
    ("bootstrap", 200), ("admin", 200), ("owner", 200), ("member", 200), ("viewer", 200),
    ("other-owner", 404), ("stranger", 404), ("none", 401)])
def test_a_request_is_visible_to_who_may_read_its_team(idle_api: Api, queued: str,
                                                       role: str, status: int) -> None:
    for path in (f"/v1/requests/{queued}", f"/v1/requests/{queued}/events"):
        if path.endswith("events") and status == 200:
            continue  # a queued request's stream does not end; followed in test_scaffold
        answer = idle_api.client.get(path, headers=idle_api.auth(role))
        assert answer.status_code == status, (path, answer.text)
    if status == 404:  # the same answer as for a request that does not exist
        unknown = "00000000-0000-4000-8000-000000000000"
        hidden = idle_api.client.get(f"/v1/requests/{queued}", headers=idle_api.auth(role))
        missing = idle_api.client.get(f"/v1/requests/{unknown}", headers=idle_api.auth(role))
        assert hidden.json()["message"].replace(queued, "ID") == \
            missing.json()["message"].replace(unknown, "ID")


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_approve_reject_audit_and_mint(idle_api: Api, queued: str,
                                                   role: str) -> None:
    admin = role in {"bootstrap", "admin"}
    expected = 401 if role == "none" else 403
    calls = [
        ("POST", f"/v1/requests/{queued}/approve", None, 409),  # queued: not pending
        ("POST", f"/v1/requests/{queued}/reject", None, 409),
        ("GET", "/v1/audit", None, 200),
        ("GET", "/v1/tokens", None, 200),
        ("POST", "/v1/tokens", {"subject": "user:eve@example.com", "name": "eve"}, 201),
        ("DELETE", "/v1/tokens/00000000-0000-4000-8000-000000000000", None, 404),
    ]
    for method, path, body, admin_status in calls:
        answer = idle_api.client.request(method, path, json=body, headers=idle_api.auth(role))
        assert answer.status_code == (admin_status if admin else expected), (path, answer.text)
        if not admin and role != "none":
            assert answer.json()["message"].startswith("only platform admins may ")


@pytest.mark.parametrize("role", ROLES)
def test_templates_need_a_token_and_the_catalog_shows_only_readable_teams(
        idle_api: Api, role: str) -> None:
    templates = idle_api.client.get("/v1/templates", headers=idle_api.auth(role))
    catalog = idle_api.client.get("/v1/catalog/entities", headers=idle_api.auth(role))
    if role == "none":
        assert (templates.status_code, catalog.status_code) == (401, 401)
        return
    assert [t["name"] for t in templates.json()] == ["python-service", "python-worker"]
    systems = sorted(e["metadata"]["name"] for e in catalog.json() if e["kind"] == "System")
    assert systems == {
        "bootstrap": ["checkout", "data-platform", "payments", "storefront"],
        "admin": ["checkout", "data-platform", "payments", "storefront"],
        "owner": ["payments"], "member": ["payments"],
        "viewer": ["checkout", "payments"],  # group:support views both
        "other-owner": ["storefront"], "stranger": [],
    }[role]


def test_probes_and_metrics_need_no_token(idle_api: Api) -> None:
    for path in ("/v1/healthz", "/v1/readyz", "/v1/metrics"):
        assert idle_api.client.get(path).status_code == 200, path


def test_an_admin_rejects_a_pending_request_once(idle_api: Api) -> None:
    store = idle_api.client.app.state.store  # type: ignore[attr-defined]
    pending = store.requests.submit(kind="team.create", team="newcomers",
                                    actor="user:alice@example.com", payload={},
                                    needs_approval=True)
    rid = pending.request.id
    owner = idle_api.client.post(f"/v1/requests/{rid}/reject", headers=idle_api.auth("owner"))
    assert owner.status_code == 403
    answer = idle_api.client.post(f"/v1/requests/{rid}/reject", json={"reason": "no budget"},
                                  headers=idle_api.auth("admin"))
    assert answer.status_code == 200
    assert (answer.json()["state"], answer.json()["rejected_by"],
            answer.json()["decision_reason"]) == ("rejected", "group:platform-admins",
                                                  "no budget")
    again = idle_api.client.post(f"/v1/requests/{rid}/approve", headers=idle_api.auth("admin"))
    assert again.status_code == 409
    audit = idle_api.client.get("/v1/audit", params={"action": "team.create.decide"},
                                headers=idle_api.auth("admin")).json()["entries"]
    assert [(e["outcome"], e["details"]) for e in audit] == [("rejected",
                                                              {"reason": "no budget"})]


def test_a_revoked_token_is_refused(idle_api: Api) -> None:
    minted = idle_api.client.post("/v1/tokens", json={"subject": "user:eve@example.com",
                                                      "name": "eve"},
                                  headers=idle_api.auth("admin")).json()
    eve = {"Authorization": f"Bearer {minted['secret']}"}
    assert idle_api.client.get("/v1/templates", headers=eve).status_code == 200
    listed = idle_api.client.get("/v1/tokens", headers=idle_api.auth("admin")).json()
    assert all("secret" not in t for t in listed)
    revoked = idle_api.client.delete(f"/v1/tokens/{minted['token']['id']}",
                                     headers=idle_api.auth("admin"))
    assert revoked.json()["revoked"] is True
    assert idle_api.client.get("/v1/templates", headers=eve).status_code == 401


@pytest.mark.parametrize("subject", ["serviceaccount:ci/deployer", "alice", "user:a b", ""])
def test_tokens_are_minted_for_user_and_group_subjects_only(idle_api: Api,
                                                            subject: str) -> None:
    answer = idle_api.client.post("/v1/tokens", json={"subject": subject, "name": "x"},
                                  headers=idle_api.auth("admin"))
    assert answer.status_code == 422


@pytest.mark.parametrize("expires_at", ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00", 0])
def test_a_token_cannot_expire_in_the_past(idle_api: Api, expires_at: object) -> None:
    answer = idle_api.client.post("/v1/tokens", headers=idle_api.auth("admin"), json={
        "subject": "user:eve@example.com", "name": "eve", "expires_at": expires_at})
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"][0].startswith("request body: expires_at: ")
    assert answer.json()["details"][0].endswith(": is not in the future")


def test_a_naive_expiry_is_utc(idle_api: Api) -> None:
    answer = idle_api.client.post("/v1/tokens", headers=idle_api.auth("admin"), json={
        "subject": "user:eve@example.com", "name": "eve", "expires_at": "2999-01-01T00:00:00"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["token"]["expires_at"] == "2999-01-01T00:00:00Z"
