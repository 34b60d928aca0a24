"""Rules that span fields or files: environments, clusters, teams, templates, hosts, names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.spec import load_platform
from goldenpath.spec.models import IngressSpec
from tests.factories import platform_doc, team_doc, write_platform
from tests.spec.support import issue_lines, service

RESERVED = "is reserved for the platform; choose another"


def _cluster(name: str, envs: list[str]) -> dict[str, Any]:
    return {"name": name, "server": f"https://{name}.example.com", "environments": envs}


# --- platform.yaml ---------------------------------------------------------------------


def test_environment_hosted_by_no_cluster(tmp_path: Path) -> None:
    envs = [{"name": "dev"}, {"name": "staging"}, {"name": "prod"}, {"name": "qa"}]
    assert issue_lines(tmp_path, platform_doc(environments=envs), []) == [
        'platform.yaml: spec.environments[3].name: "qa": must be hosted by exactly one '
        "cluster, is listed by 0"
    ]


def test_environment_hosted_by_two_clusters(tmp_path: Path) -> None:
    clusters = [_cluster("a", ["dev", "staging", "prod"]), _cluster("b", ["prod"])]
    assert issue_lines(tmp_path, platform_doc(clusters=clusters), []) == [
        'platform.yaml: spec.environments[2].name: "prod": must be hosted by exactly one '
        "cluster, is listed by 2"
    ]


def test_cluster_names_unknown_environment(tmp_path: Path) -> None:
    clusters = [_cluster("a", ["dev", "staging", "prod", "qa"])]
    assert issue_lines(tmp_path, platform_doc(clusters=clusters), []) == [
        'platform.yaml: spec.clusters[0].environments[3]: "qa": is not an environment of the '
        "platform (known: dev, prod, staging)"
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"environments": [{"name": "dev"}, {"name": "staging"}, {"name": "prod"},
                           {"name": "dev"}]},
         'spec.environments[3]: "dev": is listed twice; names must be unique'),
        ({"clusters": [_cluster("a", ["dev", "staging"]), _cluster("a", ["prod"])]},
         'spec.clusters[1]: "a": is listed twice; names must be unique'),
        ({"templates": [{"name": "python-service", "path": "a"},
                        {"name": "python-service", "path": "b"}]},
         'spec.templates[1]: "python-service": is listed twice; names must be unique'),
    ],
    ids=["environments", "clusters", "templates"],
)
def test_platform_names_are_unique(tmp_path: Path, spec: dict[str, Any], expected: str) -> None:
    assert issue_lines(tmp_path, platform_doc(**spec), []) == [f"platform.yaml: {expected}"]


# --- teams against the platform ---------------------------------------------------------


def test_team_environment_must_exist(tmp_path: Path) -> None:
    team = team_doc("alpha", environments=["dev", "qa"], services=[])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.environments[1]: "qa": is not an environment of the platform '
        "(known: dev, prod, staging)"
    ]


def test_team_environment_listed_twice(tmp_path: Path) -> None:
    team = team_doc("alpha", environments=["dev", "dev"], services=[])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.environments[1]: "dev": is listed twice; names must be unique'
    ]


def test_allow_from_unknown_team(tmp_path: Path) -> None:
    teams = [team_doc("alpha", network={"allowFromTeams": ["beta", "ghost"]}), team_doc("beta")]
    assert issue_lines(tmp_path, platform_doc(), teams) == [
        'teams/alpha.yaml: spec.network.allowFromTeams[1]: "ghost": is not a team '
        "(known: alpha, beta)"
    ]


def test_service_template_must_be_on_the_platform(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[service(template="go-service")])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[0].template: "go-service": is not a template of the '
        "platform (known: python-service, python-worker)"
    ]


def test_service_template_with_no_templates_at_all(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[service()])
    assert issue_lines(tmp_path, platform_doc(templates=[]), [team]) == [
        'teams/alpha.yaml: spec.services[0].template: "python-service": is not a template of '
        "the platform (known: none)"
    ]


def test_service_names_unique_within_a_team(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[service(), service(name="worker"), service()])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[2]: "api": is listed twice; names must be unique'
    ]


def test_same_service_name_in_two_teams_is_fine(tmp_path: Path) -> None:
    # only names inside one team must differ; namespaces keep the teams apart
    teams = [team_doc("alpha"), team_doc("beta", services=[service(), service(name="x")])]
    lines = issue_lines(tmp_path, platform_doc(), [*teams, team_doc("Bad")])
    assert all(line.startswith("teams/Bad.yaml") for line in lines)


def test_ingress_host_unique_across_teams(tmp_path: Path) -> None:
    host = {"host": "shop.example.com", "environments": ["prod"]}
    teams = [team_doc("alpha", services=[service(ingress=host)]),
             team_doc("beta", services=[service(name="other"), service(ingress=host)])]
    assert issue_lines(tmp_path, platform_doc(), teams) == [
        'teams/beta.yaml: spec.services[1].ingress.host: "shop.example.com": is already used '
        "by alpha/api; ingress hosts must be unique"
    ]


def test_ingress_host_unique_within_a_team(tmp_path: Path) -> None:
    host = {"host": "shop.example.com", "environments": ["prod"]}
    team = team_doc("alpha", services=[service(ingress=host), service(name="b", ingress=host)])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[1].ingress.host: "shop.example.com": is already used '
        "by alpha/api; ingress hosts must be unique"
    ]


def test_replicas_for_an_environment_the_team_does_not_have(tmp_path: Path) -> None:
    team = team_doc("alpha", environments=["dev"], services=[service(replicas={"dev": 1,
                                                                               "prod": 2})])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[0].replicas.prod: "prod": is not one of the team\'s '
        "environments (dev)"
    ]


def test_pagerduty_for_an_environment_the_team_does_not_have(tmp_path: Path) -> None:
    pagerduty = {"secretRef": {"name": "pd", "key": "key"}, "environments": ["prod", "dev"]}
    team = team_doc("alpha", environments=["dev", "staging"], services=[],
                    alerting={"pagerduty": pagerduty})
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.alerting.pagerduty.environments[0]: "prod": is not one of '
        "the team's environments (dev, staging)"
    ]


NOWHERE = ("the Alertmanager sends pages no team routes to its default receiver, which "
           "drops them on a stock kube-prometheus-stack; add spec.alerting.slack, or "
           "spec.alerting.pagerduty for those environments")
SLACK = {"channel": "#alpha", "secretRef": {"name": "slack", "key": "url"}}
PAGERDUTY = {"secretRef": {"name": "pd", "key": "key"}}


@pytest.mark.parametrize(
    ("alerting", "expected"),
    [
        ({}, "the SLO pages of services api, web have no receiver in dev, staging, prod"),
        ({"pagerduty": {**PAGERDUTY, "environments": ["prod"]}},
         "the SLO pages of services api, web have no receiver in dev, staging"),
    ],
    ids=["no-alerting", "pagerduty-in-prod-only"],
)
def test_a_paging_slo_with_nowhere_to_go(tmp_path: Path, alerting: dict[str, Any],
                                         expected: str) -> None:
    services = [service(slo={"latencyP99Ms": 200}), service(name="web"),
                service(name="worker", slo=None)]
    services[1]["slo"] = {"availability": "99.5"}
    team = team_doc("alpha", services=services, alerting=alerting)
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        f"teams/alpha.yaml: spec.alerting: {expected}: {NOWHERE}"]


@pytest.mark.parametrize(
    "alerting",
    [{"slack": SLACK}, {"pagerduty": PAGERDUTY},
     {"slack": SLACK, "pagerduty": {**PAGERDUTY, "environments": ["prod"]}}],
    ids=["slack", "pagerduty-everywhere", "slack-and-pagerduty-in-prod"],
)
def test_every_page_has_a_receiver(tmp_path: Path, alerting: dict[str, Any]) -> None:
    team = team_doc("alpha", alerting=alerting)
    write_platform(tmp_path, platform_doc(), [team])
    assert load_platform(tmp_path).team("alpha").spec.alerting.model_dump(exclude_none=True)


def test_a_team_without_slos_needs_no_receiver(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[service()], alerting={})
    write_platform(tmp_path, platform_doc(), [team])
    assert load_platform(tmp_path).team("alpha").spec.services[0].slo is None


def test_override_for_an_environment_the_team_does_not_have(tmp_path: Path) -> None:
    team = team_doc("alpha", environments=["dev", "staging"], services=[],
                    environmentOverrides={"prod": {"quota": {"cpu": "8"}}})
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.environmentOverrides.prod: "prod": is not one of the team\'s '
        "environments (dev, staging)"
    ]


@pytest.mark.parametrize(
    ("quota", "expected"),
    [
        ({"cpu": "4", "limitsCpu": "2"},
         '"2": limitsCpu is below the cpu request 4 in dev; limits must be at least requests'),
        ({"memory": "8Gi", "limitsMemory": "4Gi"},
         '"4Gi": limitsMemory is below the memory request 8Gi in dev; limits must be at least '
         "requests"),
        ({"limitsCpu": "3500m"},
         '"3500m": limitsCpu is below the cpu request 4 in dev; limits must be at least '
         "requests"),
    ],
    ids=["cpu", "memory", "against-platform-default"],
)
def test_limits_below_requests(tmp_path: Path, quota: dict[str, str], expected: str) -> None:
    team = team_doc("alpha", environments=["dev"], services=[], quota=quota)
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        f"teams/alpha.yaml: spec.quota (dev): {expected}"
    ]


def test_limits_below_requests_only_through_an_override(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[], quota={"limitsCpu": "6"},
                    environmentOverrides={"prod": {"quota": {"cpu": "8", "limitsCpu": "6"}}})
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.quota (prod): "6": limitsCpu is below the cpu request 8 in '
        "prod; limits must be at least requests"
    ]


def test_limits_are_reported_per_environment(tmp_path: Path) -> None:
    team = team_doc("alpha", services=[], quota={"cpu": "4", "limitsCpu": "2"})
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        f'teams/alpha.yaml: spec.quota ({env}): "2": limitsCpu is below the cpu request 4 in '
        f"{env}; limits must be at least requests"
        for env in ("dev", "prod", "staging")
    ]


# --- names: DNS lengths, reserved names, collisions -------------------------------------


def test_namespace_longer_than_63_characters(tmp_path: Path) -> None:
    name = "a" * 58  # a-...-dev is 62 and a-...-prod 63 characters, a-...-staging 66
    lines = issue_lines(tmp_path, platform_doc(), [team_doc(name, services=[])])
    app = "makes the Argo CD application name"
    assert lines == [
        f'teams/{name}.yaml: spec.environments[0]: "dev": {app} \'{name}-dev-tenancy\' '
        "longer than 63 characters; shorten the team name",
        f'teams/{name}.yaml: spec.environments[1]: "staging": namespace \'{name}-staging\' '
        "is longer than 63 characters; shorten the team name",
        f'teams/{name}.yaml: spec.environments[2]: "prod": {app} \'{name}-prod-tenancy\' '
        "longer than 63 characters; shorten the team name",
    ]


def test_tenancy_application_name_longer_than_63_characters(tmp_path: Path) -> None:
    # The namespace fits (a-...-staging is 58), its tenancy Application (66) did not;
    # a-...-prod-tenancy is 63. <team>-services is shorter than any tenancy Application.
    name = "a" * 50
    lines = issue_lines(tmp_path, platform_doc(), [team_doc(name, services=[])])
    assert lines == [
        f'teams/{name}.yaml: spec.environments[1]: "staging": makes the Argo CD application '
        f"name '{name}-staging-tenancy' longer than 63 characters; shorten the team name",
    ]


def test_application_name_longer_than_63_characters(tmp_path: Path) -> None:
    name = "a" * 40
    team = team_doc(name, services=[service(name="b" * 20)])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        f'teams/{name}.yaml: spec.services[0].name: "{"b" * 20}": makes the Argo CD '
        f"application name '{name}.{'b' * 20}.staging' longer than 63 characters"
    ]


@pytest.mark.parametrize(
    "name", ["default", "goldenpath", "kube-system", "kube-anything", "argocd", "monitoring",
             "ingress-nginx"],
)
def test_reserved_team_names(tmp_path: Path, name: str) -> None:
    assert issue_lines(tmp_path, platform_doc(), [team_doc(name)]) == [
        f'teams/{name}.yaml: metadata.name: "{name}": {RESERVED}'
    ]


def test_reserved_names_follow_the_platform_settings(tmp_path: Path) -> None:
    platform = platform_doc(argocd={"namespace": "gitops"},
                            network={"ingressNamespaces": ["edge"],
                                     "monitoringNamespaces": ["prometheus"]},
                            observability={"dashboardsNamespace": "grafana"})
    teams = [team_doc(n) for n in ("gitops", "edge", "prometheus", "grafana", "argocd")]
    assert issue_lines(tmp_path, platform, teams) == [
        f'teams/{n}.yaml: metadata.name: "{n}": {RESERVED}'
        for n in ("edge", "gitops", "grafana", "prometheus")
    ]


@pytest.mark.parametrize(
    ("platform_spec", "team", "index", "env"),
    [
        ({"argocd": {"namespace": "gitops-dev"}}, "gitops", 0, "dev"),
        ({"network": {"monitoringNamespaces": ["obs-prod"]}}, "obs", 2, "prod"),
        ({"network": {"ingressNamespaces": ["edge-staging"]}}, "edge", 1, "staging"),
        ({"observability": {"dashboardsNamespace": "grafana-dev"}}, "grafana", 0, "dev"),
    ],
    ids=["argocd", "monitoring", "ingress", "dashboards"],
)
def test_team_namespace_is_a_platform_namespace(
    tmp_path: Path, platform_spec: dict[str, Any], team: str, index: int, env: str
) -> None:
    assert issue_lines(tmp_path, platform_doc(**platform_spec), [team_doc(team)]) == [
        f'teams/{team}.yaml: spec.environments[{index}]: "{env}": namespace '
        f"'{team}-{env}' is reserved for the platform"
    ]


def test_team_namespace_in_the_kube_prefix(tmp_path: Path) -> None:
    # team "kube" in environment "system" would own kube-system
    platform = platform_doc(clusters=[_cluster("c", ["system"])],
                            environments=[{"name": "system"}])
    team = team_doc("kube", environments=["system"], services=[])
    assert issue_lines(tmp_path, platform, [team]) == [
        "teams/kube.yaml: spec.environments[0]: \"system\": namespace 'kube-system' is "
        "reserved for the platform"
    ]


def test_two_teams_cannot_share_a_namespace(tmp_path: Path) -> None:
    # shop-eu + prod and shop + eu-prod are both "shop-eu-prod"
    platform = platform_doc(clusters=[_cluster("c", ["prod", "eu-prod"])],
                            environments=[{"name": "prod"}, {"name": "eu-prod"}])
    teams = [team_doc("shop-eu", environments=["prod"], services=[]),
             team_doc("shop", environments=["eu-prod"], services=[])]
    assert issue_lines(tmp_path, platform, teams) == [
        "teams/shop-eu.yaml: spec.environments[0]: \"prod\": namespace 'shop-eu-prod' is "
        "already team shop's; choose another team name"
    ]


def test_a_single_paging_service_is_named_as_one(tmp_path: Path) -> None:
    team = team_doc("alpha", alerting={})
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        "teams/alpha.yaml: spec.alerting: the SLO pages of service api have no receiver in "
        f"dev, staging, prod: {NOWHERE}"]


def test_a_host_served_twice_on_one_cluster(tmp_path: Path) -> None:
    """dev and staging share a cluster, whose one ingress controller routes a host to one
    namespace: serving the host in both would make two Ingresses fight over it."""
    team = team_doc("alpha", services=[service(ingress={"host": "shop.example.com"})])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[0].ingress: "shop.example.com": would be served by '
        "dev and staging, both on cluster nonprod, where a host routes to one namespace; "
        "list the environments that serve it in ingress.environments"
    ]


def test_ingress_environments_are_the_teams(tmp_path: Path) -> None:
    ingress = {"host": "shop.example.com", "environments": ["prod", "qa"]}
    team = team_doc("alpha", environments=["dev", "prod"], services=[service(ingress=ingress)])
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        'teams/alpha.yaml: spec.services[0].ingress.environments[1]: "qa": is not one of the '
        "team's environments (dev, prod)"
    ]


def test_a_host_in_one_environment_per_cluster_is_fine(tmp_path: Path) -> None:
    ingress = {"host": "shop.example.com", "environments": ["staging", "prod"]}
    team = team_doc("alpha", services=[service(ingress=ingress)])
    spec = load_platform(write_platform(tmp_path, platform_doc(), [team]))
    assert spec.team("alpha").spec.services[0].ingress == IngressSpec(
        host="shop.example.com", environments=["staging", "prod"])
