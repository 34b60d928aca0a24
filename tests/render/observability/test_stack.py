"""The kube-prometheus-stack values confine what a tenant's own monitoring objects can
reach: ServiceMonitors and PodMonitors select in their own namespace only and cannot
read Prometheus's files, rules read and label only their namespace, Probes and
ScrapeConfigs are taken from the platform's namespaces only, every scrape is bounded,
and each AlertmanagerConfig routes only its namespace's alerts. The limits come from
``spec.observability.scrapeLimits``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from goldenpath.render import Bundle
from goldenpath.render.observability import stack, values
from goldenpath.render.tenancy import LABEL_TENANT
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.spec.support import issue_lines

#: The pattern of the Prometheus CRD's ByteSize (monitoring.coreos.com/v1).
_BYTE_SIZE = re.compile(r"(^0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$")


def _prometheus(spec: PlatformSpec) -> dict[str, Any]:
    cluster = next(iter(spec.clusters))
    prom: dict[str, Any] = values(spec, cluster)["prometheus"]["prometheusSpec"]
    return prom


def test_tenant_monitors_are_confined_to_their_namespace(spec: PlatformSpec) -> None:
    prom = _prometheus(spec)
    assert prom["ignoreNamespaceSelectors"] is True
    assert prom["arbitraryFSAccessThroughSMs"] == {"deny": True}
    assert prom["enforcedNamespaceLabel"] == "namespace"
    am = values(spec, next(iter(spec.clusters)))["alertmanager"]["alertmanagerSpec"]
    assert am["alertmanagerConfigMatcherStrategy"] == {"type": "OnNamespace"}


def test_only_platform_namespaces_are_exempt_and_may_hold_probes_and_scrape_configs(
        spec: PlatformSpec, bundle: Bundle) -> None:
    prom = _prometheus(spec)
    platform = sorted({*spec.platform.spec.network.monitoring_namespaces,
                       spec.platform.spec.observability.dashboards_namespace})
    only_platform = {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                           "operator": "In", "values": platform}]}
    assert prom["probeNamespaceSelector"] == only_platform
    assert prom["scrapeConfigNamespaceSelector"] == only_platform
    assert {ref["namespace"] for ref in prom["excludedFromEnforcement"]} == set(platform)
    tenants = {ns.name for ns in bundle.of_kind("Namespace")
               if ns.body["metadata"]["labels"].get(LABEL_TENANT) == "true"}
    assert tenants and not tenants & set(platform)


def test_every_scrape_is_bounded_by_default(example_spec: PlatformSpec) -> None:
    prom = _prometheus(example_spec)
    assert {k: v for k, v in prom.items() if k.startswith("enforced")} == {
        "enforcedNamespaceLabel": "namespace",
        "enforcedSampleLimit": 200_000,
        "enforcedTargetLimit": 1_000,
        "enforcedLabelLimit": 64,
        "enforcedLabelNameLengthLimit": 256,
        "enforcedLabelValueLengthLimit": 4_096,
        "enforcedKeepDroppedTargets": 100,
        "enforcedBodySizeLimit": "64MB",
    }
    assert _BYTE_SIZE.match(prom["enforcedBodySizeLimit"])


def test_the_limits_are_the_platforms(tmp_path: Path) -> None:
    limits = {"sampleLimit": 5000, "targetLimit": 20, "labelLimit": 30,
              "labelNameLengthLimit": 100, "labelValueLengthLimit": 500,
              "keepDroppedTargets": 10, "bodySizeLimit": "10MiB"}
    doc = platform_doc(observability={"scrapeLimits": limits})
    prom = _prometheus(load_platform(write_platform(tmp_path, doc, [team_doc("alpha")])))
    assert [prom[f"enforced{k[0].upper()}{k[1:]}"] for k in limits] == list(limits.values())
    assert _BYTE_SIZE.match(prom["enforcedBodySizeLimit"])


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"bodySizeLimit": "64 MB"}, 'bodySizeLimit: "64 MB": is not a Prometheus byte size '
                                     "such as 64MB or 512KiB"),
        ({"bodySizeLimit": "64MB\n"}, 'bodySizeLimit: "64MB\\n": is not a Prometheus byte '
                                      "size such as 64MB or 512KiB"),
        ({"sampleLimit": 0}, "sampleLimit: 0: Input should be greater than or equal to 1"),
        ({"targetLimit": "10"}, 'targetLimit: "10": Input should be a valid integer'),
    ],
    ids=["space", "newline", "zero", "string"],
)
def test_limits_that_prometheus_would_refuse_are_spec_errors(
        tmp_path: Path, limits: dict[str, Any], expected: str) -> None:
    doc = platform_doc(observability={"scrapeLimits": limits})
    assert issue_lines(tmp_path, doc, []) == [
        f"platform.yaml: spec.observability.scrapeLimits.{expected}"]


def test_what_goldenpath_renders_still_works_under_these_values(bundle: Bundle) -> None:
    """The confinement would silently drop a ServiceMonitor that selected elsewhere or
    read a file; goldenpath's own do neither."""
    for monitor in bundle.of_kind("ServiceMonitor"):
        spec = monitor.body["spec"]
        assert spec["namespaceSelector"] == {"matchNames": [monitor.namespace]}
        for endpoint in spec["endpoints"]:
            assert "bearerTokenFile" not in endpoint
            assert not {"caFile", "certFile", "keyFile"} & set(endpoint.get("tlsConfig", {}))


def test_the_values_yaml_has_no_aliases(example_spec: PlatformSpec) -> None:
    text = stack.values_yaml(example_spec, "prod")
    assert "&" not in text and "*" not in text
