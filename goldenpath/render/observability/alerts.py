"""Alerting rules for one service: SLO burn-rate alerts and the baseline every service gets.

Every alert carries ``severity``, ``team``, ``namespace`` and ``service`` labels (the
Alertmanager routes per namespace and per severity on them) and ``summary``,
``description`` and ``runbook_url`` annotations. Only SLO burn alerts page: symptoms
wake people, causes (a crash loop, a target down) open tickets.
"""

from __future__ import annotations

from typing import Any

from goldenpath.render import metrics
from goldenpath.render.meta import LABEL_APP_NAME
from goldenpath.render.observability import promql
from goldenpath.render.observability.scope import Scope
from goldenpath.render.observability.slo import POLICIES, SLO, BurnPolicy, burn_threshold, number

#: A service answering more than this share of requests with 5xx opens a ticket.
HIGH_ERROR_RATIO = "0.05"
#: The window a crash loop's waiting series is smoothed over: the kubelet's longest
#: back-off, so a container that runs briefly between back-offs still counts as looping.
CRASH_LOOP_SMOOTHING = "5m"


def alert(scope: Scope, name: str, expr: str, *, severity: str, summary: str,
          description: str, duration: str | None = None) -> dict[str, Any]:
    """One alerting rule with the labels and annotations every alert must have."""
    labels = {"severity": severity, "team": scope.team.name,
              "namespace": scope.namespace, "service": scope.service_name}
    annotations = {"summary": summary, "description": description,
                   "runbook_url": f"{scope.observability.runbook_base_url}/{name}"}
    rule: dict[str, Any] = {"alert": name, "expr": expr, "labels": labels,
                            "annotations": annotations}
    if duration is not None:
        rule["for"] = duration
    return rule


def burn_alerts(scope: Scope, slo: SLO) -> list[dict[str, Any]]:
    """The page and ticket alerts of one SLO (same alertname, told apart by severity,
    so the Alertmanager can inhibit the ticket while the page fires)."""
    return [burn_alert(scope, slo, policy) for policy in POLICIES]


def burn_alert(scope: Scope, slo: SLO, policy: BurnPolicy) -> dict[str, Any]:
    ns, job = scope.namespace, scope.service_name
    clauses = []
    for window in policy.windows:
        threshold = number(burn_threshold(slo.objective, window.factor))
        clauses.append(f"(\n  {slo.recorded(ns, job, window.long)} > {threshold}\nand\n"
                       f"  {slo.recorded(ns, job, window.short)} > {threshold}\n)")
    name = f"{slo.kind.title()}ErrorBudgetBurn"
    objective = number(slo.objective)
    summary = f"{job} in {ns} is burning its {slo.kind} error budget too fast"
    description = (f"The {slo.kind} SLO of {job} ({objective} % over 30 days) is at risk: "
                   "the error ratio is {{ $value | humanizePercentage }}, "
                   f"{policy.severity} threshold crossed on both its long and short window.")
    return alert(scope, name, "\nor\n".join(clauses), severity=policy.severity,
                 summary=summary, description=description)


def baseline_alerts(scope: Scope) -> list[dict[str, Any]]:
    """Alerts every service gets, with or without an SLO."""
    return [crash_looping(scope), high_error_ratio(scope), target_down(scope),
            replicas_unavailable(scope)]


def _by_app_label(info_metric: str, scope: Scope) -> str:
    """A kube-state-metrics ``*_labels`` series of the service's objects (the label is
    allow-listed in the kube-prometheus-stack values)."""
    return promql.selector(info_metric, ("namespace", "=", scope.namespace),
                           (metrics.kube_label(LABEL_APP_NAME), "=", scope.service_name))


def crash_looping(scope: Scope) -> dict[str, Any]:
    """kube-state-metrics exports the waiting reason only while the container waits, so
    every brief run between back-offs drops the series (and Prometheus marks it stale):
    read raw, a real crash loop would reset the ``for`` each cycle and never fire. The
    maximum over :data:`CRASH_LOOP_SMOOTHING` (the back-off caps at 5 minutes) bridges
    those runs, as the upstream kubernetes-mixin's KubePodCrashLooping does."""
    waiting = promql.selector(metrics.KUBE_POD_WAITING_REASON,
                              ("namespace", "=", scope.namespace),
                              ("reason", "=", "CrashLoopBackOff"))
    expr = (f"max_over_time({waiting}[{CRASH_LOOP_SMOOTHING}]) >= 1\n"
            f"and on (namespace, pod)\n{_by_app_label(metrics.KUBE_POD_LABELS, scope)}")
    return alert(scope, "ServiceCrashLooping", expr, severity="ticket", duration="15m",
                 summary=f"A pod of {scope.service_name} in {scope.namespace} is crash-looping",
                 description="Pod {{ $labels.pod }} (container {{ $labels.container }}) has "
                 "been in CrashLoopBackOff for 15 minutes.")


def high_error_ratio(scope: Scope) -> dict[str, Any]:
    ratio = promql.availability_error_ratio(scope.namespace, scope.service_name, "5m")
    return alert(scope, "ServiceHighErrorRatio", f"(\n{ratio}\n) > {HIGH_ERROR_RATIO}",
                 severity="ticket", duration="10m",
                 summary=f"{scope.service_name} in {scope.namespace} answers many requests "
                 "with 5xx", description="{{ $value | humanizePercentage }} of requests "
                 "failed with a server error over the last 5 minutes.")


def target_down(scope: Scope) -> dict[str, Any]:
    up = promql.selector(metrics.UP, *promql.service_matchers(scope.namespace,
                                                                scope.service_name))
    return alert(scope, "ServiceTargetDown", f"{up} == 0", severity="ticket", duration="5m",
                 summary=f"Prometheus cannot scrape {scope.service_name} in {scope.namespace}",
                 description="Target {{ $labels.instance }} has failed its scrapes of port "
                 f"{metrics.METRICS_PORT_NAME} at {metrics.METRICS_PATH} for 5 minutes.")


def replicas_unavailable(scope: Scope) -> dict[str, Any]:
    unavailable = promql.selector(metrics.KUBE_DEPLOYMENT_UNAVAILABLE,
                                  ("namespace", "=", scope.namespace))
    expr = (f"{unavailable} > 0\nand on (namespace, deployment)\n"
            f"{_by_app_label(metrics.KUBE_DEPLOYMENT_LABELS, scope)}")
    return alert(scope, "ServiceReplicasUnavailable", expr, severity="ticket", duration="15m",
                 summary=f"{scope.service_name} in {scope.namespace} runs below its desired "
                 "replicas", description="Deployment {{ $labels.deployment }} has had "
                 "{{ $value }} unavailable replicas for 15 minutes.")
