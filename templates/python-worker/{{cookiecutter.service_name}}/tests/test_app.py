"""The worker's own tests: messages are handled, failures are contained, probes and metrics answer."""

from __future__ import annotations

import urllib.error
import urllib.request

from prometheus_client import REGISTRY

from {{ cookiecutter.package_name }}.health import serve
from {{ cookiecutter.package_name }}.queue import MemoryQueue, Message
from {{ cookiecutter.package_name }}.worker import Worker

QUEUE = "{{ cookiecutter.queue }}"


def _count(code: str) -> float:
    labels = {"method": "CONSUME", "route": QUEUE, "code": code}
    return REGISTRY.get_sample_value("{{ cookiecutter.metrics.requests_total }}", labels) or 0.0


def test_a_message_is_handled_and_acked() -> None:
    queue = MemoryQueue()
    queue.put(Message("1", b"hello"))
    before = _count("200")
    assert Worker(queue, QUEUE).run_once(timeout=0.1)
    assert [m.id for m in queue.acked] == ["1"]
    assert _count("200") == before + 1


def test_a_failing_message_is_rejected_and_the_worker_goes_on() -> None:
    def explode(message: Message) -> None:
        raise ValueError(message.id)

    queue = MemoryQueue()
    queue.put(Message("bad", b""))
    before = _count("500")
    worker = Worker(queue, QUEUE, explode)
    assert worker.run_once(timeout=0.1)
    assert [m.id for m in queue.dead] == ["bad"]
    assert _count("500") == before + 1
    assert not worker.run_once(timeout=0.01)


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_probes_and_metrics_are_served() -> None:
    worker = Worker(MemoryQueue(), QUEUE)
    worker.run_once(timeout=0.01)
    server = serve(worker, 0, host="127.0.0.1")
    try:
        port = server.server_address[1]
        assert _get(port, "/healthz")[0] == 200
        assert _get(port, "/readyz")[0] == 503  # not ready until the loop runs
        worker.ready = True
        assert _get(port, "/readyz")[0] == 200
        status, body = _get(port, "{{ cookiecutter.metrics.metrics_path }}")
    finally:
        server.shutdown()
    assert status == 200
    assert "{{ cookiecutter.metrics.request_duration }}_bucket{" in body
