"""No secret values in git: no Secret objects, and secret-bearing fields only as references."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from goldenpath.policy.report import Findings
from goldenpath.render.bundle import Bundle
from goldenpath.spec.resolve import PlatformSpec

#: Fields that carry credentials in the kinds goldenpath renders; each must be a reference.
SENSITIVE_FIELDS = frozenset(
    {
        "apiURL",
        "routingKey",
        "serviceKey",
        "password",
        "token",
        "bearerToken",
        "webhookURL",
    }
)


def check(spec: PlatformSpec, bundle: Bundle, findings: Findings) -> None:
    for resource in bundle:
        findings.cover()
        if resource.kind == "Secret":
            findings.fail(
                resource,
                "Secret objects are never written to git; reference a Secret created out of band",
            )
            continue
        if not _has_literal_secret(resource.body):
            continue
        for path in _literal_secrets(resource.body, ""):
            findings.fail(resource, f"{path} holds a literal value; use a secret reference")


def _has_literal_secret(node: Any) -> bool:
    """Does any sensitive field hold a literal? (Without naming it: naming every field on
    the way was most of what this guardrail cost on objects listing 1,000 namespaces.)"""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, str):
            if key in SENSITIVE_FIELDS:
                return True
        elif isinstance(value, dict | list) and _has_literal_secret(value):
            return True
    return False


def _literal_secrets(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if key in SENSITIVE_FIELDS and isinstance(value, str):
                yield here
            else:
                yield from _literal_secrets(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _literal_secrets(item, f"{path}[{i}]")
