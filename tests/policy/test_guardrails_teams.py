"""Guardrails on a Bundle of some teams (``check_teams``): the per-team guardrails judge
those teams as ``check`` would, and the global ones still see every team."""

from __future__ import annotations

from pathlib import Path

from goldenpath import policy
from goldenpath.render import Bundle, render_teams
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.policy.support import tamper, without

Example = tuple[PlatformSpec, Bundle]


def _failed(report: policy.Report) -> set[str]:
    return {v.guardrail for v in report.violations}


def test_some_teams_of_the_example_pass(example: Example) -> None:
    spec, full = example
    part = render_teams(spec, ["payments"])
    report = policy.check_teams(spec, ["payments"], part)
    assert report.passed
    covered = {r.name: r.covered for r in report.results}
    full_covered = {r.name: r.covered for r in policy.check(spec, full).results}
    assert covered["capacity"] == full_covered["capacity"]  # every team's quota, always
    assert 0 < covered["schema"] < full_covered["schema"]


def test_a_rendered_teams_violations_are_caught(example: Example) -> None:
    spec, _ = example
    part = render_teams(spec, ["payments"])
    bad = tamper(part, "ServiceAccount", "payments-prod", "ledger",
                 lambda b: b.update({"automountServiceAccountToken": True}))
    assert _failed(policy.check_teams(spec, ["payments"], bad)) == {"service-accounts"}
    missing = without(part, "Namespace", None, "payments-dev")
    assert "pod-security" in _failed(policy.check_teams(spec, ["payments"], missing))


def test_capacity_counts_the_teams_not_rendered(tmp_path: Path) -> None:
    clusters = platform_doc()["spec"]["clusters"]
    clusters[1]["capacity"] = {"cpu": "10", "memory": "100Gi"}
    teams = [team_doc(name, quota={"cpu": "4"}) for name in ("alpha", "beta", "gamma")]
    spec = load_platform(write_platform(tmp_path, platform_doc(clusters=clusters), teams))
    report = policy.check_teams(spec, ["alpha"], render_teams(spec, ["alpha"]))
    assert _failed(report) == {"capacity"}


def test_a_caller_passes_without_the_teams_that_list_it(example: Example) -> None:
    """storefront's egress to checkout is authorised by checkout's spec: checked alone,
    storefront still passes, as it does in the whole platform."""
    spec, _ = example
    for names in (["storefront"], ["checkout"]):
        part = render_teams(spec, names)
        assert any(r.name == "allow-to-teams" for r in part)
        assert policy.check_teams(spec, names, part).passed
