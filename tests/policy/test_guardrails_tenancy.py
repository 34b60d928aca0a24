"""Tenancy guardrails refuse a tampered Bundle: PSA labels, quota, limit range, tokens."""

from __future__ import annotations

from typing import Any

from goldenpath.render import Bundle
from goldenpath.spec import PlatformSpec
from tests.policy.support import refused, tamper, without

Example = tuple[PlatformSpec, Bundle]
PSA = "pod-security.kubernetes.io"


def test_dropped_psa_label(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Namespace", None, "payments-prod",
                    lambda b: b["metadata"]["labels"].pop(f"{PSA}/enforce"))
    assert refused(spec, bundle) == [
        f"[pod-security] prod/Namespace payments-prod: label {PSA}/enforce is None, the prod "
        "environment requires 'restricted'"
    ]


def test_psa_label_weakened(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Namespace", None, "checkout-staging",
                    lambda b: b["metadata"]["labels"].update({f"{PSA}/warn": "privileged"}))
    assert refused(spec, bundle) == [
        f"[pod-security] nonprod/Namespace checkout-staging: label {PSA}/warn is 'privileged', "
        "the staging environment requires 'restricted'"
    ]


def test_missing_namespace_is_caught_from_the_spec(example: Example) -> None:
    spec, bundle = example
    assert refused(spec, without(bundle, "Namespace", None, "storefront-dev")) == [
        "[pod-security] Namespace storefront-dev: tenant namespace is not rendered"
    ]


def test_nodeports_allowed(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ResourceQuota", "payments-dev", "quota",
                    lambda b: b["spec"]["hard"].update({"services.nodeports": "5"}))
    assert refused(spec, bundle) == [
        "[resource-quota] Namespace payments-dev: ResourceQuota must set services.nodeports "
        "to \"0\", found '5'"
    ]


def test_load_balancers_unbounded(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ResourceQuota", "payments-dev", "quota",
                    lambda b: b["spec"]["hard"].pop("services.loadbalancers"))
    assert refused(spec, bundle) == [
        "[resource-quota] Namespace payments-dev: ResourceQuota must set "
        "services.loadbalancers to \"0\", found None"
    ]


def test_incomplete_quota(example: Example) -> None:
    spec, bundle = example

    def drop(body: dict[str, Any]) -> None:
        del body["spec"]["hard"]["pods"]
        del body["spec"]["hard"]["limits.memory"]

    assert refused(spec, tamper(bundle, "ResourceQuota", "checkout-prod", "quota", drop)) == [
        "[resource-quota] Namespace checkout-prod: ResourceQuota lacks limits.memory, pods"
    ]


def test_missing_quota(example: Example) -> None:
    spec, bundle = example
    bundle = without(bundle, "ResourceQuota", "data-platform-dev", "quota")
    assert "[resource-quota] Namespace data-platform-dev: has no ResourceQuota" in refused(
        spec, bundle)


def test_missing_limit_range(example: Example) -> None:
    spec, bundle = example
    assert refused(spec, without(bundle, "LimitRange", "payments-dev", "limits")) == [
        "[limit-range] Namespace payments-dev: has no LimitRange for containers"
    ]


def test_limit_range_without_maximum(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "LimitRange", "payments-dev", "limits",
                    lambda b: b["spec"]["limits"][0].pop("max"))
    assert refused(spec, bundle) == [
        "[limit-range] Namespace payments-dev: container LimitRange lacks 'max'"
    ]


def test_automounted_service_account_token(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ServiceAccount", "payments-prod", "ledger",
                    lambda b: b.update({"automountServiceAccountToken": True}))
    assert refused(spec, bundle) == [
        "[service-accounts] prod/ServiceAccount payments-prod/ledger: tenant service accounts "
        "must set automountServiceAccountToken: false"
    ]


def test_service_account_token_left_to_the_default(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "ServiceAccount", "checkout-dev", "cart",
                    lambda b: b.pop("automountServiceAccountToken"))
    assert refused(spec, bundle) == [
        "[service-accounts] nonprod/ServiceAccount checkout-dev/cart: tenant service accounts "
        "must set automountServiceAccountToken: false"
    ]
