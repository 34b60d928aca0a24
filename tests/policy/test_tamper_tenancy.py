"""The tamper suite for tenancy, network, secrets and coordinates: a real rendered Bundle
of the example platform, changed the way a broken or hostile renderer could change it.

Every tamper must be refused, with the exact messages. The guardrails decide from the
objects, so each tamper on an existing object is tried three times: as rendered, with the
object's coordinates rewritten to look platform-owned, and rewritten to look like another
team's; the last two must still be refused by the same guardrail, and the coordinates
guardrail must refuse the rewrite too (or unique-names, where the rewrite makes the object
a second copy of the other team's). A few are also tried on the Bundle ``apply``
checks (``check_teams``: one team plus the cluster-level objects).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from goldenpath import policy
from goldenpath.policy.secrets import SELECTOR_KEYS, SENSITIVE_FIELDS
from goldenpath.render import Bundle, render, render_teams
from goldenpath.render.bundle import Coordinates, Resource
from goldenpath.render.observability import grafana
from goldenpath.spec import PlatformSpec, load_platform
from tests import crds
from tests.factories import generated_platform
from tests.policy.support import Body, plus, refused, tamper, without

Example = tuple[PlatformSpec, Bundle]
PSA = "pod-security.kubernetes.io"
Target = tuple[str, str | None, str, str | None]  # kind, namespace, name, cluster


@dataclass(frozen=True)
class Case:
    change: Callable[[Bundle], Bundle]
    expected: list[str]
    #: the existing object the change edits, whose coordinates are rewritten in the
    #: variants (None: the tamper adds or removes objects)
    target: Target | None = None


def edit(kind: str, namespace: str | None, name: str, change: Callable[[Body], object],
         expected: list[str], *, cluster: str | None = None) -> Case:
    return Case(lambda b: tamper(b, kind, namespace, name, change, cluster=cluster), expected,
                (kind, namespace, name, cluster))


def _set(path: str | tuple[str, ...], value: Any) -> Callable[[Body], None]:
    """Set (or with ``value`` None, delete) ``path`` in a body: its keys (list indexes
    as digits), separated by "/" or, for keys holding "/", as a tuple."""
    def change(body: Body) -> None:
        *parents, last = path.split("/") if isinstance(path, str) else path
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is None:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return change


def _psa(mode: str, value: str | None) -> Callable[[Body], None]:
    return _set(("metadata", "labels", f"{PSA}/{mode}"), value)


def _add(coords: Coordinates, body: Body) -> Callable[[Bundle], Bundle]:
    return lambda b: plus(b, coords, body)


def _policy(namespace: str, name: str, **spec: Any) -> Body:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"podSelector": {}, **spec}}


NO_DENY = ("has no default-deny NetworkPolicy for ingress and egress (podSelector {}, both "
           "policyTypes, no rules)")
NO_DNS = "has no NetworkPolicy allowing DNS (UDP and TCP 53) to kube-dns in kube-system"
ONLY_DNS = ("egress to kube-system may reach only the pods k8s-app=kube-dns on port 53 "
            "(UDP, TCP)")
BY_NAME = ("namespaceSelector must select namespaces only by kubernetes.io/metadata.name "
           "with operator In, found")
LITERAL = "holds a literal value; use a secret reference"
PROD_NS = "[pod-security] prod/Namespace payments-prod"
SLACK = "spec/receivers/0/slackConfigs/0"
AMC = "[no-secrets] nonprod/AlertmanagerConfig payments-dev/goldenpath-alerting"
DASHBOARD = "[no-secrets] nonprod/ConfigMap monitoring/dashboard.payments.dev"
#: the team dashboard's data key: its uid (a digest) + ".json"
DASHBOARD_KEY = f"data.{grafana.uid('payments', 'dev')}.json"
NONPROD = Coordinates("nonprod", "payments", "dev")
TEAM_NAMESPACES = "(payments-dev, payments-prod, payments-staging)"


def _dashboard_json(change: Callable[[str], str]) -> Callable[[Body], None]:
    def edit_json(body: Body) -> None:
        [(key, text)] = body["data"].items()
        body["data"][key] = change(text)
    return edit_json


CASES: dict[str, Case] = {
    # --- Pod Security labels ------------------------------------------------------------
    "psa-enforce-lowered": edit(
        "Namespace", None, "payments-prod", _psa("enforce", "baseline"),
        [f"{PROD_NS}: label {PSA}/enforce is 'baseline', the prod environment requires "
         "'restricted'"]),
    "psa-enforce-removed-on-one-namespace": edit(
        "Namespace", None, "checkout-dev", _psa("enforce", None),
        [f"[pod-security] nonprod/Namespace checkout-dev: label {PSA}/enforce is None, the "
         "dev environment requires 'baseline'"]),
    "psa-audit-privileged": edit(
        "Namespace", None, "payments-prod", _psa("audit", "privileged"),
        [f"{PROD_NS}: label {PSA}/audit is 'privileged', the prod environment requires "
         "'restricted'"]),
    "psa-version-pinned-old": edit(
        "Namespace", None, "payments-prod",
        _psa("enforce-version", "v1.0"),
        [f"{PROD_NS}: label {PSA}/enforce-version is 'v1.0', must be 'v1.31' (the platform's "
         "kubernetesVersion)"]),
    "psa-version-removed": edit(
        "Namespace", None, "payments-prod", _psa("warn-version", None),
        [f"{PROD_NS}: label {PSA}/warn-version is None, must be 'v1.31' (the platform's "
         "kubernetesVersion)"]),
    "psa-all-labels-removed": edit(
        "Namespace", None, "payments-prod", _set("metadata/labels", {}),
        [line for mode in ("enforce", "audit", "warn") for line in (
            f"{PROD_NS}: label {PSA}/{mode} is None, the prod environment requires "
            "'restricted'",
            f"{PROD_NS}: label {PSA}/{mode}-version is None, must be 'v1.31' (the "
            "platform's kubernetesVersion)")]),
    "namespace-exempt-from-admission-policies": edit(
        "Namespace", None, "payments-prod",
        _set(("metadata", "labels", "admission.gatekeeper.sh/ignore"), "true"),
        [f"{PROD_NS}: label admission.gatekeeper.sh/ignore is not one goldenpath sets; tenant "
         "namespace metadata steers admission, so only goldenpath.dev/, app.kubernetes.io/, "
         "pod-security.kubernetes.io/, kubernetes.io/metadata.name keys are allowed"]),
    "namespace-pods-on-control-plane-nodes": edit(
        "Namespace", None, "payments-prod",
        _set(("metadata", "annotations", "scheduler.alpha.kubernetes.io/node-selector"),
             "node-role.kubernetes.io/control-plane="),
        [f"{PROD_NS}: annotation scheduler.alpha.kubernetes.io/node-selector is not one "
         "goldenpath sets; tenant namespace metadata steers admission, so only goldenpath.dev/ "
         "keys are allowed"]),
    # --- ResourceQuota ------------------------------------------------------------------
    "quota-cpu-above-the-spec": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/hard/requests.cpu", "64"),
        # above the spec and above the team's maximum: both guardrails hold
        ["[resource-quota] Namespace payments-prod: ResourceQuota allows requests.cpu 64, "
         "more than the 32 the spec gives team payments in prod",
         "[quota-max] prod/ResourceQuota payments-prod/quota: requests.cpu 64 is above the "
         "maximum 32 of team payments (spec.limits.maxQuota.cpu and its grant)"]),
    "quota-pods-above-the-spec": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/hard/pods", "100000"),
        ["[resource-quota] Namespace payments-prod: ResourceQuota allows pods 100000, more "
         "than the 100 the spec gives team payments in prod",
         "[quota-max] prod/ResourceQuota payments-prod/quota: pods 100000 is above the maximum "
         "200 of team payments (spec.limits.maxQuota.pods and its grant)"]),
    "quota-limits-memory-above-the-spec": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/hard/limits.memory", "1Ti"),
        ["[resource-quota] Namespace payments-prod: ResourceQuota allows limits.memory 1Ti, "
         "more than the 96Gi the spec gives team payments in prod",
         "[quota-max] prod/ResourceQuota payments-prod/quota: limits.memory 1Ti is above the "
         "maximum 128Gi of team payments (spec.limits.maxQuota.limitsMemory and its grant)"]),
    "quota-nodeports": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/hard/services.nodeports", "1"),
        ["[resource-quota] Namespace payments-prod: ResourceQuota must set "
         "services.nodeports to \"0\", found '1'"]),
    "quota-scoped": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/scopes", ["BestEffort"]),
        ["[resource-quota] Namespace payments-prod: has no ResourceQuota (a quota with "
         "scopes or scopeSelector bounds only what it matches)"]),
    "quota-scope-selector": edit(
        "ResourceQuota", "payments-prod", "quota",
        _set("spec/scopeSelector", {"matchExpressions": [
            {"scopeName": "PriorityClass", "operator": "In", "values": ["never"]}]}),
        ["[resource-quota] Namespace payments-prod: has no ResourceQuota (a quota with "
         "scopes or scopeSelector bounds only what it matches)"]),
    "quota-removed": Case(
        lambda b: without(b, "ResourceQuota", "payments-prod", "quota"),
        ["[resource-quota] Namespace payments-prod: has no ResourceQuota"]),
    "quota-moved-to-another-namespace": edit(
        "ResourceQuota", "payments-prod", "quota", _set("metadata/namespace", "payments-staging"),
        ["[coordinates] prod/ResourceQuota payments-staging/quota: is in team payments's "
         "namespace payments-staging, so its coordinates must be (cluster nonprod, team "
         "payments, environment staging, service None), not (cluster prod, team payments, "
         "environment prod, service None)",
         "[resource-quota] Namespace payments-prod: has no ResourceQuota"]),
    "quota-not-a-quantity": edit(
        "ResourceQuota", "payments-prod", "quota", _set("spec/hard/pods", "lots"),
        ["[resource-quota] Namespace payments-prod: ResourceQuota quota: pods: 'lots' is not "
         "a Kubernetes quantity"]),
    # --- LimitRange -----------------------------------------------------------------------
    "limits-pod-type-only": edit(
        "LimitRange", "payments-dev", "limits", _set("spec/limits/0/type", "Pod"),
        ["[limit-range] Namespace payments-dev: has no LimitRange for containers"]),
    "limits-max-memory-removed": edit(
        "LimitRange", "payments-dev", "limits", _set("spec/limits/0/max/memory", None),
        ["[limit-range] Namespace payments-dev: container LimitRange lacks max.memory"]),
    "limits-max-cpu-raised": edit(
        "LimitRange", "payments-dev", "limits", _set("spec/limits/0/max/cpu", "64"),
        ["[limit-range] Namespace payments-dev: container LimitRange allows max.cpu 64, "
         "above the platform's 4"]),
    "limits-default-removed": edit(
        "LimitRange", "payments-dev", "limits", _set("spec/limits/0/default", None),
        ["[limit-range] Namespace payments-dev: container LimitRange lacks 'default'"]),
    "limits-removed": Case(
        lambda b: without(b, "LimitRange", "payments-dev", "limits"),
        ["[limit-range] Namespace payments-dev: has no LimitRange for containers"]),
    # --- default deny -----------------------------------------------------------------------
    "deny-selects-some-pods": edit(
        "NetworkPolicy", "payments-prod", "default-deny",
        _set("spec/podSelector", {"matchLabels": {"app": "nothing"}}),
        [f"[default-deny] Namespace payments-prod: {NO_DENY}"]),
    "deny-ingress-only": edit(
        "NetworkPolicy", "payments-prod", "default-deny", _set("spec/policyTypes", ["Ingress"]),
        [f"[default-deny] Namespace payments-prod: {NO_DENY}"]),
    "deny-removed": Case(
        lambda b: without(b, "NetworkPolicy", "payments-prod", "default-deny"),
        [f"[default-deny] Namespace payments-prod: {NO_DENY}"]),
    # --- allow policies -------------------------------------------------------------------
    "allow-all-ingress": Case(
        _add(Coordinates("prod", "payments", "prod"),
             _policy("payments-prod", "allow-all", policyTypes=["Ingress"], ingress=[{}])),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-all: an ingress rule "
         "without 'from' allows every peer; name the peers"]),
    "allow-all-egress": Case(
        _add(Coordinates("prod", "payments", "prod"),
             _policy("payments-prod", "allow-all", policyTypes=["Egress"], egress=[{}])),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-all: an egress rule "
         "without 'to' allows every peer; name the peers"]),
    "allow-every-namespace": edit(
        "NetworkPolicy", "payments-prod", "allow-from-ingress",
        _set("spec/ingress/0/from", [{"namespaceSelector": {}}]),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-from-ingress: "
         f"{BY_NAME} {{}}"]),
    "allow-by-a-forgeable-label": edit(
        "NetworkPolicy", "payments-prod", "allow-from-teams",
        _set("spec/ingress/0/from/0/namespaceSelector", {"matchLabels": {"team": "checkout"}}),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-from-teams: "
         f"{BY_NAME} {{'matchLabels': {{'team': 'checkout'}}}}"]),
    "allow-an-empty-peer": edit(
        "NetworkPolicy", "payments-prod", "allow-from-monitoring",
        _set("spec/ingress/0/from", [{}]),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-from-monitoring: a peer "
         "needs a podSelector, namespaceSelector or ipBlock"]),
    "dns-to-all-of-kube-system": edit(
        "NetworkPolicy", "payments-prod", "allow-dns",
        _set("spec/egress/0/to/0/podSelector", None),
        [f"[default-deny] Namespace payments-prod: {NO_DNS}",
         f"[network-selectors] prod/NetworkPolicy payments-prod/allow-dns: {ONLY_DNS}"]),
    "dns-on-every-port": edit(
        "NetworkPolicy", "payments-prod", "allow-dns",
        lambda b: b["spec"]["egress"][0]["ports"].append({"protocol": "TCP", "port": 443}),
        [f"[network-selectors] prod/NetworkPolicy payments-prod/allow-dns: {ONLY_DNS}"]),
    "egress-into-the-ingress-controller": edit(
        "NetworkPolicy", "payments-prod", "allow-from-ingress",
        lambda b: b["spec"].update({"policyTypes": ["Ingress", "Egress"],
                                    "egress": [{"to": b["spec"]["ingress"][0]["from"]}]}),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-from-ingress: sends "
         "egress to namespaces: ingress-nginx"]),
    "ingress-from-kube-system": edit(
        "NetworkPolicy", "payments-prod", "allow-from-monitoring",
        _set("spec/ingress/0/from/0/namespaceSelector/matchExpressions/0/values",
             ["kube-system"]),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-from-monitoring: allows "
         "namespaces the spec does not name: kube-system"]),
    "egress-into-another-team": edit(
        "NetworkPolicy", "payments-prod", "allow-same-namespace",
        _set("spec/egress/0/to", [{"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In",
             "values": ["checkout-prod", "payments-prod"]}]}}]),
        ["[network-selectors] prod/NetworkPolicy payments-prod/allow-same-namespace: sends "
         "egress to namespaces: checkout-prod"]),
    "policy-in-another-teams-namespace": Case(
        _add(Coordinates("prod", "payments", "prod"),
             _policy("checkout-prod", "allow-payments", policyTypes=["Ingress"], ingress=[
                 {"from": [{"namespaceSelector": {"matchExpressions": [
                     {"key": "kubernetes.io/metadata.name", "operator": "In",
                      "values": ["payments-prod"]}]}}]}])),
        ["[coordinates] prod/NetworkPolicy checkout-prod/allow-payments: has team payments's "
         f"coordinates, but namespace 'checkout-prod' is not one of its namespaces "
         f"{TEAM_NAMESPACES}",
         "[network-selectors] prod/NetworkPolicy checkout-prod/allow-payments: allows "
         "namespaces the spec does not name: payments-prod"]),
    # --- service accounts -------------------------------------------------------------------
    "service-account-automount": edit(
        "ServiceAccount", "payments-prod", "ledger", _set("automountServiceAccountToken", True),
        ["[service-accounts] prod/ServiceAccount payments-prod/ledger: tenant service accounts "
         "must set automountServiceAccountToken: false"]),
    "platform-service-account-with-a-token": Case(
        _add(Coordinates("prod"), {"apiVersion": "v1", "kind": "ServiceAccount",
                                   "metadata": {"name": "robot", "namespace": "monitoring"}}),
        ["[coordinates] prod/ServiceAccount monitoring/robot: has platform-owned coordinates, "
         "but goldenpath renders no platform-owned ServiceAccount in namespace monitoring",
         "[service-accounts] prod/ServiceAccount monitoring/robot: tenant service accounts "
         "must set automountServiceAccountToken: false"]),
    # --- literal credentials ----------------------------------------------------------------
    "alertmanager-slack-url-literal": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        _set(f"{SLACK}/apiURL", "https://hooks.slack.com/services/T0/B0/XXXX"),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].apiURL {LITERAL}"]),
    "alertmanager-slack-url-beside-the-reference": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        lambda b: b["spec"]["receivers"][0]["slackConfigs"][0]["apiURL"].update(
            {"value": "hunter2"}),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].apiURL is not a secret reference: only "
         "name, key and optional, found value"]),
    "alertmanager-basic-auth-password": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        _set(f"{SLACK}/httpConfig", {"basicAuth": {"password": "hunter2"}}),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].httpConfig.basicAuth.password {LITERAL}"]),
    "alertmanager-bearer-credentials": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        _set(f"{SLACK}/httpConfig", {"authorization": {"credentials": "abc"}}),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].httpConfig.authorization.credentials "
         f"{LITERAL}"]),
    "alertmanager-numeric-routing-key": edit(
        "AlertmanagerConfig", "payments-prod", "goldenpath-alerting",
        _set("spec/receivers/1/pagerdutyConfigs/0/routingKey", 123456789),
        ["[no-secrets] prod/AlertmanagerConfig payments-prod/goldenpath-alerting: "
         f"spec.receivers[1].pagerdutyConfigs[0].routingKey {LITERAL}"]),
    "alertmanager-password-in-a-list": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        _set(f"{SLACK}/httpConfig", {"basicAuth": {"password": ["hunter2"]}}),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].httpConfig.basicAuth.password {LITERAL}"]),
    "alertmanager-webhook-url": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        lambda b: b["spec"]["receivers"].append(
            {"name": "hook", "webhookConfigs": [{"url": "https://example.com/alerts"}]}),
        [f"{AMC}: spec.receivers[1].webhookConfigs[0].url holds a literal webhook URL, which "
         "is its own credential; use urlSecret"]),
    "alertmanager-proxy-with-password": edit(
        "AlertmanagerConfig", "payments-dev", "goldenpath-alerting",
        _set(f"{SLACK}/httpConfig", {"proxyURL": "http://ops:hunter2@proxy.example.com:3128"}),
        [f"{AMC}: spec.receivers[0].slackConfigs[0].httpConfig.proxyURL holds a URL with "
         "credentials (user information before '@')"]),
    "application-repo-url-with-a-token": edit(
        "Application", "argocd", "payments.ledger.dev",
        _set("spec/source/repoURL", "https://x-access-token:ghs_abc@git.example.com/p/l.git"),
        # a repository with credentials is not the team's repository either
        ["[argocd-applications] nonprod/Application argocd/payments.ledger.dev: source "
         "'https://x-access-token:ghs_abc@git.example.com/p/l.git' is not one of team "
         "payments's service repositories",
         "[no-secrets] nonprod/Application argocd/payments.ledger.dev: spec.source.repoURL "
         "holds a URL with credentials (user information before '@')"]),
    "annotation-url-with-a-token-query": edit(
        "Namespace", None, "payments-dev",
        _set(("metadata", "annotations", "goldenpath.dev/docs"),
             "https://wiki.example.com/page?access_token=abc123"),
        ["[no-secrets] nonprod/Namespace payments-dev: metadata.annotations.goldenpath.dev/docs "
         "holds a URL with a credential in its query"]),
    "annotation-cloud-key": edit(
        "ServiceAccount", "payments-dev", "ledger",
        _set("metadata/annotations", {"note": "AKIAABCDEFGHIJKLMNOP"}),
        ["[no-secrets] nonprod/ServiceAccount payments-dev/ledger: metadata.annotations.note "
         "holds a value in a credential format; use a secret reference"]),
    "configmap-password-key": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _set("data/db-password", "hunter2"),
        [f"{DASHBOARD}: data.db-password assigns 'db-password' a literal value; use a secret "
         "reference"]),
    "configmap-password-in-the-text": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _dashboard_json(lambda text: text.replace('{', '{"password": "hunter2", ', 1)),
        [f"{DASHBOARD}: {DASHBOARD_KEY} assigns 'password' a literal value; use a secret "
         "reference"]),
    "configmap-private-key": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _set("data/tls.key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE "
             "KEY-----\n"),
        [f"{DASHBOARD}: data.tls.key holds a value in a credential format; use a secret "
         "reference"]),
    "configmap-webhook-link": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _dashboard_json(lambda text: text.replace(
            '{', '{"link": "https://hooks.slack.com/services/T0/B0/XXXX", ', 1)),
        [f"{DASHBOARD}: {DASHBOARD_KEY} holds a webhook URL, which is its own credential; "
         "use a secret reference"]),
    "configmap-binary-data": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _set("binaryData", {"blob": "aHVudGVyMg=="}),
        [f"{DASHBOARD}: binaryData cannot be reviewed for credentials; goldenpath renders "
         "none"]),
    "secret-object": Case(
        _add(NONPROD, {"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "db", "namespace": "payments-dev"},
                       "stringData": {"password": "hunter2"}}),
        ["[coordinates] nonprod/Secret payments-dev/db: goldenpath renders no v1 Secret, so "
         "nothing says where it belongs; refused",
         "[no-secrets] nonprod/Secret payments-dev/db: Secret objects are never written to "
         "git; reference a Secret created out of band"]),
    "platform-secret": Case(
        _add(Coordinates("prod"), {"apiVersion": "v1", "kind": "Secret",
                                   "metadata": {"name": "grafana", "namespace": "monitoring"},
                                   "data": {"admin-password": "aHVudGVyMg=="}}),
        ["[coordinates] prod/Secret monitoring/grafana: goldenpath renders no v1 Secret, so "
         "nothing says where it belongs; refused",
         "[no-secrets] prod/Secret monitoring/grafana: Secret objects are never written to "
         "git; reference a Secret created out of band"]),
    # --- coordinates ------------------------------------------------------------------------
    "quota-written-to-another-environment": Case(
        lambda b: _recoordinate(b, ("ResourceQuota", "payments-prod", "quota", None), NONPROD),
        ["[coordinates] nonprod/ResourceQuota payments-prod/quota: is in team payments's "
         "namespace payments-prod, so its coordinates must be (cluster prod, team payments, "
         "environment prod, service None), not (cluster nonprod, team payments, environment "
         "dev, service None)",
         "[unique-names] nonprod/ResourceQuota payments-prod/quota: is written to "
         "tenants/payments/dev/resourcequota-quota.yaml, as is nonprod/ResourceQuota "
         "payments-dev/quota: two objects may not share a file of the repository"]),
    "namespace-on-a-cluster-without-its-environment": Case(
        lambda b: plus(b, NONPROD, _privileged_copy(b, "payments-prod")),
        ["[coordinates] nonprod/Namespace payments-prod: is in team payments's namespace "
         "payments-prod, so its coordinates must be (cluster prod, team payments, environment "
         "prod, service None), not (cluster nonprod, team payments, environment dev, service "
         "None)",
         *(f"[pod-security] nonprod/Namespace payments-prod: label {PSA}/{mode} is "
           "'privileged', the prod environment requires 'restricted'"
           for mode in ("enforce", "audit", "warn"))]),
    "tenant-namespace-as-a-platform-object": Case(
        lambda b: plus(without(b, "Namespace", None, "payments-prod"), Coordinates("prod"),
                       _privileged_copy(b, "payments-prod")),
        ["[coordinates] prod/Namespace payments-prod: has platform-owned coordinates, but "
         "goldenpath renders no platform-owned Namespace named payments-prod",
         *(f"[pod-security] prod/Namespace payments-prod: label {PSA}/{mode} is "
           "'privileged', the prod environment requires 'restricted'"
           for mode in ("enforce", "audit", "warn"))]),
    "workload-in-a-tenant-namespace": Case(
        _add(NONPROD, {"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": "miner", "namespace": "payments-dev"},
                       "spec": {"selector": {"matchLabels": {"app": "miner"}},
                                "template": {"metadata": {"labels": {"app": "miner"}},
                                             "spec": {"containers": [
                                                 {"name": "m", "image": "miner"}]}}}}),
        ["[coordinates] nonprod/Deployment payments-dev/miner: goldenpath renders no apps/v1 "
         "Deployment, so nothing says where it belongs; refused"]),
    "custom-resource-the-schema-guardrail-skips": Case(
        # schema validates only built-in kinds at run time; an ApplicationSet could
        # generate Applications in any project
        _add(Coordinates("nonprod", "payments"),
             {"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
              "metadata": {"name": "everything", "namespace": "argocd"},
              "spec": {"generators": [], "template": {}}}),
        ["[coordinates] nonprod/ApplicationSet argocd/everything: goldenpath renders no "
         "argoproj.io/v1alpha1 ApplicationSet, so nothing says where it belongs; refused"]),
    "unknown-cluster": Case(
        lambda b: _recoordinate(b, ("LimitRange", "payments-dev", "limits", None),
                                Coordinates("edge", "payments", "dev")),
        ["[coordinates] edge/LimitRange payments-dev/limits: coordinates name cluster 'edge', "
         "which the platform does not declare"]),
    "unknown-team": Case(
        lambda b: _recoordinate(b, ("LimitRange", "payments-dev", "limits", None),
                                Coordinates("nonprod", "ghost", "dev")),
        ["[coordinates] nonprod/LimitRange payments-dev/limits: coordinates name team "
         "'ghost', which is not one of the teams checked"]),
    "environment-the-team-is-not-in": Case(
        lambda b: _recoordinate(b, ("LimitRange", "data-platform-dev", "limits", None),
                                Coordinates("prod", "data-platform", "prod")),
        ["[coordinates] prod/LimitRange data-platform-dev/limits: coordinates name "
         "environment 'prod', which team data-platform is not in"]),
    "service-the-team-does-not-have": Case(
        lambda b: _recoordinate(b, ("ServiceAccount", "payments-dev", "ledger", None),
                                Coordinates("nonprod", "payments", "dev", "../../clusters")),
        ["[coordinates] nonprod/ServiceAccount payments-dev/ledger: coordinates name service "
         "'../../clusters', which team payments does not have"]),
    "namespaced-object-without-a-namespace": edit(
        "LimitRange", "payments-dev", "limits", _set("metadata/namespace", None),
        ["[coordinates] nonprod/LimitRange limits: has team payments's coordinates, but no "
         f"namespace is given, which is not one of its namespaces {TEAM_NAMESPACES}",
         "[limit-range] Namespace payments-dev: has no LimitRange for containers"]),
    "project-on-a-cluster-without-the-team": Case(
        lambda b: _recoordinate(b, ("AppProject", "argocd", "data-platform", "nonprod"),
                                Coordinates("prod", "data-platform")),
        ["[coordinates] prod/AppProject argocd/data-platform: has team data-platform's "
         "coordinates on cluster prod, which does not host any of its environments",
         # argocd-projects decides from the destinations, not the coordinates
         *(f"[argocd-projects] prod/AppProject argocd/data-platform: destination namespace "
           f"'data-platform-{env}' is not a tenant namespace on cluster prod"
           for env in ("dev", "staging")),
         # and the team's Applications on nonprod have lost their project
         *(f"[argocd-applications] nonprod/Application argocd/data-platform.ingest.{env}: "
           "project 'data-platform' is not a team project on cluster nonprod"
           for env in ("dev", "staging"))]),
    "application-on-a-cluster-without-its-environment": Case(
        lambda b: _recoordinate(b, ("Application", "argocd", "payments-dev-tenancy", None),
                                Coordinates("prod", "payments", "dev")),
        ["[coordinates] prod/Application argocd/payments-dev-tenancy: has team payments's "
         "coordinates on cluster prod, which does not host its environment dev",
         "[argocd-applications] prod/Application argocd/payments-dev-tenancy: project "
         "platform deploys to 'payments-dev', which is neither the Argo CD namespace nor a "
         "tenant namespace on cluster prod"]),
    "application-named-after-another-team": edit(
        "Application", "argocd", "payments-dev-tenancy",
        _set("metadata/name", "checkout-dev-tenancy"),
        ["[coordinates] nonprod/Application argocd/checkout-dev-tenancy: has team payments's "
         "coordinates (cluster nonprod, team payments, environment dev, service None), but "
         "goldenpath renders no Application in namespace argocd for them",
         # the second copy of checkout's Application is unique-names' to refuse
         "[unique-names] nonprod/Application argocd/checkout-dev-tenancy: is the same object "
         "as nonprod/Application argocd/checkout-dev-tenancy (group argoproj.io): two objects "
         "on one cluster may not share group, kind, namespace and name",
         "[unique-names] nonprod/Application argocd/checkout-dev-tenancy: is written to "
         "clusters/nonprod/applications/application-checkout-dev-tenancy.yaml, as is "
         "nonprod/Application argocd/checkout-dev-tenancy: two objects may not share a file "
         "of the repository"]),
    "dashboard-named-after-another-team": edit(
        "ConfigMap", "monitoring", "dashboard.payments.dev",
        _set("metadata/name", "dashboard.checkout.dev"),
        ["[coordinates] nonprod/ConfigMap monitoring/dashboard.checkout.dev: has team "
         "payments's coordinates (cluster nonprod, team payments, environment dev, service "
         "None), but goldenpath renders no ConfigMap in namespace monitoring for them",
         "[unique-names] nonprod/ConfigMap monitoring/dashboard.checkout.dev: is the same "
         "object as nonprod/ConfigMap monitoring/dashboard.checkout.dev (group core): two "
         "objects on one cluster may not share group, kind, namespace and name"]),
    "team-owned-stack-values": Case(
        lambda b: _recoordinate(
            b, ("ConfigMap", "monitoring", "goldenpath-kube-prometheus-stack-values", "nonprod"),
            NONPROD),
        ["[coordinates] nonprod/ConfigMap monitoring/goldenpath-kube-prometheus-stack-values: "
         "has team payments's coordinates (cluster nonprod, team payments, environment dev, "
         "service None), but goldenpath renders no ConfigMap in namespace monitoring for "
         "them"]),
    "admission-policy-of-another-name": Case(
        # edge-admission looks for goldenpath's policy by name; another is no object of ours
        lambda b: plus(b, Coordinates("prod"), _renamed(b, "ValidatingAdmissionPolicy",
                                                       "prod", "tenant-edge-extra")),
        ["[coordinates] prod/ValidatingAdmissionPolicy tenant-edge-extra: has platform-owned "
         "coordinates, but goldenpath renders no platform-owned ValidatingAdmissionPolicy "
         "named tenant-edge-extra"]),
    "platform-role-with-an-environment": Case(
        lambda b: _recoordinate(b, ("ClusterRole", None, "goldenpath-tenant-edit", "nonprod"),
                                Coordinates("nonprod", None, "dev")),
        ["[coordinates] nonprod/ClusterRole goldenpath-tenant-edit: platform-owned "
         "coordinates name no environment or service, found (cluster nonprod, team None, "
         "environment dev, service None)"]),
}


def _renamed(bundle: Bundle, kind: str, cluster: str, name: str) -> Body:
    [found] = [r for r in bundle.of_kind(kind) if r.coords.cluster == cluster]
    body = copy.deepcopy(found.body)
    body["metadata"]["name"] = name
    return body


def _privileged_copy(bundle: Bundle, name: str) -> Body:
    [namespace] = [r for r in bundle.of_kind("Namespace") if r.name == name]
    body = copy.deepcopy(namespace.body)
    for mode in ("enforce", "audit", "warn"):
        body["metadata"]["labels"][f"{PSA}/{mode}"] = "privileged"
    return body


def _matches(r: Resource, target: Target) -> bool:
    kind, namespace, name, cluster = target
    return (r.kind, r.namespace, r.name) == (kind, namespace, name) \
        and cluster in (None, r.coords.cluster)


def _recoordinate(bundle: Bundle, target: Target, coords: Coordinates) -> Bundle:
    hits = [r for r in bundle if _matches(r, target)]
    assert len(hits) == 1, target
    return Bundle.of([Resource(coords, r.body, r.concern) if _matches(r, target) else r
                      for r in bundle])


def _disguises(resource: Resource) -> dict[str, Coordinates]:
    """Coordinates that make the object look platform-owned, or another team's."""
    c = resource.coords
    other = "checkout" if c.team != "checkout" else "payments"
    return {"platform": Coordinates(c.cluster),
            "other-team": Coordinates(c.cluster, other, c.environment)}


@pytest.mark.parametrize("name", CASES)
def test_tamper_is_refused(example: Example, name: str) -> None:
    spec, bundle = example
    case = CASES[name]
    assert refused(spec, case.change(bundle)) == case.expected


DISGUISED = [(name, disguise) for name, case in CASES.items() if case.target is not None
             for disguise in ("platform", "other-team")]


@pytest.mark.parametrize(("name", "disguise"), DISGUISED)
def test_disguised_tamper_is_still_refused(example: Example, name: str, disguise: str) -> None:
    """The same tamper with the object's coordinates rewritten: what refused it still does
    (it decided from the object), and the coordinates guardrail refuses the rewrite."""
    spec, bundle = example
    case = CASES[name]
    assert case.target is not None
    tampered = case.change(bundle)
    # the tampered object may have moved (new name or namespace): find it by its body
    [before] = [r for r in bundle if _matches(r, case.target)]
    [after] = [r for r in tampered if r.coords == before.coords and r not in bundle]
    coords = _disguises(after)[disguise]
    disguised = Bundle.of([Resource(coords, r.body) if r is after else r for r in tampered])
    lines = refused(spec, disguised)
    kept = [line for line in case.expected if not line.startswith("[coordinates]")]
    assert [line for line in lines if line in kept] == kept
    # besides, the rewrite is refused on this object: by coordinates when they disagree
    # with the object; when they fit it (an object named after another team, given that
    # team's coordinates) it is a second copy of that team's object, and unique-names
    # refuses the duplicate. unique-names may also refuse this object written over the
    # other team's file of the same name, and the access guardrails may object to an Argo
    # CD object moved to another team, which is not this suite's.
    extra = [line for line in lines if line not in kept]
    mine = (f"[coordinates] {after.ref}: ", f"[unique-names] {after.ref}: ")
    assert [line for line in lines if line.startswith(mine)]
    assert all(line.startswith(mine[0]) for line in extra if line.startswith("[coordinates]"))
    assert all(after.ref in line for line in extra if line.startswith("[unique-names]"))
    assert all(line.startswith(("[coordinates]", "[unique-names]", "[argocd-", "[rbac-"))
               for line in extra)


def test_every_tamper_is_tried_disguised() -> None:
    """Only tampers that add or remove objects are left out of the disguised variants."""
    plain = [name for name, case in CASES.items() if case.target is None]
    assert len(DISGUISED) == 2 * (len(CASES) - len(plain))
    assert len(plain) < len(CASES) // 3


@pytest.mark.parametrize("name", ["psa-enforce-lowered", "quota-scoped", "dns-on-every-port",
                                  "service-account-automount", "alertmanager-webhook-url",
                                  "quota-written-to-another-environment"])
def test_tamper_is_refused_when_apply_checks_one_team(example: Example, name: str) -> None:
    spec, _ = example
    part = render_teams(spec, ["payments"])
    case = CASES[name]
    report = policy.check_teams(spec, ["payments"], case.change(part))
    assert [str(v) for v in report.violations] == case.expected


def test_an_object_of_a_team_not_rendered_is_refused(example: Example) -> None:
    """apply renders payments only: a checkout object in that Bundle would be written into
    checkout's files, which apply is not rewriting."""
    spec, full = example
    part = render_teams(spec, ["payments"])
    [stray] = [r for r in full if r.kind == "LimitRange" and r.namespace == "checkout-dev"]
    report = policy.check_teams(spec, ["payments"], Bundle.of([*part, stray]))
    assert [str(v) for v in report.violations] == [
        "[coordinates] nonprod/LimitRange checkout-dev/limits: coordinates name team "
        "'checkout', which is not one of the teams checked"
    ]


# --- the guardrails do not refuse what goldenpath renders -------------------------------


def test_a_generated_platform_passes(tmp_path: Path) -> None:
    """Every template, both alerting receivers, peers and CIDRs, over a dozen teams: no
    false positive (dashboards, stack values and PromQL included)."""
    spec = load_platform(generated_platform(tmp_path, 12))
    bundle = render(spec)
    assert policy.check(spec, bundle).violations == []
    some = ["team-0003", "team-0007"]
    assert policy.check_teams(spec, some, render_teams(spec, some)).violations == []


@pytest.mark.parametrize("text", [
    "Token service", "password-reset", "Secrets: see the runbook",
    "https://wiki.example.com/secrets?page=2", "secret: ${SLACK_URL}",
    "apiKey: {{ .Values.key }}", "password: ''", "token: false", "password:\n  name: x",
    "https://hooks.slack.com/", "ghost: 1",
])
def test_benign_text_is_not_a_credential(example: Example, text: str) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "Namespace", None, "payments-dev",
                    _set(("metadata", "annotations", "goldenpath.dev/note"), text))
    assert policy.check(spec, bundle).violations == []


def test_secret_fields_cover_the_alertmanager_crd() -> None:
    """Every SecretKeySelector of the AlertmanagerConfig CRD is a field the guardrail
    requires to be a reference, except the ones that hold no credential."""
    schema = crds.schema_of("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig")
    selectors = set(_selector_fields(schema))
    assert len(selectors) > 20
    assert selectors - SENSITIVE_FIELDS == {"configMap", "secret", "username"}


def _selector_fields(node: Any, name: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        props = node.get("properties") or {}
        if node.get("type") == "object" and "key" in props and set(props) <= SELECTOR_KEYS:
            yield name
            return
        for key, child in props.items():
            yield from _selector_fields(child, key)
        if "items" in node:
            yield from _selector_fields(node["items"], name)


def test_a_malformed_object_fails_the_check_without_a_traceback(example: Example) -> None:
    spec, bundle = example
    bundle = tamper(bundle, "NetworkPolicy", "payments-prod", "allow-from-ingress",
                    _set("spec/ingress", ["everyone"]))
    lines = refused(spec, bundle)
    assert lines[0].startswith("[schema] prod/NetworkPolicy payments-prod/allow-from-ingress: "
                               "spec.ingress.0: 'everyone' is not of type 'object'")
    assert lines[1:] == [
        "[network-selectors] Bundle: could not be checked, an object is malformed "
        "(AttributeError: 'str' object has no attribute 'get'); see the schema guardrail"]
