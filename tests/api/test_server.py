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
