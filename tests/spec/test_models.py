"""Single-field rules of the Platform and Team models, each broken once, with its message.

Each case loads a whole platform directory, so the message is checked exactly as a
platform engineer reads it: ``file: field.path: value: what is wrong``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.spec import load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.spec.support import (
    CIDR,
    DNS_LABEL,
    QUANTITY,
    SUBJECT,
    UNKNOWN_FIELD,
    issue_lines,
    service,
)

TEAM = "teams/alpha.yaml"


def unservable(budget: str, needed: str) -> str:
    return (f"leaves an error budget of {budget} %, so the page alert (a 14.4x burn of the "
            f"budget over 1h) would fire only above {needed} % failed requests, which "
            "cannot happen; availability objectives must be above 93.0556")


def _team(**spec: Any) -> dict[str, Any]:
    return team_doc("alpha", **spec)


TEAM_FIELD_CASES: list[tuple[str, dict[str, Any], str]] = [
    # quantities: parsed, not matched; zero and negative refused
    ("quantity-text", {"quota": {"cpu": "lots"}}, f'spec.quota.cpu: "lots": {QUANTITY}'),
    ("quantity-unit", {"quota": {"memory": "8GB"}}, f'spec.quota.memory: "8GB": {QUANTITY}'),
    ("quantity-bool", {"quota": {"storage": True}}, f"spec.quota.storage: True: {QUANTITY}"),
    ("quantity-zero", {"quota": {"cpu": "0"}}, 'spec.quota.cpu: "0": must be greater than zero'),
    ("quantity-zero-milli", {"quota": {"cpu": "0m"}},
     'spec.quota.cpu: "0m": must be greater than zero'),
    ("quantity-negative", {"quota": {"memory": "-1Gi"}},
     'spec.quota.memory: "-1Gi": must be greater than zero'),
    ("service-resources", {"services": [service(resources={"cpu": "fast", "memory": "1Gi"})]},
     f'spec.services[0].resources.cpu: "fast": {QUANTITY}'),
    # strict scalars: a string is not silently turned into a number
    ("int-as-string", {"quota": {"pods": "3"}},
     'spec.quota.pods: "3": Input should be a valid integer'),
    ("zero-pods", {"quota": {"pods": 0}},
     "spec.quota.pods: 0: Input should be greater than or equal to 1"),
    ("negative-count", {"quota": {"secrets": -1}},
     "spec.quota.secrets: -1: Input should be greater than or equal to 0"),
    ("port-as-string", {"services": [service(port="8080")]},
     'spec.services[0].port: "8080": Input should be a valid integer'),
    ("port-zero", {"services": [service(port=0)]},
     "spec.services[0].port: 0: Input should be greater than or equal to 1"),
    ("port-too-big", {"services": [service(port=70000)]},
     "spec.services[0].port: 70000: Input should be less than or equal to 65535"),
    ("replicas-bool", {"services": [service(replicas={"prod": True})]},
     "spec.services[0].replicas.prod: True: Input should be a valid integer"),
    ("replicas-zero", {"services": [service(replicas={"prod": 0})]},
     "spec.services[0].replicas.prod: 0: Input should be greater than or equal to 1"),
    ("replicas-bad-env-key", {"services": [service(replicas={"Prod": 1})]},
     f'spec.services[0].replicas.Prod: "Prod": {DNS_LABEL}'),
    ("latency-zero", {"services": [service(slo={"latencyP99Ms": 0})]},
     "spec.services[0].slo.latencyP99Ms: 0: Input should be greater than or equal to 1"),
    ("owners-not-list", {"owners": "group:x"},
     'spec.owners: "group:x": Input should be a valid list'),
    ("owners-empty", {"owners": []},
     "spec.owners: []: List should have at least 1 item after validation, not 0"),
    ("display-name-empty", {"displayName": ""},
     'spec.displayName: "": String should have at least 1 character'),
    # subjects
    ("subject-bare", {"owners": ["alice"]}, f'spec.owners[0]: "alice": {SUBJECT}'),
    ("subject-kind", {"members": ["team:devs"]}, f'spec.members[0]: "team:devs": {SUBJECT}'),
    ("subject-empty-name", {"viewers": ["user:"]}, f'spec.viewers[0]: "user:": {SUBJECT}'),
    ("subject-space", {"viewers": ["group:on call"]},
     f'spec.viewers[0]: "group:on call": {SUBJECT}'),
    ("subject-sa-no-namespace", {"members": ["serviceaccount:ci"]},
     f'spec.members[0]: "serviceaccount:ci": {SUBJECT}'),
    ("subject-sa-bad-namespace", {"members": ["serviceaccount:CI/deployer"]},
     f'spec.members[0]: "serviceaccount:CI/deployer": {SUBJECT}'),
    # CIDRs
    ("cidr-garbage", {"network": {"egressCIDRs": ["10.0.0.0/33"]}},
     f'spec.network.egressCIDRs[0]: "10.0.0.0/33": {CIDR}'),
    ("cidr-host-bits", {"network": {"egressCIDRs": ["10.20.0.1/16"]}},
     f'spec.network.egressCIDRs[0]: "10.20.0.1/16": {CIDR}'),
    ("cidr-word", {"network": {"egressCIDRs": ["internet"]}},
     f'spec.network.egressCIDRs[0]: "internet": {CIDR}'),
    ("cidr-everything", {"network": {"egressCIDRs": ["0.0.0.0/0"]}},
     'spec.network.egressCIDRs[0]: "0.0.0.0/0": opens egress to every address, including '
     "other tenants and the API server; name the networks the team needs"),
    ("cidr-everything-v6", {"network": {"egressCIDRs": ["::/0"]}},
     'spec.network.egressCIDRs[0]: "::/0": opens egress to every address, including '
     "other tenants and the API server; name the networks the team needs"),
    ("allow-from-bad-name", {"network": {"allowFromTeams": ["Checkout"]}},
     f'spec.network.allowFromTeams[0]: "Checkout": {DNS_LABEL}'),
    # percentages
    ("percent-100", {"services": [service(slo={"availability": "100"})]},
     'spec.services[0].slo.availability: "100": must be a percentage strictly between 0 and 100'),
    ("percent-0", {"services": [service(slo={"availability": 0})]},
     "spec.services[0].slo.availability: 0: must be a percentage strictly between 0 and 100"),
    ("percent-nan", {"services": [service(slo={"availability": "NaN"})]},
     'spec.services[0].slo.availability: "NaN": is not a percentage such as "99.9"'),
    ("percent-word", {"services": [service(slo={"availability": "high"})]},
     'spec.services[0].slo.availability: "high": is not a percentage such as "99.9"'),
    ("percent-bool", {"services": [service(slo={"availability": True})]},
     'spec.services[0].slo.availability: True: is not a percentage such as "99.9"'),
    # objectives the burn-rate policy cannot serve: the page's 14.4x burn over 1h would
    # need more than every request to fail (limit: 100 x (1 - 1/14.4) = 93.0555...)
    ("objective-just-below-the-limit", {"services": [service(slo={"availability": "93.0555"})]},
     f'spec.services[0].slo.availability: "93.0555": {unservable("6.9445", "100.0008")}'),
    ("objective-93.05", {"services": [service(slo={"availability": "93.05"})]},
     f'spec.services[0].slo.availability: "93.05": {unservable("6.95", "100.08")}'),
    ("objective-90", {"services": [service(slo={"availability": "90"})]},
     f'spec.services[0].slo.availability: "90": {unservable("10", "144")}'),
    ("objective-50", {"services": [service(slo={"availability": 50})]},
     f"spec.services[0].slo.availability: 50: {unservable('50', '720')}"),
    # names and other formats
    ("service-name", {"services": [service(name="Ledger_Service")]},
     f'spec.services[0].name: "Ledger_Service": {DNS_LABEL}'),
    ("environment-name", {"environments": ["Dev"], "services": []},
     f'spec.environments[0]: "Dev": {DNS_LABEL}'),
    ("ingress-host", {"services": [service(ingress={"host": "Bad_Host"})]},
     'spec.services[0].ingress.host: "Bad_Host": is not a DNS-1123 subdomain '
     "(for example web.example.com)"),
    ("cost-center", {"costCenter": "CC 1"},
     'spec.costCenter: "CC 1": is not a valid Kubernetes label value (at most 63 characters '
     "of letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"),
    ("slack-channel", {"alerting": {"slack": {"channel": "payments",
                                              "secretRef": {"name": "s", "key": "url"}}}},
     "spec.alerting.slack.channel: \"payments\": is not a Slack channel such as "
     '"#team-alerts" (lower-case, starting with #)'),
    ("secret-ref-key", {"alerting": {"pagerduty": {"secretRef": {"name": "pd", "key": "a b"}}}},
     "spec.alerting.pagerduty.secretRef.key: \"a b\": is not a Secret data key "
     "(letters, digits, '-', '_' and '.')"),
    # unknown fields (extra="forbid"), at the top and nested
    ("unknown-field", {"colour": "blue"}, f'spec.colour: "blue": {UNKNOWN_FIELD}'),
    ("unknown-nested", {"quota": {"gpu": "1"}}, f'spec.quota.gpu: "1": {UNKNOWN_FIELD}'),
    ("snake-case-field", {"cost_center": "CC-1"}, f'spec.cost_center: "CC-1": {UNKNOWN_FIELD}'),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=case) for case, spec, expected in TEAM_FIELD_CASES],
)
def test_team_field_rule(tmp_path: Path, spec: dict[str, Any], expected: str) -> None:
    assert issue_lines(tmp_path, platform_doc(), [_team(**spec)]) == [f"{TEAM}: {expected}"]


@pytest.mark.parametrize("objective", ["93.0556", "93.06", "99", "99.999"])
def test_objectives_the_burn_rate_policy_serves_load(tmp_path: Path, objective: str) -> None:
    team = _team(services=[service(slo={"availability": objective})])
    spec = load_platform(write_platform(tmp_path, platform_doc(), [team]))
    assert spec.team("alpha").spec.services[0].slo.availability == objective  # type: ignore[union-attr]


def test_missing_required_field_has_no_value(tmp_path: Path) -> None:
    team = _team()
    del team["spec"]["owners"]
    assert issue_lines(tmp_path, platform_doc(), [team]) == [f"{TEAM}: spec.owners: is required"]


@pytest.mark.parametrize(
    ("top", "value", "expected"),
    [
        ("apiVersion", "v1", "apiVersion: \"v1\": Input should be 'goldenpath.dev/v1alpha1'"),
        ("kind", "Platform", "kind: \"Platform\": Input should be 'Team'"),
        ("spec", [], "spec: []: Input should be a valid dictionary or instance of TeamBody"),
        ("spec", None, "spec: None: Input should be a valid dictionary or instance of TeamBody"),
    ],
)
def test_team_top_level(tmp_path: Path, top: str, value: object, expected: str) -> None:
    team = _team()
    team[top] = value
    assert issue_lines(tmp_path, platform_doc(), [team]) == [f"{TEAM}: {expected}"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Payments", f'"Payments": {DNS_LABEL}'),
        ("pay_ments", f'"pay_ments": {DNS_LABEL}'),
        ("-payments", f'"-payments": {DNS_LABEL}'),
        ("payments-", f'"payments-": {DNS_LABEL}'),
        ("a" * 64, f'"{"a" * 64}": {DNS_LABEL}'),
    ],
)
def test_team_name_is_a_dns_label(tmp_path: Path, name: str, expected: str) -> None:
    lines = issue_lines(tmp_path, platform_doc(), [team_doc(name)])
    assert lines == [f"teams/{name}.yaml: metadata.name: {expected}"]


def _cluster(name: str, envs: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "server": f"https://{name}.example.com", "environments": envs, **extra}


PLATFORM_FIELD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("version-float", {"kubernetesVersion": 1.31},
     'spec.kubernetesVersion: 1.31: must be a quoted string: a Kubernetes minor version '
     'such as "1.31"'),
    ("version-patch", {"kubernetesVersion": "1.31.2"},
     'spec.kubernetesVersion: "1.31.2": is not a Kubernetes minor version such as "1.31"'),
    ("admins-subject", {"admins": ["platform-admins"]},
     f'spec.admins[0]: "platform-admins": {SUBJECT}'),
    ("admins-empty", {"admins": []},
     "spec.admins: []: List should have at least 1 item after validation, not 0"),
    ("repo-url-empty", {"gitops": {"repoURL": ""}},
     'spec.gitops.repoURL: "": String should have at least 1 character'),
    ("server-http", {"clusters": [_cluster("a", ["dev", "staging", "prod"])
                                  | {"server": "http://a"}]},
     'spec.clusters[0].server: "http://a": is not an https:// URL'),
    ("cluster-name", {"clusters": [_cluster("A", ["dev", "staging", "prod"])]},
     f'spec.clusters[0].name: "A": {DNS_LABEL}'),
    ("capacity-string", {"clusters": [_cluster("a", ["dev", "staging", "prod"], capacity="big")]},
     'spec.clusters[0].capacity: "big": Input should be a valid dictionary or instance of '
     "Capacity"),
    ("capacity-zero", {"clusters": [_cluster("a", ["dev", "staging", "prod"],
                                             capacity={"cpu": "0", "memory": "1Gi"})]},
     'spec.clusters[0].capacity.cpu: "0": must be greater than zero'),
    ("capacity-bad", {"clusters": [_cluster("a", ["dev", "staging", "prod"],
                                            capacity={"cpu": "1", "memory": "1 Gi"})]},
     f'spec.clusters[0].capacity.memory: "1 Gi": {QUANTITY}'),
    ("privileged", {"environments": [{"name": "dev", "podSecurity": "privileged"},
                                     {"name": "staging"}, {"name": "prod"}]},
     "spec.environments[0].podSecurity: \"privileged\": Input should be 'baseline' or "
     "'restricted'"),
    ("access-admin", {"environments": [{"name": "dev", "access": {"owners": "admin"}},
                                       {"name": "staging"}, {"name": "prod"}]},
     "spec.environments[0].access.owners: \"admin\": Input should be 'edit', 'view' or 'none'"),
    ("default-quota", {"defaults": {"quota": {"memory": "-8Gi"}}},
     'spec.defaults.quota.memory: "-8Gi": must be greater than zero'),
    ("container-default", {"defaults": {"container": {"cpuLimit": "half"}}},
     f'spec.defaults.container.cpuLimit: "half": {QUANTITY}'),
    ("url-template-missing", {"serviceRepos": {"urlTemplate": "https://x/{team}.git"}},
     'spec.serviceRepos.urlTemplate: "https://x/{team}.git": must contain both {team} and '
     "{service}"),
    ("url-template-unknown", {"serviceRepos": {"urlTemplate": "https://x/{team}/{svc}.git"}},
     'spec.serviceRepos.urlTemplate: "https://x/{team}/{svc}.git": may use only the '
     "placeholders {team} and {service}"),
    # team a + service b-c and team a-b + service c would share one repository (and the
    # second team's project would allow the first team's repository).
    *[(f"url-template-joined-{i}", {"serviceRepos": {"urlTemplate": template}},
       f'spec.serviceRepos.urlTemplate: "{template}": must keep {{team}} and {{service}} '
       "apart with a character names cannot contain, such as '/' or '.'")
      for i, template in enumerate(["https://x/{team}-{service}.git",
                                    "https://x/{service}{team}.git",
                                    "https://x/{team}/a-{service}-{team}.git"])],
    ("argocd-namespace", {"argocd": {"namespace": "Argo"}},
     f'spec.argocd.namespace: "Argo": {DNS_LABEL}'),
    ("ingress-namespaces", {"network": {"ingressNamespaces": ["ingress_nginx"]}},
     f'spec.network.ingressNamespaces[0]: "ingress_nginx": {DNS_LABEL}'),
    ("unknown-field", {"region": "eu"}, f'spec.region: "eu": {UNKNOWN_FIELD}'),
    # reported where it was written, not again on the fields that default to it
    ("monitor-labels", {"observability": {"serviceMonitorLabels": {"release": 1}}},
     "spec.observability.serviceMonitorLabels.release: 1: Input should be a valid string"),
    ("template-name", {"templates": [{"name": "Python", "path": "templates/python"}]},
     f'spec.templates[0].name: "Python": {DNS_LABEL}'),
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(spec, expected, id=case) for case, spec, expected in PLATFORM_FIELD_CASES],
)
def test_platform_field_rule(tmp_path: Path, spec: dict[str, Any], expected: str) -> None:
    assert issue_lines(tmp_path, platform_doc(**spec), []) == [f"platform.yaml: {expected}"]


def test_platform_missing_gitops(tmp_path: Path) -> None:
    platform = platform_doc()
    del platform["spec"]["gitops"]
    assert issue_lines(tmp_path, platform, []) == ["platform.yaml: spec.gitops: is required"]


def test_quantities_accept_yaml_numbers(tmp_path: Path) -> None:
    # `cpu: 4` (an int in YAML) is a valid Kubernetes quantity, as kubectl accepts it
    root = write_platform(tmp_path, platform_doc(), [_team(quota={"cpu": 4, "memory": "8Gi"})])
    spec = load_platform(root)
    assert spec.teams[0].spec.quota.cpu == "4"
