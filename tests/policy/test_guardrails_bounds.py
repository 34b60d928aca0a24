"""Amplification guardrails: no object too large to apply, no team with too many objects,
decided from the objects (their size, namespace and labels), not their coordinates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from goldenpath import policy
from goldenpath.render import Bundle, render
from goldenpath.render.bundle import Coordinates
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import platform_doc, team_doc, write_platform
from tests.policy.support import plus, refused, tamper

Example = tuple[PlatformSpec, Bundle]
SIZE_ADVICE = ("(spec.limits.maxObjectBytes): client-side apply copies the object into an "
               "annotation limited to 256 KiB; render less into it (fewer subjects, services "
               "or rules) or ask a platform admin")


def _size(body: dict[str, Any]) -> int:
    return len(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())


def _limits(spec: PlatformSpec, **limits: Any) -> PlatformSpec:
    """The same teams under other spec.limits, as if the renderer had ignored them."""
    platform = spec.platform.model_copy(deep=True)
    platform.spec.limits.__dict__.update(limits)
    return PlatformSpec(platform, spec.entries, spec.sources)


def _results(spec: PlatformSpec, bundle: Bundle) -> dict[str, policy.GuardrailResult]:
    return {r.name: r for r in policy.check(spec, bundle).results}


def test_the_example_fits(example: Example) -> None:
    spec, bundle = example
    results = _results(spec, bundle)
    assert results["object-size"].passed and results["object-size"].covered == len(bundle)
    assert results["team-objects"].passed and results["team-objects"].covered == 4


def test_an_app_project_grown_past_the_limit(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "AppProject", "argocd", "payments",
                    lambda b: b["spec"].update(description="x" * 140_000), cluster="prod")
    [project] = [r for r in bundle if r.ref == "prod/AppProject argocd/payments"]
    assert refused(spec, bundle) == [
        f"[object-size] prod/AppProject argocd/payments: is {_size(project.body)} bytes as "
        f"JSON, more than the platform's maximum of 131072 {SIZE_ADVICE}"]


def test_size_counts_bytes_not_characters(example: Example) -> None:
    """A multi-byte annotation is as large as its UTF-8 bytes (65,000 characters, 130,000
    bytes), which is what the API server counts."""
    spec, bundle = example
    bundle = tamper(bundle, "ConfigMap", "monitoring", "dashboard.payments.dev.ledger",
                    lambda b: b["metadata"].setdefault("annotations", {}).update(
                        note="\u00e9" * 65_000))
    [line] = refused(spec, bundle)
    assert line.startswith("[object-size] nonprod/ConfigMap monitoring/dashboard.payments.dev."
                           "ledger: is 13")


def test_a_lower_maximum_refuses_the_largest_objects(example: Example) -> None:
    spec, bundle = example
    lowered = _limits(spec, max_object_bytes=12_650)
    large = [r for r in bundle if _size(r.body) > 12_650]
    assert [r.ref for r in large] == ["nonprod/PrometheusRule payments-staging/ledger",
                                      "prod/PrometheusRule payments-prod/ledger"]
    assert refused(lowered, bundle) == [
        f"[object-size] {r.ref}: is {_size(r.body)} bytes as JSON, more than the platform's "
        f"maximum of 12650 {SIZE_ADVICE}" for r in large]


def test_the_largest_app_project_a_team_can_ask_for(tmp_path: Path) -> None:
    """Every list of subjects at its ceiling (100 of 253 characters each) and every service
    the platform allows: the team's AppProject stays well below the 128 KiB default, half
    the 256 KiB annotation limit of client-side apply."""
    subjects = [f"user:{i:03d}" + "a" * 245 for i in range(100)]
    assert {len(s) for s in subjects} == {253}
    # one environment per cluster serves each host (dev and staging share nonprod)
    services = [{"name": f"service-{i:02d}", "template": "python-service",
                 "ingress": {"host": f"service-{i:02d}.alpha.example.com",
                             "environments": ["staging", "prod"]}} for i in range(50)]
    team = team_doc("alpha", owners=subjects, members=subjects, viewers=subjects,
                    services=services)
    spec = load_platform(write_platform(tmp_path, platform_doc(), [team]))
    bundle = render(spec)
    projects = [_size(r.body) for r in bundle.of_kind("AppProject") if r.name == "alpha"]
    assert max(projects) < 100 * 1024
    assert _results(spec, bundle)["object-size"].passed


def test_a_team_over_its_object_cap(example: Example) -> None:
    spec, bundle = example
    counts = {team: _count(spec, bundle, team) for team in spec.entry}
    # the cap falls between the small teams and the large ones
    assert max(counts["storefront"], counts["data-platform"]) <= 60 < min(
        counts["checkout"], counts["payments"])
    lowered = _limits(spec, max_objects_per_team=60)
    assert refused(lowered, bundle) == [
        f"[team-objects] team {team}: renders {counts[team]} objects, more than the 60 the "
        "platform allows a team; ask a platform admin to raise spec.limits.maxObjectsPerTeam, "
        f"or to grant the team more in spec.limits.grants.{team}.maxObjects, in platform.yaml"
        for team in ("checkout", "payments")]


def test_objects_count_for_the_team_whose_namespace_or_label_they_carry(
        example: Example) -> None:
    """Objects added with platform coordinates still count: by namespace, or (outside the
    team's namespaces) by the team label."""
    spec, bundle = example
    before = _count(spec, bundle, "storefront")
    for i in range(10):
        body = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": f"extra-{i}", "namespace": "storefront-dev"}}
        bundle = plus(bundle, Coordinates("nonprod"), body)
        labelled = {"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": f"extra-{i}", "namespace": "monitoring",
                                 "labels": {"goldenpath.dev/team": "storefront"}}}
        bundle = plus(bundle, Coordinates("nonprod"), labelled)
    cap = before + 19
    lines = [line for line in refused(_limits(spec, max_objects_per_team=cap), bundle)
             if line.startswith("[team-objects] team storefront")]
    assert lines == [
        f"[team-objects] team storefront: renders {before + 20} objects, more than the {cap} "
        "the platform allows a team; ask a platform admin to raise "
        "spec.limits.maxObjectsPerTeam, or to grant the team more in "
        "spec.limits.grants.storefront.maxObjects, in platform.yaml"]
    at_cap = _results(_limits(spec, max_objects_per_team=before + 20), bundle)["team-objects"]
    assert "team storefront" not in [v.object_ref for v in at_cap.violations]


def _count(spec: PlatformSpec, bundle: Bundle, team: str) -> int:
    """How many objects the guardrail counts for ``team`` (read from its own report)."""
    [line] = [v.message for v in _results(_limits(spec, max_objects_per_team=1), bundle)[
        "team-objects"].violations if v.object_ref == f"team {team}"]
    return int(line.split()[1])


def test_a_grant_raises_one_team_s_cap(example: Example) -> None:
    spec, bundle = example
    payments = _count(spec, bundle, "payments")
    others = max(_count(spec, bundle, team) for team in spec.entry if team != "payments")
    assert others < payments
    granted = spec.platform.model_copy(deep=True)
    granted.spec.limits.__dict__["max_objects_per_team"] = others
    granted.spec.limits.grants["payments"].__dict__["max_objects"] = payments
    assert _results(PlatformSpec(granted, spec.entries, spec.sources), bundle)[
        "team-objects"].passed
    granted.spec.limits.grants["payments"].__dict__["max_objects"] = payments - 1
    assert [v.object_ref for v in _results(PlatformSpec(granted, spec.entries, spec.sources),
                                           bundle)["team-objects"].violations] == [
        "team payments"]


def _hard(**values: object) -> Any:
    return lambda body: body["spec"]["hard"].update(values)


def test_a_quota_raised_past_the_team_maximum(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ResourceQuota", "storefront-prod", "quota",
                    _hard(**{"requests.cpu": "17", "pods": "201", "limits.memory": "1Ei"}))
    where = "[quota-max] prod/ResourceQuota storefront-prod/quota"
    # the spec's quota is within the maximum, so a quota above the maximum is above the
    # spec too: resource-quota and quota-max both refuse it, each for its own bound
    spec_bound = ("[resource-quota] Namespace storefront-prod: ResourceQuota allows {} {}, "
                  "more than the {} the spec gives team storefront in prod")
    assert refused(spec, bundle) == [
        spec_bound.format("requests.cpu", "17", "6"),
        spec_bound.format("limits.memory", "1Ei", "24Gi"),
        spec_bound.format("pods", "201", "60"),
        f"{where}: requests.cpu 17 is above the maximum 16 of team storefront "
        "(spec.limits.maxQuota.cpu and its grant)",
        f"{where}: limits.memory 1Ei is above the maximum 128Gi of team storefront "
        "(spec.limits.maxQuota.limitsMemory and its grant)",
        f"{where}: pods 201 is above the maximum 200 of team storefront "
        "(spec.limits.maxQuota.pods and its grant)",
    ]


def test_the_grant_counts_for_its_team_only(example: Example) -> None:
    """payments is granted cpu 32 in the example; 32 there is fine, 33 is not."""
    spec, bundle = example
    fine = tamper(bundle, "ResourceQuota", "payments-dev", "quota", _hard(**{"requests.cpu": "32"}))
    assert _results(spec, fine)["quota-max"].passed
    over = tamper(bundle, "ResourceQuota", "payments-dev", "quota", _hard(**{"requests.cpu": "33"}))
    assert refused(spec, over) == [
        "[resource-quota] Namespace payments-dev: ResourceQuota allows requests.cpu 33, more "
        "than the 16 the spec gives team payments in dev",
        "[quota-max] nonprod/ResourceQuota payments-dev/quota: requests.cpu 33 is above the "
        "maximum 32 of team payments (spec.limits.maxQuota.cpu and its grant)"]


def test_a_second_quota_the_renderer_never_made(example: Example) -> None:
    spec, bundle = example
    body = {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "more", "namespace": "checkout-dev"},
            "spec": {"hard": {"pods": "100000", "requests.memory": "1e400"}}}
    lines = refused(spec, plus(bundle, Coordinates("nonprod"), body))
    # an amount that is no quantity is resource-quota's to refuse, the maximum quota-max's
    assert [line for line in lines if line.startswith(("[resource-quota]", "[quota-max]"))] == [
        "[resource-quota] Namespace checkout-dev: ResourceQuota more: requests.memory: "
        "'1e400' is larger than a Kubernetes quantity can be (at most 2^63-1, about 8Ei)",
        "[quota-max] nonprod/ResourceQuota checkout-dev/more: pods 100000 is above the "
        "maximum 200 of team checkout (spec.limits.maxQuota.pods and its grant)",
    ]


def test_quota_amounts_of_any_size_are_read_safely(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ResourceQuota", "checkout-prod", "quota",
                    _hard(pods=2**300, secrets="9" * 100_000))
    lines = [line for line in refused(spec, bundle)
             if line.startswith(("[resource-quota]", "[quota-max]"))]
    # neither is a quantity: resource-quota refuses them, in bounded messages, and quota-max
    # does not read them
    assert lines == [
        "[resource-quota] Namespace checkout-prod: ResourceQuota quota: pods: a 301-bit "
        "integer is larger than a Kubernetes quantity can be (at most 2^63-1, about 8Ei)",
        f"[resource-quota] Namespace checkout-prod: ResourceQuota quota: secrets: {'9' * 64!r}"
        "... is longer than 64 characters; not a Kubernetes quantity",
    ]
