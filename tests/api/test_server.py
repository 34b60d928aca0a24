"""The whole path over real HTTP: ``goldenpath serve`` (uvicorn) on 127.0.0.1, embedded
mode, its bootstrap admin token read from its first start's output."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenpath.settings import Settings
from tests.api.conftest import make_settings

_TOKEN = re.compile(r"bootstrap admin token \(shown once, stored hashed\): (gpt_\S+)")


@dataclass
class Server:
    url: str
    admin: str
    settings: Settings
    process: subprocess.Popen[str]
    lines: list[str]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start(settings: Settings, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(GOLDENPATH_STATE_DIR=str(settings.state_dir),
               GOLDENPATH_TEMPLATES_ROOT=str(settings.templates_root),
               PYTHONPATH=os.pathsep.join(sys.path))
    command = [sys.executable, "-c", "from goldenpath.cli import main; main()", "serve",
               "--port", str(port), "--platform", str(settings.platform_dir)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait_ready(process: subprocess.Popen[str], url: str) -> list[str]:
    """The output lines up to the moment /readyz answers."""
    lines: list[str] = []
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines += [line.rstrip("\n") for line in process.stdout.readlines()]
        assert process.poll() is None, "\n".join(lines)
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                time.sleep(0.2)  # what was printed just before it answered
                return lines + [line.rstrip("\n") for line in process.stdout.readlines()]
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not get ready:\n" + "\n".join(lines))


def _stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    settings = make_settings(tmp_path, admin_token="")
    port = _free_port()
    process = _start(settings, port)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        lines = _wait_ready(process, url)
        tokens = [m.group(1) for line in lines for m in [_TOKEN.search(line)] if m]
        assert len(tokens) == 1, lines
        yield Server(url, tokens[0], settings, process, lines)
    finally:
        _stop(process)


def test_an_owner_scaffolds_over_http_and_follows_it_over_sse(server: Server) -> None:
    admin = {"Authorization": f"Bearer {server.admin}"}
    minted = httpx.post(f"{server.url}/tokens", headers=admin,
                        json={"subject": "user:alice@example.com", "name": "alice"})
    assert minted.status_code == 201, minted.text
    alice = {"Authorization": f"Bearer {minted.json()['secret']}"}
    answer = httpx.post(f"{server.url}/teams/payments/services", headers=alice,
                        json={"name": "refunds", "template": "python-worker",
                              "parameters": {"queue": "refunds"}})
    assert answer.status_code in {201, 202}, answer.text
    rid = answer.json()["id"]
    states = []
    with httpx.stream("GET", f"{server.url}/requests/{rid}/events", headers=alice,
                      timeout=60) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "state":
                states.append(json.loads(line.removeprefix("data: "))["state"])
    assert states[-1] == "succeeded", states
    repos = sorted(p.name for p in (server.settings.state_dir / "repos" / "payments").iterdir())
    assert repos == ["refunds.git"]
    audit = httpx.get(f"{server.url}/audit", headers=admin,
                      params={"actor": "user:alice@example.com"}).json()["entries"]
    assert [(e["action"], e["outcome"], e["request_id"]) for e in audit] == [
        ("service.create", "succeeded", rid), ("service.create", "submitted", rid)]
    metrics = httpx.get(f"{server.url}/metrics").text
    assert ('goldenpath_http_request_duration_seconds_count{method="POST",'
            'route="/v1/teams/{team}/services",status="202"}') in metrics or \
        'route="/v1/teams/{team}/services",status="201"}' in metrics
    assert 'goldenpath_request_duration_seconds_count{kind="service.create",' \
           'outcome="succeeded"} 1.0' in metrics
    assert 'goldenpath_requests{state="succeeded"} 1.0' in metrics


def test_logs_are_json_lines_with_a_request_id_and_the_token_shows_once(
        server: Server) -> None:
    httpx.get(f"{server.url}/healthz", headers={"X-Request-Id": "probe-1"})
    _stop(server.process)
    assert server.process.stdout is not None
    lines = server.lines + [line.rstrip("\n") for line in server.process.stdout.readlines()]
    logs = [json.loads(line) for line in lines if line.startswith("{")]
    assert logs and all("request_id" in entry for entry in logs)
    access = [e for e in logs if e.get("route") == "/v1/healthz"]
    assert [(e["request_id"], e["status"]) for e in access] == [("probe-1", 200)]
    assert sum(server.admin in line for line in lines) == 1
    again = _start(server.settings, _free_port())  # a second start prints no token
    try:
        url = f"http://127.0.0.1:{again.args[-3]}/v1"
        assert not any(_TOKEN.search(line) for line in _wait_ready(again, url))
        assert httpx.get(f"{url}/tokens", headers={
            "Authorization": f"Bearer {server.admin}"}).status_code == 200
    finally:
        _stop(again)


def _follow(url: str, rid: str, headers: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """The request's Server-Sent Events, from the first to the end of the stream."""
    events: list[tuple[str, dict[str, Any]]] = []
    with httpx.stream("GET", f"{url}/requests/{rid}/events", headers=headers,
                      timeout=60) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event is not None:
                events.append((event, json.loads(line.removeprefix("data: "))))
    return events


def _succeeded(url: str, answer: httpx.Response, headers: dict[str, str]) -> str:
    """The id of the request ``answer`` accepted, followed over SSE until it succeeded."""
    assert answer.status_code in {200, 201, 202}, answer.text
    rid: str = answer.json()["id"]
    events = _follow(url, rid, headers)
    assert events[-1][0] == "state" and events[-1][1]["state"] == "succeeded", events
    return rid


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


FRAUD = {"apiVersion": "goldenpath.dev/v1alpha1", "kind": "Team",
         "metadata": {"name": "fraud"},
         "spec": {"displayName": "Fraud", "costCenter": "CC-77",
                  "owners": ["user:erin@example.com"], "environments": ["dev", "prod"]}}


def test_the_whole_flow_over_http(server: Server) -> None:
    """Onboard a team, plan a change, apply it, scaffold a service and follow it over
    SSE, then read the audit trail, the catalog and the control repository's history."""
    url, admin = server.url, {"Authorization": f"Bearer {server.admin}"}
    control = server.settings.embedded_gitops_repo
    seeded = _git(control, "rev-list", "main").split()
    assert len(seeded) == 1  # serve seeded the embedded repository from --platform
    onboard = _succeeded(url, httpx.post(f"{url}/teams", headers=admin, json=FRAUD), admin)
    minted = httpx.post(f"{url}/tokens", headers=admin,
                        json={"subject": "user:erin@example.com", "name": "erin"})
    assert minted.status_code == 201, minted.text
    erin = {"Authorization": f"Bearer {minted.json()['secret']}"}
    update = _plan_and_apply(server, erin, seeded)
    rid, result = _scaffold(url, erin)

    audit = httpx.get(f"{url}/audit", headers=admin, params={"team": "fraud"})
    assert audit.status_code == 200, audit.text
    trail = [(e["action"], e["outcome"], e["request_id"], e["actor"])
             for e in reversed(audit.json()["entries"])]
    assert trail == [
        ("team.create", "submitted", onboard, "admin"),
        ("team.create", "succeeded", onboard, "admin"),
        ("team.update", "submitted", update, "user:erin@example.com"),
        ("team.update", "succeeded", update, "user:erin@example.com"),
        ("service.create", "submitted", rid, "user:erin@example.com"),
        ("service.create", "succeeded", rid, "user:erin@example.com")]
    assert httpx.get(f"{url}/audit", headers=erin).status_code == 403
    _catalog(server, erin, result)

    history = _git(control, "rev-list", "main").split()
    assert history[3:] == seeded and history[0] == result["specCommit"]
    trailers = [_git(control, "log", "-1", "--format=%(trailers:key=Requested-By,"
                                      "key=Request-Id,valueonly,separator=%x20)", c).strip()
                for c in history[:3]]
    assert trailers == [f"user:erin@example.com {rid}",
                        f"user:erin@example.com {update}", f"user:admin {onboard}"]
    last = _git(control, "show", "--name-only", "--format=", history[0]).split()
    assert "platform/teams/fraud.yaml" in last
    assert "tenants/fraud/_apps/application-fraud.scorer.prod.yaml" in last
    team = _git(control, "show", "main:platform/teams/fraud.yaml")
    assert team.endswith("  services:\n    - name: scorer\n      template: python-worker\n"
                         "      parameters: {queue: scores}\n"), team
    assert "  members: [user:dave@example.com]\n" in team
    _git(control, "fsck", "--strict", "--no-dangling")


def _plan_and_apply(server: Server, owner: dict[str, str], seeded: list[str]) -> str:
    """The owner plans adding a member (nothing written), then applies it with If-Match;
    the id of the update request."""
    url, control = server.url, server.settings.embedded_gitops_repo
    read = httpx.get(f"{url}/teams/fraud", headers=owner)
    assert read.status_code == 200, read.text
    assert read.json()["namespaces"] == {"dev": "fraud-dev", "prod": "fraud-prod"}
    changed = {**read.json()["spec"]}
    changed["spec"] = {**changed["spec"], "members": ["user:dave@example.com"]}
    plan = httpx.post(f"{url}/teams/fraud/plan", headers=owner, json=changed)
    assert plan.status_code == 200, plan.text
    objects = {(o["kind"], o["name"], o["action"]) for o in plan.json()["objects"]}
    assert {(kind, action) for kind, _, action in objects} == {
        ("AppProject", "changed"), ("RoleBinding", "added")}, objects
    assert {name for kind, name, _ in objects if kind == "RoleBinding"} == {
        "fraud-dev/goldenpath-members", "fraud-prod/goldenpath-members"}
    spec_diff = next(d["diff"] for d in plan.json()["diffs"]
                     if d["path"] == "platform/teams/fraud.yaml")
    assert "+  members: [user:dave@example.com]\n" in spec_diff, spec_diff
    assert _git(control, "rev-list", "main").split()[1:] == seeded  # planning wrote nothing
    stale = httpx.put(f"{url}/teams/fraud", json=changed,
                      headers={**owner, "If-Match": '"' + "0" * 40 + '"'})
    assert stale.status_code == 412, stale.text
    return _succeeded(url, httpx.put(f"{url}/teams/fraud", json=changed, headers={
        **owner, "If-Match": read.headers["ETag"]}), owner)


def _scaffold(url: str, owner: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The owner scaffolds a service and follows it over SSE; its id and result."""
    answer = httpx.post(f"{url}/teams/fraud/services", headers=owner,
                        json={"name": "scorer", "template": "python-worker",
                              "parameters": {"queue": "scores"}})
    assert answer.status_code in {201, 202}, answer.text
    rid = answer.json()["id"]
    events = _follow(url, rid, owner)
    states = [data["state"] for kind, data in events if kind == "state"]
    assert states[-1] == "succeeded", events
    logs = [data["message"] for kind, data in events if kind == "log"]
    assert any(m.startswith("pushed ") for m in logs), logs
    assert any(m.startswith("listed in platform/teams/fraud.yaml by commit ") for m in logs)
    result: dict[str, Any] = httpx.get(f"{url}/requests/{rid}", headers=owner).json()["result"]
    return rid, result


def _catalog(server: Server, owner: dict[str, str], result: dict[str, Any]) -> None:
    """The catalog shows the new team's Group and System and the service's Component."""
    entities = httpx.get(f"{server.url}/catalog/entities", headers=owner).json()
    assert [(e["kind"], e["metadata"]["name"]) for e in entities] == [
        ("Group", "fraud"), ("System", "fraud"), ("Component", "fraud-scorer")]
    group, system, component = entities
    assert group["spec"]["members"] == ["dave@example.com", "erin@example.com"]
    assert system["spec"]["owner"] == "group:default/fraud"
    repository = server.settings.state_dir.resolve() / "repos" / "fraud" / "scorer.git"
    assert component["metadata"]["annotations"] == {
        "argocd/app-name": "fraud.scorer.prod",
        "backstage.io/kubernetes-id": "scorer",
        "backstage.io/source-location": f"url:{repository}"}
    assert component["spec"]["system"] == "fraud"
    assert _git(repository, "rev-parse", "main").strip() == result["commit"]
