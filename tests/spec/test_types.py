"""Every pattern-checked spec type matches the whole value: ``$`` also matches before a
trailing newline, so ``"payments\\n"`` passed ``^[a-z0-9]...$``. Each type is attacked
with a value that is valid but for a trailing newline, through the loader, and the
newline is shown escaped in the one-line error."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from goldenpath.spec.types import is_dns_label
from tests.factories import platform_doc, team_doc
from tests.spec.support import DNS_LABEL, SUBJECT, issue_lines, service

SUBDOMAIN = "is not a DNS-1123 subdomain (for example web.example.com)"
LABEL_VALUE = ("is not a valid Kubernetes label value (at most 63 characters of letters, "
               "digits, '-', '_' and '.', starting and ending with a letter or digit)")
SLACK = 'is not a Slack channel such as "#team-alerts" (lower-case, starting with #)'
SECRET_KEY = "is not a Secret data key (letters, digits, '-', '_' and '.')"
SLACK_REF = {"name": "slack", "key": "url"}

# (case, team spec fields, path, shown value, message)
TEAM_CASES: list[tuple[str, dict[str, Any], str, str, str]] = [
    ("dns-label", {"environments": ["dev\n"], "services": []}, "spec.environments[0]",
     "dev", DNS_LABEL),
    ("subdomain", {"services": [service(ingress={"host": "shop.example.com\n"})]},
     "spec.services[0].ingress.host", "shop.example.com", SUBDOMAIN),
    ("secret-ref-name", {"alerting": {"slack": {"channel": "#a",
                                                "secretRef": {"name": "slack\n", "key": "u"}}}},
     "spec.alerting.slack.secretRef.name", "slack", SUBDOMAIN),
    ("label-value", {"costCenter": "CC-1\n"}, "spec.costCenter", "CC-1", LABEL_VALUE),
    ("subject-user", {"owners": ["user:alice\n"]}, "spec.owners[0]", "user:alice", SUBJECT),
    ("subject-group", {"members": ["group:devs\n"]}, "spec.members[0]", "group:devs", SUBJECT),
    ("subject-serviceaccount", {"viewers": ["serviceaccount:ci/deployer\n"]},
     "spec.viewers[0]", "serviceaccount:ci/deployer", SUBJECT),
    ("subject-serviceaccount-namespace", {"viewers": ["serviceaccount:ci\n/deployer"]},
     "spec.viewers[0]", "serviceaccount:ci\\n/deployer", SUBJECT),
    ("slack-channel", {"alerting": {"slack": {"channel": "#alerts\n", "secretRef": SLACK_REF}}},
     "spec.alerting.slack.channel", "#alerts", SLACK),
    ("secret-key", {"alerting": {"slack": {"channel": "#a",
                                           "secretRef": {"name": "s", "key": "url\n"}}}},
     "spec.alerting.slack.secretRef.key", "url", SECRET_KEY),
    ("service-name", {"services": [service(name="api\n")]}, "spec.services[0].name", "api",
     DNS_LABEL),
]


@pytest.mark.parametrize(("spec", "path", "shown", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in TEAM_CASES])
def test_a_trailing_newline_is_refused_in_team_fields(
        tmp_path: Path, spec: dict[str, Any], path: str, shown: str, message: str) -> None:
    shown = shown if "\\n" in shown else shown + "\\n"
    assert issue_lines(tmp_path, platform_doc(), [team_doc("alpha", **spec)]) == [
        f'teams/alpha.yaml: {path}: "{shown}": {message}']


def test_a_trailing_newline_is_refused_in_the_team_name(tmp_path: Path) -> None:
    team = team_doc("alpha")
    team["metadata"]["name"] = "alpha\n"  # written to "alpha\n.yaml": the name matches
    assert issue_lines(tmp_path, platform_doc(), [team]) == [
        f'teams/alpha\\n.yaml: metadata.name: "alpha\\n": {DNS_LABEL}']


def _platform(path: list[str | int], value: str) -> dict[str, Any]:
    doc = copy.deepcopy(platform_doc())
    node: Any = doc["spec"]
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[path[-1]] = value
    return doc


PLATFORM_CASES: list[tuple[str, list[str | int], str, str]] = [
    ("kubernetes-version", ["kubernetesVersion"], "1.31\n",
     'is not a Kubernetes minor version such as "1.31"'),
    ("kubernetes-version-unicode-digits", ["kubernetesVersion"], "1.\u0663\u0661",
     'is not a Kubernetes minor version such as "1.31"'),
    ("https-url", ["clusters", 0, "server"], "https://nonprod.example.com\n",
     "is not an https:// URL"),
    ("runbook-url", ["observability", "runbookBaseURL"], "https://runbooks.example.com\n",
     "is not an http(s):// URL without a trailing slash"),
    ("runbook-url-slash", ["observability", "runbookBaseURL"], "https://runbooks.example.com/",
     "is not an http(s):// URL without a trailing slash"),
    ("namespace", ["argocd", "namespace"], "argocd\n", DNS_LABEL),
]


@pytest.mark.parametrize(("path", "value", "message"),
                         [pytest.param(*case[1:], id=case[0]) for case in PLATFORM_CASES])
def test_a_trailing_newline_is_refused_in_platform_fields(
        tmp_path: Path, path: list[str | int], value: str, message: str) -> None:
    lines = issue_lines(tmp_path, _platform(path, value), [])
    dotted = "spec." + ".".join(p if isinstance(p, str) else f"[{p}]" for p in path)
    dotted = dotted.replace(".[", "[")
    shown = value.replace("\n", "\\n")
    assert lines == [f'platform.yaml: {dotted}: "{shown}": {message}']


def test_the_runbook_url_still_takes_plain_urls(tmp_path: Path) -> None:
    from goldenpath.spec import load_platform
    from tests.factories import team_doc, write_platform
    root = write_platform(tmp_path, _platform(["observability", "runbookBaseURL"],
                                              "http://runbooks.internal/gp"), [team_doc("alpha")])
    assert load_platform(root).platform.spec.observability.runbook_base_url \
        == "http://runbooks.internal/gp"


@pytest.mark.parametrize("value", ["payments\n", "payments\r\n", "\npayments", "pay\nments"])
def test_is_dns_label_matches_the_whole_value(value: str) -> None:
    assert is_dns_label("payments")
    assert not is_dns_label(value)
