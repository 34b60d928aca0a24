"""The labels and selectors that make discovery work hold for every service of every team,
and the kube-prometheus-stack values select exactly what goldenpath renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from goldenpath.render import Bundle, Resource, metrics, render
from goldenpath.render.meta import LABEL_APP_NAME
from goldenpath.render.observability import stack, values
from goldenpath.render.observability.dashboards import DASHBOARD_LABEL, FOLDER_ANNOTATION
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.render.observability.helpers import alerts, dashboards


def _index(bundle: Bundle, kind: str) -> dict[tuple[str | None, str | None], Resource]:
    """(namespace, service) -> the one object of ``kind`` there."""
    return {(r.namespace, r.coords.service): r for r in bundle.of_kind(kind)}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def _services(spec: PlatformSpec) -> list[tuple[str, str, str]]:
    return [(t.name, env, s.name) for t in spec.teams for env in t.spec.environments
            for s in t.spec.services]


def test_every_service_has_a_scraping_service_monitor(bundle: Bundle, spec: PlatformSpec) -> None:
    monitors = _index(bundle, "ServiceMonitor")
    wanted = spec.platform.spec.observability.service_monitor_labels
    for team, env, service in _services(spec):
        body = monitors[(f"{team}-{env}", service)].body
        assert wanted.items() <= body["metadata"]["labels"].items()
        assert body["spec"]["selector"] == {"matchLabels": {LABEL_APP_NAME: service}}
        assert body["spec"]["namespaceSelector"] == {"matchNames": [f"{team}-{env}"]}
        assert body["spec"]["targetLabels"] == ["goldenpath.dev/team"]
        (endpoint,) = body["spec"]["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == (metrics.METRICS_PORT_NAME,
                                                        metrics.METRICS_PATH)


def test_every_alert_is_labelled_and_annotated(bundle: Bundle, spec: PlatformSpec) -> None:
    rules = _index(bundle, "PrometheusRule")
    wanted = spec.platform.spec.observability.rule_labels
    base = spec.platform.spec.observability.runbook_base_url
    for team, env, service in _services(spec):
        rule = rules[(f"{team}-{env}", service)]
        assert wanted.items() <= rule.body["metadata"]["labels"].items()
        found = alerts(rule)
        assert {"ServiceCrashLooping", "ServiceHighErrorRatio", "ServiceTargetDown",
                "ServiceReplicasUnavailable"} <= {a["alert"] for a in found}
        for alert in found:
            assert alert["labels"]["namespace"] == f"{team}-{env}"
            assert alert["labels"]["team"] == team
            assert alert["labels"]["severity"] in {"page", "ticket"}
            assert alert["annotations"]["summary"] and alert["annotations"]["description"]
            assert alert["annotations"]["runbook_url"] == f"{base}/{alert['alert']}"


def test_slo_alerts_follow_the_spec(example_spec: PlatformSpec) -> None:
    rules = _index(render(example_spec), "PrometheusRule")
    names = {key: {a["alert"] for a in alerts(r)} for key, r in rules.items()}
    assert {"AvailabilityErrorBudgetBurn", "LatencyErrorBudgetBurn"} <= names[("payments-prod",
                                                                               "ledger")]
    assert "LatencyErrorBudgetBurn" not in names[("checkout-prod", "cart")]
    assert "AvailabilityErrorBudgetBurn" not in names[("checkout-prod", "pricing")]
    assert not any("Budget" in n for n in names[("payments-prod", "settlement-worker")])


def test_values_select_every_rendered_object(bundle: Bundle, spec: PlatformSpec) -> None:
    namespaces = {r.name: r.body["metadata"]["labels"] for r in bundle.of_kind("Namespace")}
    for cluster in spec.clusters:
        v = values(spec, cluster)
        prom, am = v["prometheus"]["prometheusSpec"], v["alertmanager"]["alertmanagerSpec"]
        sidecar = v["grafana"]["sidecar"]["dashboards"]
        on_cluster = bundle.for_cluster(cluster)
        for r in on_cluster.of_kind("ServiceMonitor"):
            assert _selects(prom["serviceMonitorSelector"], r.body["metadata"]["labels"])
        for r in on_cluster.of_kind("PrometheusRule"):
            assert _selects(prom["ruleSelector"], r.body["metadata"]["labels"])
        for r in on_cluster.of_kind("AlertmanagerConfig"):
            assert _selects(am["alertmanagerConfigSelector"], r.body["metadata"]["labels"])
            assert _selects(am["alertmanagerConfigNamespaceSelector"], namespaces[r.namespace])
        for r, _ in dashboards(on_cluster):
            assert r.body["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"]
            assert r.namespace == sidecar["searchNamespace"]
        assert (sidecar["label"], sidecar["folderAnnotation"]) == (DASHBOARD_LABEL,
                                                                   FOLDER_ANNOTATION)
        assert prom["externalLabels"] == {"cluster": cluster}


def test_values_configmap_carries_the_values(bundle: Bundle, spec: PlatformSpec) -> None:
    for cluster in spec.clusters:
        (cm,) = [r for r in bundle.for_cluster(cluster).of_kind("ConfigMap")
                 if r.name == stack.NAME]
        assert cm.coords.team is None
        assert yaml.safe_load(cm.body["data"][stack.VALUES_KEY]) == values(spec, cluster)


def test_kube_state_metrics_exports_the_label_the_alerts_join_on(spec: PlatformSpec) -> None:
    cluster = next(iter(spec.clusters))
    allow = values(spec, cluster)["kube-state-metrics"]["metricLabelsAllowlist"]
    assert f"pods=[{LABEL_APP_NAME}]" in allow
    assert f"deployments=[{LABEL_APP_NAME}]" in allow


def _labelled(tmp_path: Path, **observability: Any) -> dict[str, dict[str, str]]:
    """Kind -> the labels of that kind's objects, for a platform with ``observability``,
    checked to be the same on every object of the kind."""
    slack = {"slack": {"channel": "#a", "secretRef": {"name": "slack", "key": "url"}}}
    spec = load_platform(write_platform(tmp_path, platform_doc(observability=observability),
                                        [team_doc("alpha", alerting=slack)]))
    found: dict[str, dict[str, str]] = {}
    for kind in ("ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"):
        labels = [{k: v for k, v in r.body["metadata"]["labels"].items() if k == "release"}
                  for r in render(spec).of_kind(kind)]
        assert labels and all(one == labels[0] for one in labels)
        found[kind] = labels[0]
    return found


def test_rules_and_routes_follow_the_service_monitor_labels(tmp_path: Path) -> None:
    """A platform that names its Prometheus release once gets rules and routes that
    release picks up, not the kube-prometheus-stack default."""
    release = {"release": "prom-stack"}
    assert _labelled(tmp_path / "a", serviceMonitorLabels=release) == {
        "ServiceMonitor": release, "PrometheusRule": release, "AlertmanagerConfig": release}


def test_explicit_rule_and_route_labels_win(tmp_path: Path) -> None:
    found = _labelled(tmp_path / "a", serviceMonitorLabels={"release": "prom-stack"},
                      ruleLabels={"release": "rules"}, alertmanagerConfigLabels={})
    assert found == {"ServiceMonitor": {"release": "prom-stack"},
                     "PrometheusRule": {"release": "rules"}, "AlertmanagerConfig": {}}
    assert _labelled(tmp_path / "b") == {
        kind: {"release": "kube-prometheus-stack"}
        for kind in ("ServiceMonitor", "PrometheusRule", "AlertmanagerConfig")}
