"""Service level objectives as error budgets and multi-window, multi-burn-rate alerts.

The windows and burn-rate factors (:mod:`goldenpath.spec.objectives`, which also bounds
the objectives a spec may declare) are the ones of the Google SRE workbook ("Alerting on
SLOs", table 5-8) for a 30-day SLO period. Thresholds are ``factor * (1 - objective)``,
computed in Decimal so 99.9 gives exactly 0.0144, never 0.014400000000000001.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from goldenpath.render.observability import promql
from goldenpath.spec.models import ServiceSpec
from goldenpath.spec.objectives import (
    PAGE,
    POLICIES,
    TICKET,
    BurnPolicy,
    BurnWindow,
    burn_threshold,
    error_budget,
)

__all__ = [
    "LATENCY_OBJECTIVE", "PAGE", "PERIOD", "POLICIES", "RECORD_PREFIX", "SLO", "TICKET",
    "WINDOWS", "BurnPolicy", "BurnWindow", "burn_threshold", "error_budget", "number", "slos",
]

#: Every window an SLI is recorded over: the union of the alerts' long and short windows.
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
#: The SLO period that error budgets refer to.
PERIOD = "30d"
#: A latency objective ``latencyP99Ms`` means 99 % of requests are faster than it.
LATENCY_OBJECTIVE = Decimal(99)
#: Recorded SLI series: ``<RECORD_PREFIX><window>``, labelled with ``slo``.
RECORD_PREFIX = "goldenpath:slo_errors_per_request:ratio_rate"


def number(value: Decimal) -> str:
    """A Decimal as a plain PromQL number literal (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class SLO:
    """One objective of one service: its kind, target in percent and SLI expression."""

    kind: str
    objective: Decimal
    latency_ms: int | None = None

    @property
    def budget(self) -> Decimal:
        return error_budget(self.objective)

    def error_ratio(self, namespace: str, job: str, window: str) -> str:
        """The SLI as an error ratio over ``window``, read from the raw series."""
        if self.latency_ms is None:
            return promql.availability_error_ratio(namespace, job, window)
        return promql.latency_error_ratio(namespace, job, window, self.latency_ms)

    def recorded(self, namespace: str, job: str, window: str) -> str:
        """The recorded SLI series of ``window``."""
        matchers = (*promql.service_matchers(namespace, job), ("slo", "=", self.kind))
        return promql.selector(f"{RECORD_PREFIX}{window}", *matchers)


def slos(service: ServiceSpec) -> list[SLO]:
    """The objectives a service declares (none, availability, latency or both)."""
    out: list[SLO] = []
    if service.slo is not None and service.slo.availability is not None:
        out.append(SLO("availability", Decimal(service.slo.availability)))
    if service.slo is not None and service.slo.latency_p99_ms is not None:
        out.append(SLO("latency", LATENCY_OBJECTIVE, service.slo.latency_p99_ms))
    return out
