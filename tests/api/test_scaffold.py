"""POST /v1/teams/{team}/services end to end through the app: real cookiecutter, real
git, the in-process worker, the store on SQLite and PostgreSQL. The service is listed in
the control repository the lifespan seeded, by one commit with its objects."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.errors import NotFound
from goldenpath.gitops.staleness import SpecsBehind
from goldenpath.services import gitops, teams
from goldenpath.services.worker import Worker
from goldenpath.settings import Settings
from goldenpath.store.requests import Requests
from tests.api.conftest import BOTH_DATABASES, Api, mint_all, wait_final
from tests.gitops.conftest import commits, git

pytestmark = BOTH_DATABASES

WORKER = {"name": "refunds", "template": "python-worker", "parameters": {"queue": "refunds"}}


def sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_owner_scaffolds_a_service_and_follows_it_to_the_end(api: Api) -> None:
    answer = api.client.post("/v1/teams/payments/services", json=WORKER,
                             headers=api.auth("owner"))
    assert answer.status_code == 202, answer.text
    rid = answer.json()["id"]
    assert answer.headers["Location"] == f"/v1/requests/{rid}"
    assert answer.json()["actor"] == "user:alice@example.com"
    with api.client.stream("GET", f"/v1/requests/{rid}/events",
                           headers=api.auth("owner")) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = sse(stream.read().decode())
    assert events[-1][0] == "state" and events[-1][1]["state"] == "succeeded"
    assert any(kind == "log" and data["message"].startswith("pushed ")
               for kind, data in events)
    assert api.repositories() == ["payments/refunds"]
    done = api.client.get(f"/v1/requests/{rid}", headers=api.auth("owner")).json()
    assert done["result"]["service"] == "refunds"
    assert done["result"]["specCommit"] == commits(api.control)[0]
    assert [line["seq"] for line in done["log"]] == [1, 2, 3, 4]
    audit = api.client.get("/v1/audit", params={"team": "payments"},
                           headers=api.auth("admin")).json()["entries"]
    assert [(e["action"], e["outcome"], e["request_id"]) for e in audit] == [
        ("service.create", "succeeded", rid), ("service.create", "submitted", rid)]


def test_the_service_is_listed_in_the_control_repository_by_one_commit_with_its_objects(
        api: Api) -> None:
    before = commits(api.control)
    platform_dir = (api.settings.platform_dir / "teams" / "payments.yaml").read_bytes()
    rid = api.client.post("/v1/teams/payments/services", json=WORKER,
                          headers=api.auth("owner")).json()["id"]
    assert wait_final(api, rid, "owner")["state"] == "succeeded"
    after = commits(api.control)
    assert after[1:] == before  # one commit more
    commit = after[0]
    team = git("show", f"{commit}:platform/teams/payments.yaml", cwd=api.control)
    assert "      template: python-worker\n" in team
    assert "    - name: refunds\n      template: python-worker\n" \
           "      parameters: {queue: refunds}\n" in team
    # the round-trip editor kept the hand-written comments and styles
    assert "    # Only production pages wake someone; dev and staging pages go to Slack.\n" \
        in team
    assert '  owners: ["user:alice@example.com"]\n' in team
    changed = git("show", "--name-only", "--format=", commit, cwd=api.control).split()
    apps = [f"tenants/payments/_apps/application-payments.refunds.{env}.yaml"
            for env in ("dev", "staging", "prod")]
    assert set(apps) <= set(changed)
    assert "platform/teams/payments.yaml" in changed
    app = git("show", f"{commit}:{apps[-1]}", cwd=api.control)
    assert "kind: Application\n" in app and "name: payments.refunds.prod\n" in app
    message = git("log", "-1", "--format=%B", commit, cwd=api.control)
    assert message.startswith("goldenpath: new service payments/refunds (python-worker)\n")
    assert f"\nRequested-By: user:alice@example.com\nRequest-Id: {rid}\n" in message
    author = git("log", "-1", "--format=%an <%ae>", commit, cwd=api.control).strip()
    assert author == "user:alice@example.com <alice@example.com>"
    # the repository is the API's truth: the directory it was seeded from is left alone
    assert (api.settings.platform_dir / "teams" / "payments.yaml").read_bytes() == \
        platform_dir
    entities = api.client.get("/v1/catalog/entities", headers=api.auth("viewer")).json()
    component = next(e for e in entities if e["metadata"]["name"] == "payments-refunds")
    assert component["metadata"]["annotations"] == {
        "argocd/app-name": "payments.refunds.prod",
        "backstage.io/kubernetes-id": "refunds",
        "backstage.io/source-location":
            f"url:{api.repos.resolve() / 'payments' / 'refunds.git'}"}
    answer = api.client.get("/v1/teams/payments", headers=api.auth("viewer")).json()
    assert "refunds" in answer["services"]


def test_an_apply_from_the_directory_that_lacks_the_service_is_refused(api: Api) -> None:
    """The listing commit is a request's: a directory copied before it is behind, and
    an apply from it would drop the service, so it is refused and pushes nothing."""
    rid = api.client.post("/v1/teams/payments/services", json=WORKER,
                          headers=api.auth("owner")).json()["id"]
    assert wait_final(api, rid, "owner")["state"] == "succeeded"
    head = commits(api.control)
    with pytest.raises(SpecsBehind) as refused:
        gitops.apply(api.settings.platform_dir, settings=api.settings)
    assert refused.value.teams == ["payments"]
    assert commits(api.control) == head


def test_a_name_listed_in_the_repository_only_is_taken(api: Api) -> None:
    """Checks run against the repository's specs: a service an API request listed there
    (not in the platform directory) makes the name taken."""
    rid = api.client.post("/v1/teams/payments/services", json=WORKER,
                          headers=api.auth("owner")).json()["id"]
    assert wait_final(api, rid, "owner")["state"] == "succeeded"
    for repository in api.repos.glob("*/*.git"):  # the name must be taken by the spec alone
        repository.rename(repository.with_name("moved.git"))
    again = api.client.post("/v1/teams/payments/services", json=WORKER,
                            headers=api.auth("owner"))
    assert again.status_code == 409, again.text
    assert again.json()["message"] == ("team 'payments' already has a service 'refunds' "
                                       "(platform/teams/payments.yaml)")


def test_without_specs_in_the_repository_the_platform_directory_is_listed_in(
        settings: Settings) -> None:
    """Not seeded (no specs in the control repository yet): the API's specs are the
    platform directory's, and the service is listed there, as ``new-service`` lists it."""
    with TestClient(create_app(settings)) as client:
        api = Api(client, settings, mint_all(client))
        rid = api.client.post("/v1/teams/payments/services", json=WORKER,
                              headers=api.auth("owner")).json()["id"]
        done = wait_final(api, rid, "owner")
    assert done["state"] == "succeeded", done
    assert done["result"]["specCommit"] is None
    team = (settings.platform_dir / "teams" / "payments.yaml").read_text()
    assert "    - name: refunds\n      template: python-worker\n" in team
    assert not settings.embedded_gitops_repo.exists()  # nothing was committed
    with pytest.raises(NotFound, match="holds no specs yet"):
        teams.current_platform(teams.Where(settings=settings))


def test_a_write_that_finishes_within_the_wait_is_201(api: Api) -> None:
    api.settings.api_write_wait_seconds = 60.0  # the app reads these very settings
    answer = api.client.post("/v1/teams/payments/services", json=WORKER,
                             headers=api.auth("owner"))
    assert answer.status_code == 201, answer.text
    assert answer.json()["state"] == "succeeded"


def test_an_idempotency_key_retry_gets_the_first_answer_and_no_second_repository(
        api: Api) -> None:
    headers = {**api.auth("owner"), "Idempotency-Key": "k-1"}
    first = api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    rid = first.json()["id"]
    wait_final(api, rid, "owner")
    again = api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    # the repository exists now, so the checks alone would refuse a new request: 409
    assert again.status_code == 201, again.text
    assert again.json()["id"] == rid
    assert again.headers["Idempotent-Replayed"] == "true"
    assert api.repositories() == ["payments/refunds"]
    other = api.client.post("/v1/teams/payments/services", headers=headers,
                            json={**WORKER, "name": "chargebacks"})
    assert other.status_code == 409
    assert other.json()["message"].startswith("Idempotency-Key 'k-1' was already used by "
                                              "user:alice@example.com for request ")
    without_key = api.client.post("/v1/teams/payments/services", json=WORKER,
                                  headers=api.auth("owner"))
    assert without_key.status_code == 409
    assert without_key.json()["message"].startswith("team 'payments' already has a service "
                                                     "'refunds'")


def test_a_key_sent_to_two_replicas_at_once_is_one_request_audited_once(
        idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two replicas get the same Idempotency-Key at the same moment and both look it up
    before either has stored it: the store's unique index makes the second a replay of
    the first, which is one request and one audited submission, not two."""
    headers = {**idle_api.auth("owner"), "Idempotency-Key": "k-1"}
    first = idle_api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    assert first.status_code == 202, first.text
    rid = first.json()["id"]
    # the other replica looked before the first one's row was committed
    monkeypatch.setattr(Requests, "find_by_key", lambda self, actor, key: None)
    again = idle_api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == rid
    assert again.headers["Idempotent-Replayed"] == "true"
    audit = idle_api.client.get("/v1/audit", params={"team": "payments"},
                                headers=idle_api.auth("admin")).json()["entries"]
    assert [(e["action"], e["outcome"], e["request_id"]) for e in audit] == [
        ("service.create", "submitted", rid)]


def test_a_key_sent_again_at_once_is_replayed_even_once_its_service_exists(
        idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other replica looked the key up before the first one stored it, and the first
    request was done before this one's checks ran: they find the service it created
    and would refuse it (409), but the answer is the first request's."""
    headers = {**idle_api.auth("owner"), "Idempotency-Key": "k-1"}
    first = idle_api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    store = idle_api.client.app.state.store  # type: ignore[attr-defined]
    assert Worker(idle_api.settings, store, "w").run_once()
    assert wait_final(idle_api, first.json()["id"])["state"] == "succeeded"
    real = Requests.find_by_key
    looked: list[str] = []

    def late(self: Requests, actor: str, key: str) -> Any:
        looked.append(key)  # the first look comes before the first request was stored
        return None if len(looked) == 1 else real(self, actor, key)

    monkeypatch.setattr(Requests, "find_by_key", late)
    again = idle_api.client.post("/v1/teams/payments/services", json=WORKER, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = idle_api.client.post("/v1/teams/payments/services", json=WORKER,
                                 headers=idle_api.auth("owner"))
    assert other.status_code == 409  # without the key, the checks' refusal stands
    assert other.json()["message"].startswith("team 'payments' already has a service")


def _requests(api: Api) -> int:
    metrics = api.client.get("/v1/metrics").text
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics.splitlines()
               if line.startswith("goldenpath_requests{"))


def test_bad_bodies_get_422_with_the_spec_messages_and_change_nothing(api: Api) -> None:
    before = commits(api.control)
    cases = {
        "unknown field": ({**WORKER, "owner": "me"},
                          ['request body: owner: "me": Extra inputs are not permitted']),
        "missing field": ({"name": "x"}, ["request body: template: Field required"]),
        # who granted the request is the API's to record, never the caller's to say
        "forged grant": ({**WORKER, "grantedBy": ["group:platform-admins"]},
                         ["request body: grantedBy: ['group:platform-admins']: Extra inputs "
                          "are not permitted"]),
        "not a label": ({**WORKER, "name": "Bad_Name"},
                        ["platform/teams/payments.yaml: "
                         'spec.services: "Bad_Name": is not a DNS-1123 label (lower-case '
                         "letters, digits and '-')"]),
    }
    for case, (body, details) in cases.items():
        answer = api.client.post("/v1/teams/payments/services", json=body,
                                 headers=api.auth("owner"))
        assert answer.status_code == 422, case
        assert answer.json()["error"] == "SpecError", case
        assert answer.json()["details"] == details, case
    bad_param = api.client.post("/v1/teams/payments/services", headers=api.auth("owner"),
                                json={**WORKER, "parameters": {"queue": "Not A Queue"}})
    assert bad_param.status_code == 422
    assert bad_param.json()["error"] == "TemplateError"
    assert "parameter 'queue': 'Not A Queue' does not match" in bad_param.json()["message"]
    exists = api.client.post("/v1/teams/payments/services", headers=api.auth("owner"),
                             json={**WORKER, "name": "ledger"})
    assert exists.status_code == 409
    unknown = api.client.post("/v1/teams/payments/services", headers=api.auth("owner"),
                              json={**WORKER, "template": "php-monolith"})
    assert unknown.status_code == 404
    assert _requests(api) == 0
    assert api.repositories() == []
    assert commits(api.control) == before


def test_oversized_bodies_get_413_whether_declared_or_streamed(api: Api) -> None:
    limit = api.settings.api_max_body_bytes
    huge = {**WORKER, "parameters": {"queue": "q" * limit}}
    declared = api.client.post("/v1/teams/payments/services", json=huge,
                               headers=api.auth("owner"))
    assert declared.status_code == 413
    assert declared.json() == {
        "error": "TooLarge", "details": [], "guardrails": [],
        "message": f"request body: larger than {limit} bytes; send less "
                   "(GOLDENPATH_API_MAX_BODY_BYTES sets the limit)"}
    assert declared.headers["X-Request-Id"]

    def chunks() -> Any:  # no Content-Length: counted as it arrives
        yield b'{"name": "refunds", "template": "python-worker", "parameters": {"queue": "'
        for _ in range(limit // 4096 + 1):
            yield b"q" * 4096
        yield b'"}}'

    streamed = api.client.post("/v1/teams/payments/services", content=chunks(),
                               headers={**api.auth("owner"),
                                        "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "TooLarge"
    assert _requests(api) == 0


def test_no_token_is_401_with_a_bearer_challenge(api: Api) -> None:
    answer = api.client.post("/v1/teams/payments/services", json=WORKER)
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["message"] == ("no bearer token: send the header "
                                        "'Authorization: Bearer <token>'")
    forged = api.client.get("/v1/templates", headers={"Authorization": "Bearer gpt_forged"})
    assert forged.status_code == 401


def test_every_answer_carries_a_request_id_and_keeps_a_plain_one_sent(api: Api) -> None:
    mine = api.client.get("/v1/healthz", headers={"X-Request-Id": "trace-42"})
    assert mine.headers["X-Request-Id"] == "trace-42"
    for forged in ("x" * 65, "a b", '{"level": "error"}', "id\tx"):
        answer = api.client.get("/v1/healthz", headers={"X-Request-Id": forged})
        assert len(answer.headers["X-Request-Id"]) == 36, forged  # a new uuid4


def test_a_quiet_stream_says_it_is_waiting_until_a_worker_finishes(
        idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from api.routes import requests as routes
    from goldenpath.services.worker import Worker

    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 0.2)
    rid = idle_api.client.post("/v1/teams/payments/services", json=WORKER,
                               headers=idle_api.auth("owner")).json()["id"]
    store = idle_api.client.app.state.store  # type: ignore[attr-defined]
    late = threading.Timer(1.0, Worker(idle_api.settings, store, "late").run_once)
    late.start()
    try:
        with idle_api.client.stream("GET", f"/v1/requests/{rid}/events",
                                    headers=idle_api.auth("owner")) as stream:
            text = stream.read().decode()
    finally:
        late.join()
    assert text.startswith('event: state\ndata: {"state":"queued"}\n\n: waiting\n\n')
    assert sse(text.replace(": waiting\n\n", ""))[-1][1]["state"] == "succeeded"
