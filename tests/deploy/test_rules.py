"""goldenpath's alerts on itself (``deploy/base/prometheusrule.yaml``), as Prometheus reads
them: every series they select is one ``api/metrics.py`` exports, with the labels it
exports; ``promtool check rules`` accepts them; ``promtool test rules`` shows on synthetic
series that each alert fires when it should and not when it should not.

promtool comes from Debian's ``prometheus`` package; without it these tests are skipped,
saying so, except where ``GOLDENPATH_REQUIRE_TOOLS`` is set (``.ci/run`` sets it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import Metrics
from goldenpath.settings import Settings
from goldenpath.spec import load_platform
from goldenpath.store import open_store
from tests.deploy.conftest import Objects, one
from tests.factories import EXAMPLE_PLATFORM
from tests.render.observability.helpers import selectors

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("GOLDENPATH_REQUIRE_TOOLS"),
    reason="promtool not found: install Debian's 'prometheus' package")
#: labels Prometheus adds to every scraped series (the ServiceMonitor's target labels)
TARGET_LABELS = {"job", "namespace", "instance", "pod", "service", "endpoint", "container"}
SCRAPE = 'job="goldenpath",namespace="goldenpath"'


def _rules(built: dict[str, Objects]) -> list[dict[str, Any]]:
    rule = one(built["production"], "PrometheusRule")
    assert rule["spec"] == one(built["embedded"], "PrometheusRule")["spec"]
    return [r for group in rule["spec"]["groups"] for r in group["rules"]]


def _exported(tmp_path: Path) -> dict[str, set[str]]:
    """Sample name -> its label names, from a real /metrics of an app with a store."""
    metrics = Metrics()
    store = open_store(Settings(state_dir=tmp_path))
    try:
        metrics.watch(store)
        metrics.http.labels("GET", "/v1/teams", "200").observe(0.01)
        metrics.observe_work("team.update", "failed", 0.5)
        text = generate_latest(metrics.registry).decode()
    finally:
        store.close()
    return {sample.name: set(sample.labels) for family in text_string_to_metric_families(text)
            for sample in family.samples}


def test_rules_select_only_exported_series(built: dict[str, Objects], tmp_path: Path) -> None:
    exported = _exported(tmp_path)
    alerts = _rules(built)
    assert {r["alert"] for r in alerts} == {
        "GoldenpathDown", "GoldenpathHighErrorRatio", "GoldenpathQueueBacklog",
        "GoldenpathQueueStalled", "GoldenpathAppliesFailing"}
    for rule in alerts:
        for name, matchers in selectors(rule["expr"]):
            assert matchers["job"] == ("Equal", "goldenpath"), rule["alert"]
            if name == "up":
                continue
            assert name in exported, f"{rule['alert']}: {name} is not exported"
            assert set(matchers) - TARGET_LABELS <= exported[name], rule["alert"]


def test_the_platforms_prometheus_selects_them(built: dict[str, Objects]) -> None:
    """The example platform's stack values select monitors and rules by label; goldenpath's
    own carry those labels, and its alerts link runbooks as the platform's do."""
    observability = load_platform(EXAMPLE_PLATFORM).platform.spec.observability
    monitor = one(built["production"], "ServiceMonitor")["metadata"]["labels"]
    rule = one(built["production"], "PrometheusRule")
    assert observability.service_monitor_labels.items() <= monitor.items()
    assert observability.rule_labels.items() <= rule["metadata"]["labels"].items()
    for alert in _rules(built):
        assert alert["annotations"]["runbook_url"] == (
            f"{observability.runbook_base_url}/{alert['alert']}")


def _promtool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool not found: install Debian's 'prometheus' package"
    return subprocess.run([PROMTOOL, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def _rule_file(built: dict[str, Objects], directory: Path) -> Path:
    rule = one(built["production"], "PrometheusRule")
    path = directory / "goldenpath.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


@needs_promtool
def test_promtool_accepts_the_rules(built: dict[str, Objects], tmp_path: Path) -> None:
    done = _promtool("check", "rules", _rule_file(built, tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 5 rules found" in done.stdout


def _http(route: str, status: str, per_minute: int) -> dict[str, str]:
    labels = f'{SCRAPE},method="GET",route="{route}",status="{status}"'
    return {"series": f"goldenpath_http_request_duration_seconds_count{{{labels}}}",
            "values": f"0+{per_minute}x60"}


def _work(kind: str, outcome: str, per_minute: int) -> dict[str, str]:
    labels = f'{SCRAPE},kind="{kind}",outcome="{outcome}"'
    return {"series": f"goldenpath_request_duration_seconds_count{{{labels}}}",
            "values": f"0+{per_minute}x60"}


def _gauge(name: str, pod: str, values: str) -> dict[str, str]:
    return {"series": f'{name}{{{SCRAPE},pod="{pod}"}}', "values": values}


def _firing(alert: str, severity: str, **labels: str) -> dict[str, Any]:
    every = {"alertname": alert, "alertstate": "firing", "severity": severity, **labels}
    return {"labels": "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(every.items()))
            + "}", "value": 1}


def _case(alert: str, series: list[dict[str, str]], at: str,
          firing: list[dict[str, Any]]) -> dict[str, Any]:
    return {"interval": "1m", "input_series": series, "promql_expr_test": [
        {"expr": f'ALERTS{{alertname="{alert}",alertstate="firing"}}', "eval_time": at,
         "exp_samples": firing}]}


PROBES = [_http("/v1/readyz", "200", 600), _http("/v1/healthz", "200", 600),
          _http("/v1/metrics", "200", 120)]
ERRORS = "GoldenpathHighErrorRatio"
CASES = [
    # one user request in ten fails, under 1,320 good probe and scrape requests a minute
    _case(ERRORS, [*PROBES, _http("/v1/teams", "200", 90), _http("/v1/teams", "503", 10)],
          "30m", [_firing(ERRORS, "page")]),
    # one in a hundred: within the 5% the alert tolerates
    _case(ERRORS, [*PROBES, _http("/v1/teams", "200", 99), _http("/v1/teams", "503", 1)],
          "30m", []),
    # only the probes fail (the database is down: /readyz says so); users are fine
    _case(ERRORS, [_http("/v1/readyz", "503", 600), _http("/v1/teams", "200", 50)],
          "30m", []),
    # the queue is read from the shared database: 3 replicas report the same age once
    _case("GoldenpathQueueStalled",
          [_gauge("goldenpath_queue_oldest_age_seconds", f"goldenpath-{n}", "0+60x30")
           for n in range(3)], "20m", [_firing("GoldenpathQueueStalled", "page")]),
    _case("GoldenpathQueueStalled",
          [_gauge("goldenpath_queue_oldest_age_seconds", "goldenpath-0", "30x30")],
          "20m", []),
    _case("GoldenpathQueueBacklog",
          [_gauge("goldenpath_queue_depth", f"goldenpath-{n}", "150x30") for n in range(3)],
          "20m", [_firing("GoldenpathQueueBacklog", "warning")]),
    # every team.update fails; one service.create in six does: only the first alerts
    _case("GoldenpathAppliesFailing",
          [_work("team.update", "failed", 1), _work("team.update", "succeeded", 0),
           _work("service.create", "failed", 1), _work("service.create", "succeeded", 5)],
          "40m", [_firing("GoldenpathAppliesFailing", "warning", kind="team.update")]),
    _case("GoldenpathDown", [{"series": f"up{{{SCRAPE},pod=\"goldenpath-0\"}}",
                              "values": "0x20"}], "10m", [_firing("GoldenpathDown", "page")]),
    _case("GoldenpathDown", [{"series": f"up{{{SCRAPE},pod=\"goldenpath-0\"}}",
                              "values": "0x20"}, {"series": f"up{{{SCRAPE},pod=\"goldenpath-1\"}}",
                                                  "values": "1x20"}], "10m", []),
]


@needs_promtool
def test_each_alert_fires_when_it_should(built: dict[str, Objects], tmp_path: Path) -> None:
    rules = _rule_file(built, tmp_path)
    tests = tmp_path / "tests.yaml"
    tests.write_text(yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m",
                                     "tests": CASES}))
    done = _promtool("test", "rules", tests, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
