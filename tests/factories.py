"""Build platform directories from dicts, for tests and benchmarks.

``platform_doc()`` and ``team_doc()`` return valid spec documents that tests mutate to
break one rule at a time; ``write_platform()`` writes a directory ``load_platform`` reads;
``generated_platform()`` makes a large synthetic platform (benchmarks, parity tests).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE_PLATFORM = ROOT / "platform"


def platform_doc(**spec_overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "goldenpath.dev/v1alpha1",
        "kind": "Platform",
        "metadata": {"name": "test"},
        "spec": {
            "kubernetesVersion": "1.31",
            "admins": ["group:platform-admins"],
            "gitops": {"repoURL": "https://git.example.com/platform/gitops.git"},
            "serviceRepos": {"urlTemplate": "https://git.example.com/{team}/{service}.git"},
            "clusters": [
                {
                    "name": "nonprod",
                    "server": "https://nonprod.example.com",
                    "environments": ["dev", "staging"],
                },
                {
                    "name": "prod",
                    "server": "https://kubernetes.default.svc",
                    "environments": ["prod"],
                },
            ],
            "environments": [
                {"name": "dev", "podSecurity": "baseline"},
                {
                    "name": "staging",
                    "podSecurity": "restricted",
                    "access": {"owners": "edit", "members": "view", "viewers": "view"},
                },
                {
                    "name": "prod",
                    "podSecurity": "restricted",
                    "access": {"owners": "view", "members": "view", "viewers": "view"},
                },
            ],
            "templates": [
                {"name": "python-service", "path": "templates/python-service"},
                {"name": "python-worker", "path": "templates/python-worker"},
            ],
            # teams' egressCIDRs must lie in an allowed range; none are allowed by default
            "network": {"egressAllowedCIDRs": ["10.0.0.0/8"]},
        },
    }
    doc["spec"].update(copy.deepcopy(spec_overrides))
    return doc


def team_doc(name: str, **spec_overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "goldenpath.dev/v1alpha1",
        "kind": "Team",
        "metadata": {"name": name},
        "spec": {
            "displayName": name.title(),
            "costCenter": "CC-1",
            "owners": [f"group:{name}-owners"],
            "members": [f"group:{name}-devs"],
            "viewers": ["group:support"],
            "environments": ["dev", "staging", "prod"],
            # the SLO pages need a receiver in every environment (crossref._paging_issues)
            "alerting": {"slack": {"channel": "#team-alerts",
                                   "secretRef": {"name": "slack-webhook", "key": "url"}}},
            "services": [
                {
                    "name": "api",
                    "template": "python-service",
                    "port": 8080,
                    "replicas": {"dev": 1, "staging": 2, "prod": 3},
                    "slo": {"availability": "99.9", "latencyP99Ms": 300},
                },
            ],
        },
    }
    doc["spec"].update(copy.deepcopy(spec_overrides))
    return doc


def write_platform(root: Path, platform: dict[str, Any], teams: list[dict[str, Any]]) -> Path:
    """Write ``platform.yaml`` and ``teams/<name>.yaml`` under ``root``; return ``root``."""
    (root / "teams").mkdir(parents=True, exist_ok=True)
    (root / "platform.yaml").write_text(yaml.safe_dump(platform, sort_keys=False))
    for team in teams:
        path = root / "teams" / f"{team['metadata']['name']}.yaml"
        path.write_text(yaml.safe_dump(team, sort_keys=False))
    return root


def generated_platform(root: Path, teams: int, services: int = 4,
                       platform: dict[str, Any] | None = None) -> Path:
    """A synthetic platform of ``teams`` teams x 3 environments x ``services`` services
    (on ``platform``, by default ``platform_doc()``)."""
    docs = []
    for i in range(teams):
        name = f"team-{i:04d}"
        svc = [
            {
                "name": f"svc-{j}",
                "template": "python-service" if j % 2 == 0 else "python-worker",
                "replicas": {"dev": 1, "staging": 2, "prod": 3},
                "resources": {"cpu": "250m", "memory": "256Mi"},
                "slo": {"availability": "99.9", "latencyP99Ms": 250},
            }
            for j in range(services)
        ]
        peers = [f"team-{(i + 1) % teams:04d}"] if teams > 1 else []
        docs.append(
            team_doc(
                name,
                services=svc,
                network={"allowFromTeams": peers, "egressCIDRs": [f"10.{i % 250}.0.0/16"]},
                alerting={
                    "slack": {
                        "channel": f"#{name}-alerts",
                        "secretRef": {"name": "slack-webhook", "key": "url"},
                    }
                },
            )
        )
    return write_platform(root, platform or platform_doc(), docs)
