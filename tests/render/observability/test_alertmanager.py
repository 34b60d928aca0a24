"""Alert routing per team namespace: pages to PagerDuty, tickets to Slack, secrets by reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.render import Bundle, render
from goldenpath.spec import PlatformSpec, load_platform
from goldenpath.spec.crossref import receives_pages
from tests.factories import platform_doc, team_doc, write_platform

SLACK = {"channel": "#shop", "secretRef": {"name": "slack", "key": "url"}}
PAGERDUTY = {"secretRef": {"name": "pd", "key": "key"}}


def _configs(bundle: Bundle) -> dict[str, dict[str, Any]]:
    return {r.namespace or "": r.body["spec"] for r in bundle.of_kind("AlertmanagerConfig")}


def test_one_config_per_namespace_of_teams_with_receivers(
    bundle: Bundle, spec: PlatformSpec
) -> None:
    expected = {f"{t.name}-{env}" for t in spec.teams for env in t.spec.environments
                if t.spec.alerting.slack or t.spec.alerting.pagerduty}
    assert set(_configs(bundle)) == expected


def test_pages_go_to_pagerduty_and_tickets_to_slack(example_spec: PlatformSpec) -> None:
    route = _configs(render(example_spec))["payments-prod"]["route"]
    assert route["receiver"] == "slack"
    (pages,) = route["routes"]
    assert pages["receiver"] == "pagerduty"
    assert pages["matchers"] == [{"name": "severity", "value": "page", "matchType": "="}]


def test_a_single_receiver_gets_everything(example_spec: PlatformSpec) -> None:
    configs = _configs(render(example_spec))
    assert configs["checkout-prod"]["route"]["receiver"] == "slack"
    assert configs["data-platform-dev"]["route"]["receiver"] == "pagerduty"
    assert "routes" not in configs["checkout-prod"]["route"]


def test_pagerduty_only_in_the_environments_it_names(example_spec: PlatformSpec) -> None:
    """payments pages PagerDuty in prod only; in dev and staging its pages go to Slack."""
    configs = _configs(render(example_spec))
    assert [r["receiver"] for r in configs["payments-prod"]["route"]["routes"]] == ["pagerduty"]
    for env in ("dev", "staging"):
        config = configs[f"payments-{env}"]
        assert [r["name"] for r in config["receivers"]] == ["slack"]
        assert config["route"]["receiver"] == "slack"
        assert "routes" not in config["route"]


def test_receivers_hold_only_secret_references(example_spec: PlatformSpec) -> None:
    spec = _configs(render(example_spec))["payments-prod"]
    receivers = {r["name"]: r for r in spec["receivers"]}
    (slack,) = receivers["slack"]["slackConfigs"]
    assert slack["apiURL"] == {"name": "slack-webhook", "key": "url"}
    assert slack["channel"] == "#payments-alerts"
    (pager,) = receivers["pagerduty"]["pagerdutyConfigs"]
    assert pager["routingKey"] == {"name": "pagerduty", "key": "routing-key"}
    assert "serviceKey" not in pager and "url" not in pager


def test_tickets_are_inhibited_while_the_page_fires(example_spec: PlatformSpec) -> None:
    (rule,) = _configs(render(example_spec))["payments-prod"]["inhibitRules"]
    assert rule["sourceMatch"][0]["value"] == "page"
    assert rule["targetMatch"][0]["value"] == "ticket"
    assert "alertname" in rule["equal"] and "namespace" in rule["equal"]


@pytest.mark.parametrize("alerting", [
    {}, {"slack": SLACK}, {"pagerduty": PAGERDUTY},
    {"pagerduty": {**PAGERDUTY, "environments": ["prod"]}},
    {"slack": SLACK, "pagerduty": {**PAGERDUTY, "environments": ["staging"]}},
], ids=["none", "slack", "pagerduty", "pagerduty-prod", "both"])
def test_the_spec_rule_on_pages_agrees_with_the_rendered_routes(
        tmp_path: Path, alerting: dict[str, Any]) -> None:
    """``crossref.receives_pages`` (which refuses SLOs that would page no one) says yes
    exactly where the rendered AlertmanagerConfig routes pages to a receiver."""
    team = team_doc("shop", services=[], alerting=alerting)
    spec = load_platform(write_platform(tmp_path, platform_doc(), [team]))
    configs = _configs(render(spec))
    for env in ("dev", "staging", "prod"):
        route = configs.get(f"shop-{env}", {}).get("route")
        routed = route is not None and any(
            r["receiver"] for r in [route, *route.get("routes", [])])
        assert receives_pages(spec.team("shop").spec.alerting, env) is routed, env
