"""The Pulumi project files and the CI example agree with each other and with the code."""

from __future__ import annotations

from typing import Any

import yaml

from goldenpath_stack.config import NAMESPACE
from tests.stacks.conftest import STACKS_DIR


def _yaml(name: str) -> Any:
    return yaml.safe_load((STACKS_DIR / name).read_text())


def test_project_runs_python_in_the_repository_virtualenv() -> None:
    project = _yaml("Pulumi.yaml")
    assert project["name"] == NAMESPACE  # so `goldenpath:*` keys are project config
    assert project["runtime"]["name"] == "python"
    assert (STACKS_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == (
        STACKS_DIR.parent / ".venv"
    )
    assert (STACKS_DIR / "__main__.py").is_file()


def test_ci_example_previews_pull_requests_and_updates_main_for_every_stack() -> None:
    workflow = _yaml("ci/pulumi.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    assert "pull_request" in triggers
    job = workflow["jobs"]["pulumi"]
    stacks = sorted(p.name.split(".")[1] for p in STACKS_DIR.glob("Pulumi.*.yaml"))
    assert sorted(job["strategy"]["matrix"]["stack"]) == stacks
    pulumi_step = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions"))
    assert pulumi_step["with"]["work-dir"] == "stacks"
    assert pulumi_step["with"]["command"] == (
        "${{ github.event_name == 'push' && 'up' || 'preview' }}"
    )
