"""Burn-rate thresholds follow the Google SRE workbook's multiwindow, multi-burn-rate table."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client.utils import floatToGoString

from goldenpath.render import metrics, render
from goldenpath.render.observability import slo
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.render.observability.helpers import alerts, rules, selectors

# The workbook's table (SRE workbook, "Alerting on SLOs", 30-day period):
# severity, long window, short window, burn-rate factor.
WORKBOOK = [
    ("page", "1h", "5m", Decimal("14.4")),
    ("page", "6h", "30m", Decimal(6)),
    ("ticket", "1d", "2h", Decimal(3)),
    ("ticket", "3d", "6h", Decimal(1)),
]
#: objective -> threshold of each row above, worked out by hand: factor x (1 - objective)
EXPECTED = {
    "99": ["0.144", "0.06", "0.03", "0.01"],
    "99.5": ["0.072", "0.03", "0.015", "0.005"],
    "99.9": ["0.0144", "0.006", "0.003", "0.001"],
    "99.95": ["0.0072", "0.003", "0.0015", "0.0005"],
}


def test_policies_are_the_workbook_table() -> None:
    table = [(p.severity, w.long, w.short, w.factor) for p in slo.POLICIES for w in p.windows]
    assert table == WORKBOOK
    assert set(slo.WINDOWS) == {w for _, long, short, _ in WORKBOOK for w in (long, short)}


@pytest.mark.parametrize("objective", sorted(EXPECTED))
def test_thresholds_equal_the_workbook_formula(objective: str) -> None:
    got = [slo.number(slo.burn_threshold(objective, factor)) for *_, factor in WORKBOOK]
    assert got == EXPECTED[objective]
    for (*_, factor), threshold in zip(WORKBOOK, got, strict=True):
        assert Decimal(threshold) == factor * (1 - Decimal(objective) / 100)


@pytest.mark.parametrize("objective", sorted(EXPECTED))
def test_rendered_alerts_fire_on_both_windows_above_the_threshold(
    objective: str, tmp_path: Path
) -> None:
    service = {"name": "api", "template": "python-service", "slo": {"availability": objective}}
    spec = load_platform(write_platform(tmp_path, platform_doc(),
                                        [team_doc("shop", services=[service])]))
    rule = next(r for r in render(spec).of_kind("PrometheusRule") if r.namespace == "shop-prod")
    burn = {a["labels"]["severity"]: a for a in alerts(rule) if a["alert"].endswith("Burn")}
    for row, threshold in zip(WORKBOOK, EXPECTED[objective], strict=True):
        severity, long, short, _ = row
        expr = burn[severity]["expr"]
        for window in (long, short):
            series = f"{slo.RECORD_PREFIX}{window}"
            assert f'{series}{{namespace="shop-prod",job="api",slo="availability"}} > {threshold}' \
                in expr, (row, expr)


def test_every_alert_window_is_recorded(example_spec: PlatformSpec) -> None:
    rule = next(r for r in render(example_spec).of_kind("PrometheusRule") if r.name == "ledger")
    recorded = {(x["record"], x["labels"]["slo"]) for x in rules(rule) if "record" in x}
    for alert in alerts(rule):
        for metric, matchers in selectors(alert["expr"]):
            if metric.startswith(slo.RECORD_PREFIX):
                assert (metric, matchers["slo"][1]) in recorded


def test_latency_sli_reads_the_bucket_the_template_adds() -> None:
    for latency_ms in (150, 250, 300, 1000, 2500):
        assert float(metrics.le_value(latency_ms)) in metrics.buckets_for(latency_ms)
        # the Python client writes le as repr(float): 0.3, 1.0
        assert metrics.le_value(latency_ms) == repr(metrics.latency_bucket(latency_ms))


def test_latency_objective_is_p99() -> None:
    assert slo.error_budget(slo.LATENCY_OBJECTIVE) == Decimal("0.01")


@pytest.mark.parametrize("latency_ms", [
    1, 7, 150, 300, 999, 1000, 1001, 2500, 123456, 999_999_999,
    # from 10^6 s on, the client (like Go's strconv) writes an exponent: le="1e+06"
    1_000_000_000, 1_500_000_000, 1_234_567_000, 9_990_000_000, 99_000_000_000,
    123_456_789_000, 999_999_999_999,
])
def test_latency_sli_reads_le_as_the_client_library_writes_it(latency_ms: int) -> None:
    """A threshold whose le text differs from the exported one is a bucket no service
    exports: the SLI would be empty and the SLO would never fire."""
    assert metrics.le_value(latency_ms) == floatToGoString(metrics.latency_bucket(latency_ms))
