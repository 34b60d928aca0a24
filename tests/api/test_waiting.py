"""Waiting without polling (api/waiting.py, goldenpath/store/notify.py): a write's short
wait is answered the moment this process's worker finishes its request, after one read of
the database; a request another replica finished is still seen, by the slow re-read; an
event stream reads the store when there is news, not ten times a second; an idle worker
claims a request queued in its process at once, not at its next poll; and a waiting
write holds no thread the next requests need."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio.to_thread
import pytest

from api import waiting
from api.routes import requests as request_routes
from goldenpath.services.worker import Worker
from goldenpath.store import QUEUED, Store
from tests.api.conftest import Api, wait_final
from tests.api.test_scaffold import WORKER, sse
from tests.api.test_teams import put, read

#: longer than any wait here: an answer that came before it came from a notice
NEVER = 3600.0


def app_store(api: Api) -> Store:
    store: Store = api.client.app.state.store  # type: ignore[attr-defined]
    return store


def counted(monkeypatch: pytest.MonkeyPatch, store: Store, *names: str) -> list[str]:
    """Every call of these ``store.requests`` methods from now on, by name."""
    calls: list[str] = []
    for name in names:
        real: Callable[..., Any] = getattr(store.requests, name)

        def counting(*args: Any, _real: Callable[..., Any] = real, _name: str = name,
                     **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(store.requests, name, counting)
    return calls


def viewers_cleared(api: Api, team: str = "payments") -> tuple[dict[str, Any], str]:
    doc, etag = read(api, team)
    doc["spec"]["viewers"] = []
    return doc, etag


def test_a_write_is_answered_when_its_worker_finishes_after_one_read(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.settings.api_write_wait_seconds = 30.0  # the app reads these very settings
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", NEVER)
    doc, etag = viewers_cleared(api)
    reads = counted(monkeypatch, app_store(api), "get")
    began = time.monotonic()
    answer = put(api, "payments", doc, etag)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "succeeded"
    assert time.monotonic() - began < 25  # woken, not timed out
    assert reads == ["get"]  # the final row, read once


def test_a_write_sees_a_request_another_replica_finished(
        idle_api: Api, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """``store`` is a second Store on the same database: a replica, whose worker's
    notices never reach this API's waiters."""
    idle_api.settings.api_write_wait_seconds = 30.0
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", 0.05)
    doc, etag = viewers_cleared(idle_api)
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(put, idle_api, "payments", doc, etag)
        deadline = time.monotonic() + 30
        while not store.requests.list(state=QUEUED) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert Worker(idle_api.settings, store, "replica-b").run_once()
        done = answer.result(timeout=30)
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "succeeded"
    assert store.requests.get(done.json()["id"]).lease_owner == "replica-b"


def test_a_stream_reads_the_store_when_there_is_news(
        idle_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", NEVER)
    store = app_store(idle_api)
    rid = idle_api.client.post("/v1/teams/payments/services", json=WORKER,
                               headers=idle_api.auth("owner")).json()["id"]
    reads = counted(monkeypatch, store, "get", "logs")
    late = threading.Timer(1.0, Worker(idle_api.settings, store, "late").run_once)
    late.start()
    try:
        with idle_api.client.stream("GET", f"/v1/requests/{rid}/events",
                                    headers=idle_api.auth("owner")) as stream:
            events = sse(stream.read().decode())
    finally:
        late.join()
    assert [data["state"] for kind, data in events if kind == "state"] == [
        "queued", "running", "succeeded"]
    lines = [data for kind, data in events if kind == "log"]
    assert [line["seq"] for line in lines] == [1, 2, 3, 4]
    # the route's look, the stream's first, then one per change heard (the claim, each
    # line, the end; two reads each): none in the second the request sat queued
    assert len(reads) <= 1 + 2 * (1 + 1 + len(lines) + 1), reads


def test_a_stream_sees_what_another_replica_does(
        idle_api: Api, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(waiting, "RECHECK_SECONDS", 0.05)
    monkeypatch.setattr(request_routes, "KEEPALIVE_SECONDS", NEVER)
    rid = idle_api.client.post("/v1/teams/payments/services", json=WORKER,
                               headers=idle_api.auth("owner")).json()["id"]
    late = threading.Timer(0.5, Worker(idle_api.settings, store, "replica-b").run_once)
    late.start()
    try:
        with idle_api.client.stream("GET", f"/v1/requests/{rid}/events",
                                    headers=idle_api.auth("owner")) as stream:
            events = sse(stream.read().decode())
    finally:
        late.join()
    assert events[0] == ("state", {"state": "queued"})
    assert events[-1][1]["state"] == "succeeded"
    assert any(kind == "log" and data["message"].startswith("pushed ")
               for kind, data in events)


@pytest.fixture
def worker(idle_api: Api) -> Iterator[tuple[Worker, threading.Thread]]:
    """The API's store's worker, in a thread, polling once an hour."""
    found = Worker(idle_api.settings, app_store(idle_api), "local", poll_seconds=NEVER)
    thread = threading.Thread(target=found.run, daemon=True)
    thread.start()
    yield found, thread
    found.stop()
    thread.join(30)


def test_an_idle_worker_claims_a_request_queued_in_its_process_at_once(
        idle_api: Api, worker: tuple[Worker, threading.Thread]) -> None:
    time.sleep(0.2)  # the worker found nothing and waits
    doc, etag = viewers_cleared(idle_api)
    rid = put(idle_api, "payments", doc, etag).json()["id"]
    assert wait_final(idle_api, rid, seconds=30)["state"] == "succeeded"
    local, thread = worker
    local.stop()
    thread.join(10)
    assert not thread.is_alive()  # stop wakes it too


def test_a_waiting_write_holds_no_thread(idle_api: Api) -> None:
    """One thread in the pool: the write waits 5 s for a worker that never comes, and a
    route that needs the thread is answered meanwhile."""
    idle_api.settings.api_write_wait_seconds = 5.0
    portal = idle_api.client.portal  # type: ignore[attr-defined]
    limiter = portal.call(anyio.to_thread.current_default_thread_limiter)
    tokens = limiter.total_tokens
    portal.call(setattr, limiter, "total_tokens", 1)
    try:
        doc, etag = viewers_cleared(idle_api)
        with ThreadPoolExecutor(1) as pool:
            write = pool.submit(put, idle_api, "payments", doc, etag)
            deadline = time.monotonic() + 30
            while not app_store(idle_api).requests.list(state=QUEUED) \
                    and time.monotonic() < deadline:
                time.sleep(0.02)
            began = time.monotonic()
            assert idle_api.client.get("/v1/metrics").status_code == 200
            took = time.monotonic() - began
            assert write.result(timeout=30).status_code == 202
    finally:
        portal.call(setattr, limiter, "total_tokens", tokens)
    assert took < 2.5, took
