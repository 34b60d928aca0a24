"""The rendered rules as Prometheus itself reads them: ``promtool check rules`` on every
PrometheusRule of the example platform, and ``promtool test rules`` on synthetic series
to show what the SLO alerts do with probe traffic.

promtool comes from Debian's ``prometheus`` package (``apt-get install prometheus``;
``.ci/run`` installs it). Without it these tests are skipped, saying so, except where
``GOLDENPATH_REQUIRE_TOOLS`` is set (``.ci/run`` sets it): there a missing promtool fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from goldenpath.render import Resource, metrics, render
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.render.observability.helpers import alerts

PROMTOOL = shutil.which("promtool")
pytestmark = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("GOLDENPATH_REQUIRE_TOOLS"),
    reason="promtool not found: install Debian's 'prometheus' package")

NS, JOB, TEAM = "payments-prod", "ledger", "payments"
PROBE, USER = metrics.PROBE_ROUTES[0], "/ledger/{account}"


def _promtool(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def _rule_file(directory: Path, resource: Resource) -> Path:
    """A PrometheusRule's groups as a Prometheus rule file (what the Operator writes)."""
    path = directory / f"{resource.namespace}-{resource.name}.yaml"
    path.write_text(yaml.safe_dump({"groups": resource.body["spec"]["groups"]}))
    return path


def test_promtool_accepts_every_rendered_rule_group(example_spec: PlatformSpec,
                                                    tmp_path: Path) -> None:
    files = [_rule_file(tmp_path, r) for r in render(example_spec).of_kind("PrometheusRule")]
    assert files
    done = _promtool("check", "rules", *files, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(files)


def _series(name: str, route: str, per_minute: int, **labels: str) -> dict[str, str]:
    inner = ",".join(f'{k}="{v}"' for k, v in
                     {"namespace": NS, "job": JOB, "route": route, **labels}.items())
    return {"series": f"{name}{{{inner}}}", "values": f"0+{per_minute}x90"}


def _firing(alert: str, severity: str) -> dict[str, Any]:
    labels = {"alertname": alert, "alertstate": "firing", "job": JOB, "namespace": NS,
              "service": JOB, "severity": severity, "slo": alert.removesuffix(
                  "ErrorBudgetBurn").lower(), "team": TEAM}
    return {"labels": "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}",
            "value": 1}


def _page(alert: str, series: list[dict[str, str]], fires: bool) -> dict[str, Any]:
    expr = f'ALERTS{{alertname="{alert}",alertstate="firing",severity="page"}}'
    return {"interval": "1m", "input_series": series, "promql_expr_test": [
        {"expr": expr, "eval_time": "60m",
         "exp_samples": [_firing(alert, "page")] if fires else []}]}


def test_probes_do_not_hide_failing_users(example_spec: PlatformSpec, tmp_path: Path) -> None:
    """ledger gets 100 probe requests a minute, all fast and good, and one real request a
    minute. When every real request fails (or is slow), both SLOs page; counted with the
    probes, the error ratio would be 1 % and nothing would fire. When users are served
    well, nothing fires."""
    [rule] = [r for r in render(example_spec).of_kind("PrometheusRule")
              if (r.namespace, r.name) == (NS, JOB)]
    rule_file = _rule_file(tmp_path, rule)
    requests, duration = metrics.HTTP_REQUESTS_TOTAL, metrics.HTTP_REQUEST_DURATION
    le = metrics.le_value(300)  # ledger's latencyP99Ms

    def traffic(user_code: str, user_fast: int) -> list[dict[str, str]]:
        return [_series(requests, PROBE, 100, code="200"),
                _series(f"{duration}_bucket", PROBE, 100, le=le),
                _series(f"{duration}_count", PROBE, 100),
                _series(requests, USER, 1, code=user_code),
                _series(f"{duration}_bucket", USER, user_fast, le=le),
                _series(f"{duration}_count", USER, 1)]

    tests = [_page("AvailabilityErrorBudgetBurn", traffic("500", 1), fires=True),
             _page("LatencyErrorBudgetBurn", traffic("200", 0), fires=True),
             _page("AvailabilityErrorBudgetBurn", traffic("200", 1), fires=False),
             _page("LatencyErrorBudgetBurn", traffic("200", 1), fires=False)]
    unit = tmp_path / "probes_test.yaml"
    unit.write_text(yaml.safe_dump({"rule_files": [rule_file.name],
                                    "evaluation_interval": "1m", "tests": tests}))
    done = _promtool("test", "rules", unit, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def _ksm(name: str, values: str, **labels: str) -> dict[str, str]:
    """A kube-state-metrics series of ledger's pod (``values`` in promtool notation)."""
    inner = ",".join(f'{k}="{v}"' for k, v in
                     {"namespace": NS, "pod": "ledger-7d9f-abcde", **labels}.items())
    return {"series": f"{name}{{{inner}}}", "values": values}


def _crash_loop_test(waiting: str, fires: bool) -> dict[str, Any]:
    """``waiting``: the CrashLoopBackOff series, one sample a minute for 60 minutes."""
    pod_labels = _ksm(metrics.KUBE_POD_LABELS, "1x60",
                      **{metrics.kube_label("app.kubernetes.io/name"): JOB})
    series = [_ksm(metrics.KUBE_POD_WAITING_REASON, waiting, container="app",
                   reason="CrashLoopBackOff"), pod_labels]
    expr = 'ALERTS{alertname="ServiceCrashLooping",alertstate="firing"}'
    firing = {"alertname": "ServiceCrashLooping", "alertstate": "firing", "container": "app",
              "namespace": NS, "pod": "ledger-7d9f-abcde", "reason": "CrashLoopBackOff",
              "service": JOB, "severity": "ticket", "team": TEAM}
    labels = "ALERTS{" + ",".join(f'{k}="{v}"' for k, v in sorted(firing.items())) + "}"
    return {"interval": "1m", "input_series": series, "promql_expr_test": [
        {"expr": expr, "eval_time": "55m",
         "exp_samples": [{"labels": labels, "value": 1}] if fires else []}]}


def test_a_crash_loop_with_brief_runs_between_back_offs_fires(example_spec: PlatformSpec,
                                                              tmp_path: Path) -> None:
    """kube-state-metrics exports the CrashLoopBackOff series only while the container
    waits: each brief run between back-offs (here one scrape in five) drops the series,
    and Prometheus marks it stale. The alert must still fire after 15 minutes of that
    (the upstream kubernetes-mixin smooths over 5 minutes for this reason), and must not
    fire for a pod that crashed twice and then kept running."""
    [rule] = [r for r in render(example_spec).of_kind("PrometheusRule")
              if (r.namespace, r.name) == (NS, JOB)]
    rule_file = _rule_file(tmp_path, rule)
    loop = " ".join(["1 1 1 1 stale"] * 12)  # 4 minutes backing off, then a brief run
    recovered = "1 1 stale " + " ".join(["_"] * 57)
    tests = [_crash_loop_test(loop, fires=True), _crash_loop_test(recovered, fires=False)]
    unit = tmp_path / "crashloop_test.yaml"
    unit.write_text(yaml.safe_dump({"rule_files": [rule_file.name],
                                    "evaluation_interval": "1m", "tests": tests}))
    done = _promtool("test", "rules", unit, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_full_outage_pages_at_the_lowest_objective_the_spec_accepts(tmp_path: Path) -> None:
    """At 93.0556 % (just above the limit of 100 x (1 - 1/14.4)) every clause of the page
    can still fire: a total outage pages, where at 93.05 % the 1h clause never could."""
    ledger = {"name": JOB, "template": "python-service", "slo": {"availability": "93.0556"}}
    spec = load_platform(write_platform(tmp_path / "platform", platform_doc(),
                                        [team_doc(TEAM, services=[ledger])]))
    [rule] = [r for r in render(spec).of_kind("PrometheusRule")
              if (r.namespace, r.name) == (NS, JOB)]
    rule_file = _rule_file(tmp_path, rule)
    outage = [_series(metrics.HTTP_REQUESTS_TOTAL, USER, 10, code="500")]
    [page] = [a for a in alerts(rule) if a["alert"] == "AvailabilityErrorBudgetBurn"
              and a["labels"]["severity"] == "page"]
    assert "> 0.9999936" in page["expr"]  # 14.4 x 0.069444
    unit = tmp_path / "floor_test.yaml"
    unit.write_text(yaml.safe_dump({"rule_files": [rule_file.name], "evaluation_interval": "1m",
                                    "tests": [_page("AvailabilityErrorBudgetBurn", outage,
                                                    fires=True)]}))
    done = _promtool("test", "rules", unit, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
