"""The ServiceMonitor of one service in one environment.

It selects the service's Service by ``app.kubernetes.io/name`` in the team's namespace
only, scrapes the *named* port of the metrics contract (the Prometheus Operator matches
endpoints by port name), names the job after the service (every rule and dashboard
selects ``job="<service>"``) and copies the team label of the Service onto every series.
"""

from __future__ import annotations

from typing import Any

from goldenpath.render import metrics
from goldenpath.render.meta import LABEL_APP_NAME, LABEL_TEAM, k8s_object, metadata
from goldenpath.render.observability.scope import Scope

API = "monitoring.coreos.com/v1"
SCRAPE_INTERVAL = "30s"


def service_monitor(scope: Scope) -> dict[str, Any]:
    service = scope.service_name
    labels = {**scope.labels(), **scope.observability.service_monitor_labels}
    endpoint = {"port": metrics.METRICS_PORT_NAME, "path": metrics.METRICS_PATH,
                "interval": SCRAPE_INTERVAL, "scheme": "http"}
    body = {
        "selector": {"matchLabels": {LABEL_APP_NAME: service}},
        "namespaceSelector": {"matchNames": [scope.namespace]},
        "jobLabel": LABEL_APP_NAME,
        "targetLabels": [LABEL_TEAM],
        "endpoints": [endpoint],
    }
    return k8s_object(API, "ServiceMonitor", metadata(service, scope.namespace, labels),
                      spec=body)
