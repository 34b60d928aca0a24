"""Dashboards are valid Grafana JSON with unique, stable uids, found by the sidecar."""

from __future__ import annotations

import json

from goldenpath.render import Bundle, render
from goldenpath.render.observability import grafana
from goldenpath.render.observability.dashboards import (
    DASHBOARD_LABEL,
    DASHBOARD_LABEL_VALUE,
    FOLDER_ANNOTATION,
)
from goldenpath.spec import PlatformSpec
from tests.render.observability.helpers import dashboards

DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}


def test_one_dashboard_per_service_and_one_overview_per_team_namespace(
    bundle: Bundle, spec: PlatformSpec
) -> None:
    found = {(r.coords.team, r.coords.environment, r.coords.service) for r, _ in dashboards(bundle)}
    expected = {(t.name, env, s) for t in spec.teams for env in t.spec.environments
                for s in [None, *(svc.name for svc in t.spec.services)]}
    assert found == expected


def test_uids_are_unique_and_short_across_the_platform(bundle: Bundle) -> None:
    uids = [d["uid"] for _, d in dashboards(bundle)]
    assert len(uids) == len(set(uids))
    assert all(len(uid) <= grafana.UID_MAX for uid in uids)


def test_uid_is_stable_and_short_for_long_names() -> None:
    long_team, long_service = "t" * 50, "s" * 60
    first = grafana.uid(long_team, "prod", long_service)
    assert first == grafana.uid(long_team, "prod", long_service)
    assert len(first) <= grafana.UID_MAX
    # names that agree on the first 31 characters still get different uids
    assert grafana.uid(long_team, "prod", long_service + "x") != first


def test_uid_cannot_be_matched_by_another_teams_names() -> None:
    # Names that share the truncated readable prefix are told apart by the digest alone.
    # 32 bits (8 hex characters) could be searched for a second set of valid names giving
    # another team's uid (and so its dashboard); the digest must be out of reach.
    pairs = [(("x" * 40, "dev", "api"), ("x" * 40, "dev", "apj")),
             (("t" * 50, "prod", "s" * 60), ("t" * 50, "prod", "s" * 59 + "x"))]
    for first, second in pairs:
        one, two = grafana.uid(*first), grafana.uid(*second)
        assert one.rsplit("-", 1)[0] == two.rsplit("-", 1)[0] and one != two
        digest = one.rsplit("-", 1)[1]
        assert len(digest) * 5 >= 96 and set(digest) <= set("abcdefghijklmnopqrstuvwxyz234567")


def test_dashboard_json_is_valid(bundle: Bundle) -> None:
    for resource, dashboard in dashboards(bundle):
        assert isinstance(dashboard["schemaVersion"], int)
        assert dashboard["title"]
        variables = dashboard["templating"]["list"]
        assert {"name": "datasource", "type": "datasource"}.items() <= variables[0].items()
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids)), resource.name
        for panel in dashboard["panels"]:
            # never a hard-coded datasource id: always the template variable
            assert panel["datasource"] == DATASOURCE_REF
            assert all(t["datasource"] == DATASOURCE_REF for t in panel["targets"])


def test_dashboard_text_is_canonical(bundle: Bundle) -> None:
    for resource, dashboard in dashboards(bundle):
        (text,) = resource.body["data"].values()
        assert text == json.dumps(dashboard, sort_keys=True, indent=2) + "\n"


def test_configmaps_are_found_by_the_sidecar(bundle: Bundle, spec: PlatformSpec) -> None:
    namespace = spec.platform.spec.observability.dashboards_namespace
    for resource, dashboard in dashboards(bundle):
        meta = resource.body["metadata"]
        assert meta["namespace"] == namespace
        assert meta["labels"][DASHBOARD_LABEL] == DASHBOARD_LABEL_VALUE
        assert meta["annotations"][FOLDER_ANNOTATION] == resource.coords.team
        assert list(resource.body["data"]) == [f"{dashboard['uid']}.json"]


def test_service_dashboard_has_red_and_budget_panels(example_spec: PlatformSpec) -> None:
    by_name = {r.name: d for r, d in dashboards(render(example_spec))}
    titles = [p["title"] for p in by_name["dashboard.payments.prod.ledger"]["panels"]]
    assert titles[:3] == ["Requests per second by status", "Error ratio (5xx)",
                          "Request duration"]
    assert [t for t in titles if "error budget" in t] == [
        "Availability error budget left (99.9 % over 30d)",
        "Latency error budget left (99 % over 30d)"]
    budgets = [p for p in by_name["dashboard.payments.prod.ledger"]["panels"]
               if "error budget" in p["title"]]
    for panel in budgets:
        # no error series yet (a service that never failed) is zero spend, not "No data"
        (target,) = panel["targets"]
        assert "\nor on() vector(0)\n" in target["expr"]
    overview = by_name["dashboard.payments.prod"]
    assert {link["url"] for link in overview["links"]} == {
        f"/d/{by_name[f'dashboard.payments.prod.{s}']['uid']}"
        for s in ("ledger", "settlement-worker")}
