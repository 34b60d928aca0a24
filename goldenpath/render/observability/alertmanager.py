"""The AlertmanagerConfig of one team namespace: where the team's alerts go.

Pages go to PagerDuty and tickets to Slack; a team with only one of them gets everything
there, so no alert is dropped. ``alerting.pagerduty.environments`` limits PagerDuty to
the environments that may wake someone (say, prod); elsewhere pages go to Slack.
Receivers hold references to Secrets in the team's own namespace, never a webhook URL
or routing key. The Prometheus Operator adds a ``namespace`` matcher to the route, which
is why every alert carries that label. A team without receivers gets no config: its
alerts reach the Alertmanager's default route, which drops them on a stock
kube-prometheus-stack; so the spec refuses a team whose SLOs page in an environment where
it has no receiver (``goldenpath.spec.crossref.receives_pages`` mirrors the choice below).
"""

from __future__ import annotations

from typing import Any

from goldenpath.render.meta import k8s_object, metadata
from goldenpath.render.observability.scope import Scope
from goldenpath.spec.models import AlertingSpec, SecretRef

API = "monitoring.coreos.com/v1alpha1"
NAME = "goldenpath-alerting"
GROUP_BY = ["alertname", "namespace", "service", "severity"]
#: PagerDuty urgency follows our severity: pages are critical, anything else a warning.
PAGERDUTY_SEVERITY = '{{ if eq .CommonLabels.severity "page" }}critical{{ else }}warning{{ end }}'
SLACK_TITLE = ("[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} "
               "({{ .CommonLabels.namespace }})")
SLACK_TEXT = ("{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\n"
              "Runbook: {{ .Annotations.runbook_url }}\n{{ end }}")


def alertmanager_config(scope: Scope) -> dict[str, Any] | None:
    alerting = scope.team.spec.alerting
    receivers = _receivers(alerting, scope.env)
    if not receivers:
        return None
    names = [r["name"] for r in receivers]
    tickets, pages = names[0], names[-1]  # slack first, pagerduty last when both exist
    route: dict[str, Any] = {"receiver": tickets, "groupBy": GROUP_BY, "groupWait": "30s",
                             "groupInterval": "5m", "repeatInterval": "4h"}
    if pages != tickets:
        route["routes"] = [{"receiver": pages, "matchers": [_equals("severity", "page")],
                            "repeatInterval": "1h"}]
    body = {"route": route, "receivers": receivers, "inhibitRules": [_page_silences_ticket()]}
    labels = {**scope.labels(), **scope.observability.alertmanager_config_labels}
    return k8s_object(API, "AlertmanagerConfig", metadata(NAME, scope.namespace, labels),
                      spec=body)


def _receivers(alerting: AlertingSpec, env: str) -> list[dict[str, Any]]:
    receivers = []
    if alerting.slack is not None:
        slack = {"apiURL": _secret(alerting.slack.secret_ref), "channel": alerting.slack.channel,
                 "sendResolved": True, "title": SLACK_TITLE, "text": SLACK_TEXT}
        receivers.append({"name": "slack", "slackConfigs": [slack]})
    pagerduty = alerting.pagerduty
    if pagerduty is not None and env in (pagerduty.environments or [env]):
        pager = {"routingKey": _secret(pagerduty.secret_ref), "sendResolved": True,
                 "severity": PAGERDUTY_SEVERITY}
        receivers.append({"name": "pagerduty", "pagerdutyConfigs": [pager]})
    return receivers


def _secret(ref: SecretRef) -> dict[str, str]:
    """A SecretKeySelector: the Secret lives in the team's namespace, next to this config."""
    return {"name": ref.name, "key": ref.key}


def _equals(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value, "matchType": "="}


def _page_silences_ticket() -> dict[str, Any]:
    """While a burn-rate page fires, its ticket for the same SLO is noise."""
    return {"sourceMatch": [_equals("severity", "page")],
            "targetMatch": [_equals("severity", "ticket")],
            "equal": ["alertname", "namespace", "service"]}
