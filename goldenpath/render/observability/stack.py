"""The kube-prometheus-stack Helm values the platform needs, per cluster.

Nothing rendered elsewhere in this package is picked up unless the cluster's Prometheus,
Alertmanager and Grafana select it. :func:`values` returns those settings as a dict (the
source of truth, for a GitOps writer or a Pulumi ``helm.v3.Release``);
:func:`values_configmap` carries the same values as YAML in the Bundle, so they appear in
the control repository and on the cluster where a platform engineer can copy them.
"""

from __future__ import annotations

from typing import Any

import yaml

from goldenpath.memo import ContentMemo
from goldenpath.render.meta import (
    LABEL_APP_NAME,
    LABEL_NAMESPACE_NAME,
    MANAGED_BY,
    k8s_object,
    metadata,
)
from goldenpath.render.observability.dashboards import (
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    FOLDER_ANNOTATION,
)
from goldenpath.render.tenancy import LABEL_TENANT
from goldenpath.spec.resolve import PlatformSpec

NAME = "goldenpath-kube-prometheus-stack-values"
VALUES_KEY = "values.yaml"
#: Rule, monitor and probe kinds the platform's own namespaces are exempt from the
#: namespace enforcement for (the chart's kubelet and node rules span namespaces).
_ENFORCED_KINDS = ("prometheusrules", "servicemonitors", "podmonitors", "probes")


def values(spec: PlatformSpec, cluster: str) -> dict[str, Any]:
    """The values to merge into the cluster's kube-prometheus-stack release."""
    return {
        "prometheus": {"prometheusSpec": _prometheus(spec, cluster)},
        "alertmanager": {"alertmanagerSpec": _alertmanager(spec)},
        "grafana": {"sidecar": {"dashboards": _dashboard_sidecar(spec)}},
        # The baseline alerts join kube-state-metrics series to the service by this label.
        "kube-state-metrics": {"metricLabelsAllowlist": [
            f"pods=[{LABEL_APP_NAME}]", f"deployments=[{LABEL_APP_NAME}]"]},
    }


def _prometheus(spec: PlatformSpec, cluster: str) -> dict[str, Any]:
    obs = spec.platform.spec.observability
    exempt = sorted({*spec.platform.spec.network.monitoring_namespaces, obs.dashboards_namespace})
    limits = obs.scrape_limits
    def platform_only() -> dict[str, Any]:  # a new dict each: shared ones dump as aliases
        return {"matchExpressions": [
            {"key": LABEL_NAMESPACE_NAME, "operator": "In", "values": list(exempt)}]}

    return {
        "externalLabels": {"cluster": cluster},
        # Without these the chart only selects its own release's objects.
        "serviceMonitorSelectorNilUsesHelmValues": False,
        "serviceMonitorSelector": {"matchLabels": dict(obs.service_monitor_labels)},
        "serviceMonitorNamespaceSelector": {},
        "ruleSelectorNilUsesHelmValues": False,
        "ruleSelector": {"matchLabels": dict(obs.rule_labels)},
        "ruleNamespaceSelector": {},
        # Tenants may write their own rules; this pins every tenant rule and alert to
        # its namespace, so no team can route alerts to another team's receivers.
        "enforcedNamespaceLabel": "namespace",
        "excludedFromEnforcement": [
            {"group": "monitoring.coreos.com", "resource": kind, "namespace": ns}
            for ns in exempt for kind in _ENFORCED_KINDS],
        # A tenant's ServiceMonitor or PodMonitor selects in its own namespace only,
        # whatever its namespaceSelector says...
        "ignoreNamespaceSelectors": True,
        # ...and cannot make Prometheus read its own files (its service account token,
        # TLS keys) and send them to a target: bearerTokenFile and tlsConfig file paths
        # are refused.
        "arbitraryFSAccessThroughSMs": {"deny": True},
        # Probes and ScrapeConfigs name any address, whatever their namespace: only the
        # platform's own are selected.
        "probeNamespaceSelector": platform_only(),
        "scrapeConfigNamespaceSelector": platform_only(),
        # Bounds on every scrape, so one exporter cannot flood the shared Prometheus.
        "enforcedSampleLimit": limits.sample_limit,
        "enforcedTargetLimit": limits.target_limit,
        "enforcedLabelLimit": limits.label_limit,
        "enforcedLabelNameLengthLimit": limits.label_name_length_limit,
        "enforcedLabelValueLengthLimit": limits.label_value_length_limit,
        "enforcedKeepDroppedTargets": limits.keep_dropped_targets,
        "enforcedBodySizeLimit": limits.body_size_limit,
    }


def _alertmanager(spec: PlatformSpec) -> dict[str, Any]:
    obs = spec.platform.spec.observability
    return {
        "alertmanagerConfigSelector": {"matchLabels": dict(obs.alertmanager_config_labels)},
        # Only tenant namespaces (labelled by the tenancy renderer) may route alerts.
        "alertmanagerConfigNamespaceSelector": {"matchLabels": {LABEL_TENANT: "true"}},
        "alertmanagerConfigMatcherStrategy": {"type": "OnNamespace"},
    }


def _dashboard_sidecar(spec: PlatformSpec) -> dict[str, Any]:
    return {
        "enabled": True,
        "label": DASHBOARD_LABEL,
        "labelValue": DASHBOARD_LABEL_VALUE,
        "searchNamespace": spec.platform.spec.observability.dashboards_namespace,
        "folderAnnotation": FOLDER_ANNOTATION,
        "provider": {"foldersFromFilesStructure": True},
    }


#: values serialised before, by content (every plan renders them again; goldenpath.memo)
_DUMPED: ContentMemo[str] = ContentMemo(8 << 20, len)


def values_yaml(spec: PlatformSpec, cluster: str) -> str:
    return _DUMPED.get("", values(spec, cluster), _dump)


def _dump(found: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(found, sort_keys=True, default_flow_style=False)
    return text


def values_configmap(spec: PlatformSpec, cluster: str) -> dict[str, Any]:
    ns = spec.platform.spec.observability.dashboards_namespace
    annotations = {"goldenpath.dev/description": "kube-prometheus-stack values goldenpath "
                   "needs; merge data.values.yaml into the release's values"}
    return k8s_object("v1", "ConfigMap", metadata(NAME, ns, MANAGED_BY, annotations),
                      data={VALUES_KEY: values_yaml(spec, cluster)})
