"""The service's own tests: probes answer, requests are counted under the contract's names."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY, start_http_server

from {{ cookiecutter.package_name }} import metrics
from {{ cookiecutter.package_name }}.app import create_app


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_probes_answer() -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_probes_are_not_counted() -> None:
    """Kubelet probes are not users: counting them would let a service whose every real
    request fails look healthy to its SLO."""
    client = TestClient(create_app())
    assert sorted(metrics.PROBE_ROUTES) == ["/healthz", "/readyz"]
    before = _samples()
    for route in metrics.PROBE_ROUTES:
        assert client.get(route).status_code == 200
    assert _samples() == before
    client.get("/")
    assert _samples() != before  # the comparison above can tell


def _samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in REGISTRY.collect() for s in family.samples
            if s.name.startswith(("{{ cookiecutter.metrics.requests_total }}",
                                  "{{ cookiecutter.metrics.request_duration }}"))
            and not s.name.endswith("_created")}


def test_requests_are_counted_by_route_template() -> None:
    client = TestClient(create_app())
    labels = {"method": "GET", "route": "/", "code": "200"}
    before = _sample("{{ cookiecutter.metrics.requests_total }}", labels)
    assert client.get("/").json() == {"service": "{{ cookiecutter.service_name }}"}
    assert _sample("{{ cookiecutter.metrics.requests_total }}", labels) == before + 1
    count = _sample("{{ cookiecutter.metrics.request_duration }}_count", {"method": "GET", "route": "/"})
    assert count >= 1


def test_unknown_paths_share_one_label() -> None:
    client = TestClient(create_app())
    client.get("/no/such/path")
    labels = {"method": "GET", "route": "unmatched", "code": "404"}
    assert _sample("{{ cookiecutter.metrics.requests_total }}", labels) >= 1


def test_metrics_endpoint_exports_the_contract() -> None:
    TestClient(create_app()).get("/")
    server, thread = start_http_server(0, addr="127.0.0.1")
    try:
        port = server.server_address[1]
        body = httpx.get(f"http://127.0.0.1:{port}{{ cookiecutter.metrics.metrics_path }}").text
    finally:
        server.shutdown()
        thread.join()
    assert "{{ cookiecutter.metrics.requests_total }}{" in body
    assert "{{ cookiecutter.metrics.request_duration }}_bucket{" in body
