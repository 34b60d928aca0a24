"""Spec layer: the Platform and Team models, their loader and the derived facts."""

from goldenpath.spec.loader import load_platform, parse_team
from goldenpath.spec.models import Platform, Team
from goldenpath.spec.resolve import PlatformSpec, ResolvedQuota, namespace_name

__all__ = [
    "Platform",
    "PlatformSpec",
    "ResolvedQuota",
    "Team",
    "load_platform",
    "namespace_name",
    "parse_team",
]
