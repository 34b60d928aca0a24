"""Helpers for the spec tests: write a platform, load it, return the issue lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from goldenpath.errors import SpecError
from goldenpath.spec import load_platform
from tests.factories import write_platform

DNS_LABEL = (
    "is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending "
    "with a letter or digit, at most 63 characters)"
)
QUANTITY = "is not a Kubernetes quantity (for example 500m, 2, 8Gi)"
SUBJECT = "is not a subject: use user:<name>, group:<name> or serviceaccount:<namespace>/<name>"
CIDR = "is not a CIDR with its host bits zero (for example 10.20.0.0/16)"
UNKNOWN_FIELD = "is not a known field (check the spelling against the spec reference)"


def spec_error(root: Path, platform: dict[str, Any], teams: list[dict[str, Any]]) -> SpecError:
    write_platform(root, platform, teams)
    with pytest.raises(SpecError) as info:
        load_platform(root)
    return info.value


def issue_lines(root: Path, platform: dict[str, Any], teams: list[dict[str, Any]]) -> list[str]:
    """Every issue as ``str(SpecIssue)``, file paths shown relative to ``root``."""
    error = spec_error(root, platform, teams)
    return [str(issue).replace(f"{root}/", "", 1) for issue in error.issues]


def service(**fields: Any) -> dict[str, Any]:
    return {"name": "api", "template": "python-service", **fields}
