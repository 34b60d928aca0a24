"""The PrometheusRule of one service in one environment: SLI recording rules, SLO
burn-rate alerts and baseline alerts, picked up by the Prometheus the platform's
``ruleLabels`` select."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.render.meta import k8s_object, metadata
from goldenpath.render.observability.alerts import baseline_alerts, burn_alerts
from goldenpath.render.observability.scope import Scope
from goldenpath.render.observability.slo import RECORD_PREFIX, SLO, WINDOWS, slos

API = "monitoring.coreos.com/v1"


def prometheus_rule(scope: Scope) -> dict[str, Any]:
    job = scope.service_name
    groups = [*slo_groups(scope), {"name": f"{job}-baseline", "rules": baseline_alerts(scope)}]
    labels = {**scope.labels(), **scope.observability.rule_labels}
    return k8s_object(API, "PrometheusRule", metadata(job, scope.namespace, labels),
                      spec={"groups": groups})


def slo_groups(scope: Scope) -> Iterator[dict[str, Any]]:
    """Per objective: its recorded SLI, then the alerts that read it."""
    for slo in slos(scope.service_spec):
        yield recording_group(scope, slo)
        yield {"name": f"{scope.service_name}-{slo.kind}-slo-alerts",
               "rules": burn_alerts(scope, slo)}


def recording_group(scope: Scope, slo: SLO) -> dict[str, Any]:
    """The SLI error ratio over every window the burn-rate alerts read."""
    ns, job = scope.namespace, scope.service_name
    rules = [{"record": f"{RECORD_PREFIX}{window}", "expr": slo.error_ratio(ns, job, window),
              "labels": {"slo": slo.kind}} for window in WINDOWS]
    return {"name": f"{job}-{slo.kind}-sli", "rules": rules}
