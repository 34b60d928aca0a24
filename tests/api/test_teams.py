"""The team endpoints over a real bare control repository seeded from a tmp copy of the
example platform: reads with ETags, writes as durable requests done by the API's worker
(one commit each, with Requested-By/Request-Id), If-Match, approvals, plan. The writes
(``BOTH_DATABASES``) run on SQLite and on the session's real PostgreSQL server."""

from __future__ import annotations

import copy
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.services import teamrequests
from goldenpath.services import teams as svc
from goldenpath.services.worker import Worker
from goldenpath.store.requests import Requests
from tests.api.conftest import (
    ADMIN_TOKEN,
    BOTH_DATABASES,
    Api,
    make_settings,
    mint_all,
    wait_final,
)
from tests.gitops.conftest import commits, git


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    return path


@pytest.fixture
def api(tmp_path: Path, remote: Path, database_url: str) -> Iterator[Api]:
    settings = make_settings(tmp_path, gitops_repo=str(remote), database_url=database_url)
    assert svc.seed(settings.platform_dir, svc.Where(settings=settings)) is not None
    with TestClient(create_app(settings)) as client:
        yield Api(client, settings, mint_all(client))


def read(api: Api, team: str, role: str = "owner") -> tuple[dict[str, Any], str]:
    answer = api.client.get(f"/v1/teams/{team}", headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert answer.headers["ETag"] == f'"{body["etag"]}"'
    return copy.deepcopy(body["spec"]), answer.headers["ETag"]


def put(api: Api, team: str, doc: dict[str, Any], etag: str | None, role: str = "owner",
        **headers: str) -> Any:
    sent = {**api.auth(role), **({"If-Match": etag} if etag else {}), **headers}
    return api.client.put(f"/v1/teams/{team}", json=doc, headers=sent)


def test_a_reader_gets_the_team_its_etag_namespaces_and_services(api: Api,
                                                                  remote: Path) -> None:
    answer = api.client.get("/v1/teams/payments", headers=api.auth("viewer"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    blob = git("rev-parse", "main:platform/teams/payments.yaml", cwd=remote).strip()
    assert body["etag"] == blob and answer.headers["ETag"] == f'"{blob}"'
    assert body["namespaces"] == {"dev": "payments-dev", "staging": "payments-staging",
                                  "prod": "payments-prod"}
    assert body["services"] == ["ledger", "settlement-worker"]
    assert body["revision"] == commits(remote)[0]
    listed = api.client.get("/v1/teams", headers=api.auth("member")).json()
    assert listed == [{"name": "payments", "etag": blob}]  # payments-devs: one team
    every = api.client.get("/v1/teams", headers=api.auth("admin")).json()
    assert [t["name"] for t in every] == ["checkout", "data-platform", "payments",
                                          "storefront"]


@BOTH_DATABASES
def test_owner_updates_members_in_one_commit_with_trailers(api: Api, remote: Path) -> None:
    before = commits(remote)
    doc, etag = read(api, "payments")
    doc["spec"]["members"] = ["group:payments-devs", "user:carol@example.com"]
    answer = put(api, "payments", doc, etag)
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"/v1/requests/{answer.json()['id']}"
    done = wait_final(api, answer.json()["id"], "owner")
    assert done["state"] == "succeeded", done
    after = commits(remote)
    assert len(after) == len(before) + 1 and done["result"]["commit"] == after[0]
    message = git("log", "-1", "--format=%B", cwd=remote)
    assert "Requested-By: user:alice@example.com\n" in message
    assert f"Request-Id: {done['id']}" in message
    assert git("log", "-1", "--format=%an", cwd=remote).strip() == "user:alice@example.com"
    text = git("show", "main:platform/teams/payments.yaml", cwd=remote)
    assert "user:carol@example.com" in text
    assert "# Only production pages wake someone" in text  # comments kept
    _, new_etag = read(api, "payments")
    assert new_etag == f'"{done["result"]["etag"]}"' != etag


def test_a_write_done_within_the_wait_is_200(tmp_path: Path, remote: Path) -> None:
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_write_wait_seconds=30.0)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        doc, etag = read(api, "payments")
        doc["spec"]["viewers"] = []
        answer = put(api, "payments", doc, etag)
        assert answer.status_code == 200, answer.text
        assert answer.json()["state"] == "succeeded"


@BOTH_DATABASES
def test_stale_if_match_is_412_and_missing_is_428_and_nothing_is_written(
        api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    doc["spec"]["viewers"] = []
    first = put(api, "payments", doc, etag)
    assert wait_final(api, first.json()["id"])["state"] == "succeeded"
    head = commits(remote)
    doc["spec"]["viewers"] = ["group:auditors"]
    stale = put(api, "payments", doc, etag)
    assert stale.status_code == 412, stale.text
    assert stale.json()["error"] == "PreconditionFailed"
    assert "changed since version" in stale.json()["message"]
    missing = put(api, "payments", doc, None)
    assert missing.status_code == 428, missing.text
    assert "If-Match is required" in missing.json()["message"]
    assert commits(remote) == head
    audit = api.client.get("/v1/audit?action=team.update", headers=api.auth("admin")).json()
    assert len(audit["entries"]) == 2  # the first one's submission and its success only


@BOTH_DATABASES
def test_quota_above_the_ceiling_waits_for_an_admin_then_commits(api: Api,
                                                                  remote: Path) -> None:
    head = commits(remote)
    doc, etag = read(api, "payments")
    doc["spec"]["quota"]["memory"] = "48Gi"  # the ceiling is 8Gi: within the maximum
    answer = put(api, "payments", doc, etag)
    assert answer.status_code == 202, answer.text
    pending = answer.json()
    assert pending["state"] == "pending-approval"
    assert any("raises memory in dev from 32Gi to 48Gi" in r
               for r in pending["payload"]["reasons"]), pending
    time.sleep(0.5)  # a worker runs: it must not touch a pending request
    assert commits(remote) == head
    owner_try = api.client.post(f"/v1/requests/{pending['id']}/approve",
                                headers=api.auth("owner"))
    assert owner_try.status_code == 403
    approved = api.client.post(f"/v1/requests/{pending['id']}/approve",
                               headers=api.auth("admin"))
    assert approved.status_code == 200, approved.text
    done = wait_final(api, pending["id"], "owner")
    assert done["state"] == "succeeded", done
    assert len(commits(remote)) == len(head) + 1
    assert "memory: 48Gi" in git("show", "main:platform/teams/payments.yaml", cwd=remote)


@BOTH_DATABASES
def test_an_approved_update_that_went_stale_fails_and_writes_nothing(api: Api,
                                                                      remote: Path) -> None:
    doc, etag = read(api, "payments")
    raised = copy.deepcopy(doc)
    raised["spec"]["quota"]["memory"] = "48Gi"
    pending = put(api, "payments", raised, etag).json()
    assert pending["state"] == "pending-approval"
    doc["spec"]["viewers"] = []  # a direct change lands first
    assert wait_final(api, put(api, "payments", doc, etag).json()["id"])["state"] == \
        "succeeded"
    head = commits(remote)
    api.client.post(f"/v1/requests/{pending['id']}/approve", headers=api.auth("admin"))
    done = wait_final(api, pending["id"])
    assert done["state"] == "failed"
    assert done["result"]["error"] == "PreconditionFailed"
    assert "changed since version" in done["result"]["message"]
    assert commits(remote) == head


def test_owner_changing_owners_is_pending_and_renaming_is_403(api: Api) -> None:
    doc, etag = read(api, "payments")
    renamed = copy.deepcopy(doc)
    renamed["metadata"]["name"] = "payouts"
    refused = put(api, "payments", renamed, etag)
    assert refused.status_code == 403, refused.text
    assert "a team is not renamed" in refused.json()["message"]
    doc["spec"]["owners"].append("user:dave@example.com")
    assert put(api, "payments", doc, etag).json()["state"] == "pending-approval"


def new_team(name: str, owner: str = "user:mallory@example.com") -> dict[str, Any]:
    return {"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
            "metadata": {"name": name},
            "spec": {"displayName": name.title(), "costCenter": "CC-9", "owners": [owner],
                     "environments": ["dev"]}}


@BOTH_DATABASES
def test_a_non_admin_onboarding_is_pending_and_an_admin_approves_it(api: Api,
                                                                     remote: Path) -> None:
    head = commits(remote)
    answer = api.client.post("/v1/teams", json=new_team("fraud"),
                             headers=api.auth("stranger"))
    assert answer.status_code == 202, answer.text
    request = answer.json()
    assert request["state"] == "pending-approval" and request["kind"] == "team.create"
    time.sleep(0.3)
    assert commits(remote) == head
    mine = api.client.get(f"/v1/requests/{request['id']}", headers=api.auth("stranger"))
    assert mine.status_code == 200  # one's own request, before the team exists
    api.client.post(f"/v1/requests/{request['id']}/approve", headers=api.auth("admin"))
    assert wait_final(api, request["id"])["state"] == "succeeded"
    assert len(commits(remote)) == len(head) + 1
    assert api.client.get("/v1/teams/fraud", headers=api.auth("stranger")).status_code == 200


def test_an_admin_onboards_at_once_and_a_taken_name_is_409(api: Api) -> None:
    answer = api.client.post("/v1/teams", json=new_team("fraud"), headers=api.auth("admin"))
    assert answer.status_code == 202 and answer.json()["state"] == "queued"
    assert wait_final(api, answer.json()["id"])["state"] == "succeeded"
    again = api.client.post("/v1/teams", json=new_team("fraud"), headers=api.auth("admin"))
    assert again.status_code == 409, again.text


@BOTH_DATABASES
def test_an_idempotency_key_retry_gets_the_first_request_and_one_commit(
        api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    doc["spec"]["viewers"] = []
    key = {"Idempotency-Key": "k-1"}
    first = put(api, "payments", doc, etag, **key)
    assert wait_final(api, first.json()["id"])["state"] == "succeeded"
    head = commits(remote)
    retry = put(api, "payments", doc, etag, **key)  # its If-Match is stale by now
    assert retry.status_code in {200, 202}, retry.text
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert commits(remote) == head


@BOTH_DATABASES
@pytest.mark.parametrize("kind", ["team.create", "team.update"])
def test_a_key_sent_to_two_replicas_at_once_is_one_request_audited_once(
        tmp_path: Path, remote: Path, database_url: str, kind: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As for a scaffold (tests/api/test_scaffold.py): the second replica looked the key
    up before the first stored it; the store makes it a replay, audited once."""
    settings = make_settings(tmp_path, gitops_repo=str(remote), database_url=database_url,
                             api_workers=0)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        key = {"Idempotency-Key": "k-1"}
        if kind == "team.create":
            def send() -> Any:
                return client.post("/v1/teams", json=new_team("ledgers"),
                                   headers={**api.auth("admin"), **key})
        else:
            doc, etag = read(api, "payments")
            doc["spec"]["viewers"] = []

            def send() -> Any:
                return put(api, "payments", doc, etag, **key)
        first = send()
        monkeypatch.setattr(Requests, "find_by_key", lambda self, actor, key: None)
        again = send()
        assert (first.status_code, again.status_code) == (202, 202), again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        audit = client.get("/v1/audit", headers=api.auth("admin")).json()["entries"]
    assert [(e["action"], e["outcome"]) for e in audit
            if e["request_id"] == first.json()["id"]] == [(kind, "submitted")]


@pytest.mark.parametrize("kind", ["team.create", "team.update"])
def test_a_key_sent_again_at_once_is_replayed_even_once_its_change_landed(
        tmp_path: Path, remote: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other replica looked the key up before the first one stored it, and the first
    request was done before this one's checks ran: they would refuse its own change
    (409 the team exists, 412 If-Match is stale), but the answer is the first request's."""
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_workers=0)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        key = {"Idempotency-Key": "k-1"}
        if kind == "team.create":
            def send() -> Any:
                return client.post("/v1/teams", json=new_team("ledgers"),
                                   headers={**api.auth("admin"), **key})
        else:
            doc, etag = read(api, "payments")
            doc["spec"]["viewers"] = []

            def send() -> Any:
                return put(api, "payments", doc, etag, **key)
        first = send()
        store = client.app.state.store  # type: ignore[attr-defined]
        assert Worker(settings, store, "w").run_once()
        assert wait_final(api, first.json()["id"])["state"] == "succeeded"
        head = commits(remote)
        real = Requests.find_by_key
        looked: list[str] = []

        def late(self: Requests, actor: str, key: str) -> Any:
            looked.append(key)  # the first look came before the first request was stored
            return None if len(looked) == 1 else real(self, actor, key)

        monkeypatch.setattr(Requests, "find_by_key", late)
        again = send()
        assert again.status_code in {200, 201}, again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        monkeypatch.undo()
        without_key = client.post("/v1/teams", json=new_team("ledgers"),
                                  headers=api.auth("admin")) if kind == "team.create" \
            else put(api, "payments", doc, etag)
    assert without_key.status_code == (409 if kind == "team.create" else 412)
    assert commits(remote) == head


@BOTH_DATABASES
def test_an_admin_offboards_a_team_and_owners_may_not(api: Api, remote: Path) -> None:
    _, etag = read(api, "payments")
    assert api.client.delete("/v1/teams/payments", headers={
        **api.auth("owner"), "If-Match": etag}).status_code == 403
    assert api.client.delete("/v1/teams/payments",
                             headers=api.auth("admin")).status_code == 428
    answer = api.client.delete("/v1/teams/payments?allowOffboarding=true",
                               headers={**api.auth("admin"), "If-Match": etag})
    assert answer.status_code == 202, answer.text
    done = wait_final(api, answer.json()["id"])
    assert done["state"] == "succeeded", done
    files = git("ls-tree", "-r", "--name-only", "main", cwd=remote).split()
    assert "platform/teams/payments.yaml" not in files
    assert not any(p.startswith("tenants/payments/") for p in files)
    assert "Request-Id: " + done["id"] in git("log", "-1", "--format=%B", cwd=remote)


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def test_plan_shows_the_changes_and_writes_nothing(api: Api, remote: Path) -> None:
    doc, _ = read(api, "payments")
    doc["spec"]["quota"]["pods"] = 90
    refs = git("for-each-ref", cwd=remote)
    # The first plan on a commit keeps the analysis of that commit (gitops/base.py: a
    # cache of the repository's own tree, the same for any proposal, under the HMAC key
    # of the state) and nothing else; a plan after it changes nothing at all.
    before = snapshot(api.settings.state_dir)
    warm = copy.deepcopy(doc)
    warm["spec"]["viewers"] = []
    assert api.client.post("/v1/teams/payments/plan", json=warm,
                           headers=api.auth("owner")).status_code == 200
    state = snapshot(api.settings.state_dir)
    added = set(state) - set(before)
    assert {Path(p).name for p in added} == {"goldenpath-base.pack", "spec-cache.key"}
    assert {p for p in before if state.get(p) != before[p]} == set()
    answer = api.client.post("/v1/teams/payments/plan", json=doc, headers=api.auth("owner"))
    assert answer.status_code == 200, answer.text
    plan = answer.json()
    changed = {(o["kind"], o["action"]) for o in plan["objects"]}
    assert changed == {("ResourceQuota", "changed")}, plan["objects"]
    quotas = [d["diff"] for d in plan["diffs"] if "resourcequota" in d["path"]]
    assert len(quotas) == 3  # dev, staging, prod
    assert all('-    pods: "100"\n+    pods: "90"\n' in d for d in quotas), quotas
    spec_diff = next(d["diff"] for d in plan["diffs"]
                     if d["path"] == "platform/teams/payments.yaml")
    assert "+  quota: {cpu: \"16\", memory: 32Gi, pods: 90}" in spec_diff, spec_diff
    assert plan["removes_namespaces"] == []
    assert git("for-each-ref", cwd=remote) == refs
    assert snapshot(api.settings.state_dir) == state
    subprocess.run(["git", "fsck", "--strict"], cwd=remote, check=True, capture_output=True)


def test_a_spec_error_is_422_with_file_and_path(api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    doc["spec"]["quota"]["cpu"] = "lots"
    doc["spec"]["colour"] = "blue"
    head = commits(remote)
    for answer in (put(api, "payments", doc, etag),
                   api.client.post("/v1/teams/payments/plan", json=doc,
                                   headers=api.auth("owner"))):
        assert answer.status_code == 422, answer.text
        details = answer.json()["details"]
        assert any(d.startswith("platform/teams/payments.yaml: spec.quota.cpu") for d in
                   details), details
        assert any("spec.colour" in d for d in details), details
    assert commits(remote) == head


def test_a_stranger_cannot_tell_unknown_from_forbidden_teams(api: Api) -> None:
    doc, etag = read(api, "payments")
    for team in ("payments", "no-such-team"):
        answers = [
            api.client.get(f"/v1/teams/{team}", headers=api.auth("stranger")),
            put(api, team, doc, etag, role="stranger"),
            api.client.post(f"/v1/teams/{team}/plan", json=doc, headers=api.auth("stranger")),
            api.client.delete(f"/v1/teams/{team}", headers={**api.auth("stranger"),
                                                             "If-Match": etag}),
        ]
        assert [a.status_code for a in answers] == [403] * 4
        assert {a.json()["message"] for a in answers} == {
            f'team "{team}": no such team, or you have no role in it; its owners or a '
            "platform admin can add you"}
    assert api.client.get("/v1/teams", headers=api.auth("stranger")).json() == []


@BOTH_DATABASES
def test_ten_concurrent_updates_to_different_teams_each_commit(tmp_path: Path, remote: Path,
                                                                database_url: str) -> None:
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_workers=2,
                             database_url=database_url)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        created = []
        for n in range(6):  # ten teams: the example's four and six more
            answer = client.post("/v1/teams", json=new_team(f"t{n}", "user:alice@example.com"),
                                 headers=api.auth("admin"))
            created.append(answer.json()["id"])
        assert all(wait_final(api, rid)["state"] == "succeeded" for rid in created)
        names = [t["name"] for t in client.get("/v1/teams", headers=api.auth("admin")).json()]
        assert len(names) == 10
        head = commits(remote)

        def change(team: str) -> str:
            doc, etag = read(api, team, "admin")
            doc["spec"]["viewers"] = [f"user:{team}-viewer@example.com"]
            answer = put(api, team, doc, etag, role="admin")
            assert answer.status_code == 202, answer.text
            return str(answer.json()["id"])

        with ThreadPoolExecutor(10) as pool:
            ids = list(pool.map(change, names))
        results = [wait_final(api, rid, seconds=240) for rid in ids]
    assert [r["state"] for r in results] == ["succeeded"] * 10, results
    after = commits(remote)
    assert len(after) == len(head) + 10
    assert {r["result"]["commit"] for r in results} == set(after[:10])
    for team in names:
        text = git("show", f"main:platform/teams/{team}.yaml", cwd=remote)
        assert f"user:{team}-viewer@example.com" in text
    subprocess.run(["git", "fsck", "--strict"], cwd=remote, check=True, capture_output=True)


@BOTH_DATABASES
def test_a_request_claimed_again_after_its_commit_landed_commits_nothing_twice(
        tmp_path: Path, remote: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, gitops_repo=str(remote), api_workers=0,
                             database_url=database_url)
    svc.seed(settings.platform_dir, svc.Where(settings=settings))
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        store = client.app.state.store  # type: ignore[attr-defined]
        doc, etag = read(api, "payments")
        doc["spec"]["viewers"] = []
        rid = put(api, "payments", doc, etag).json()["id"]
        head = commits(remote)
        # the first attempt pushed its commit, then its worker died before recording it
        first = teamrequests.execute(store.requests.get(rid), svc.Where(settings=settings))
        assert first["commit"] is not None
        assert len(commits(remote)) == len(head) + 1
        assert Worker(settings, store, "worker-b").run_once()
        done = wait_final(api, rid)
        assert done["state"] == "succeeded" and done["result"]["commit"] is None
        assert any("holds this change already" in line["message"] for line in done["log"])
        assert len(commits(remote)) == len(head) + 1
        assert not Worker(settings, store, "worker-c").run_once()  # nothing left


def test_embedded_mode_seeds_the_local_repository_on_first_start_only(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for start in range(2):
        with TestClient(create_app(settings, seed=True)) as client:
            api = Api(client, settings, mint_all(client) if start == 0 else {})
            names = client.get("/v1/teams", headers=api.auth("bootstrap")).json()
            assert [t["name"] for t in names] == ["checkout", "data-platform", "payments",
                                                  "storefront"]
        assert len(commits(settings.embedded_gitops_repo)) == 1
    with TestClient(create_app(make_settings(tmp_path / "unseeded"))) as client:
        empty = client.get("/v1/teams", headers={"Authorization": "Bearer " + ADMIN_TOKEN})
        assert empty.status_code == 404
        assert "holds no specs yet" in empty.json()["message"]


def test_a_change_the_whole_platform_refuses_is_422_at_once_and_stores_nothing(
        api: Api, remote: Path) -> None:
    doc, etag = read(api, "payments")
    doc["spec"]["quota"]["cpu"] = "64"  # above spec.limits.grants.payments.maxQuota.cpu
    head = commits(remote)
    answer = put(api, "payments", doc, etag)
    assert answer.status_code == 422, answer.text
    assert answer.json()["details"] == [
        'platform/teams/payments.yaml: spec.quota.cpu: "64": is above the platform\'s '
        "maximum 32 per team and environment (in dev, staging); ask a platform admin to "
        "raise spec.limits.maxQuota.cpu, or to grant the team more in "
        "spec.limits.grants.payments.maxQuota.cpu, in platform.yaml"]
    assert commits(remote) == head
    audit = api.client.get("/v1/audit?team=payments", headers=api.auth("admin")).json()
    assert audit["entries"] == []


@BOTH_DATABASES
def test_an_owner_removed_through_the_api_can_no_longer_scaffold(api: Api) -> None:
    """Who may do what is decided on the control repository's specs, which the team routes
    write: an owner an admin removed there must not keep scaffolding from the platform
    directory's stale copy."""
    doc, etag = read(api, "payments", "admin")
    doc["spec"]["owners"] = ["user:bob@example.com"]
    answer = put(api, "payments", doc, etag, role="admin")
    assert answer.status_code in (200, 202), answer.text
    assert wait_final(api, answer.json()["id"])["state"] == "succeeded"
    scaffold = api.client.post("/v1/teams/payments/services", headers=api.auth("owner"),
                               json={"name": "sneaky", "template": "python-service"})
    assert scaffold.status_code == 403, scaffold.text
    assert api.repositories() == []
