"""``stacks/__main__.py`` as Pulumi runs it: stack configuration in, one cluster out."""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from typing import Any

import pulumi
import pulumi.runtime.config as pulumi_config
import pytest
import yaml

from goldenpath.services.platform import load_and_check
from goldenpath_stack.config import from_pulumi
from tests.factories import EXAMPLE_PLATFORM
from tests.stacks.conftest import STACKS_DIR, RecordingMonitor
from tests.stacks.helpers import registered_bodies, settled


@pytest.fixture
def stack_config(monitor: RecordingMonitor) -> Iterator[Any]:
    """Set ``goldenpath:*`` keys as `pulumi config set` would; undone after the test."""
    saved = dict(pulumi_config.CONFIG.get())
    pulumi_config.set_all_config({})

    def set_config(**values: Any) -> None:
        for key, value in values.items():
            text = value if isinstance(value, str) else json.dumps(value)
            pulumi_config.set_config(f"goldenpath:{key}", text)

    yield set_config
    pulumi_config.set_all_config(saved)


def _stack_file(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((STACKS_DIR / f"Pulumi.{stack}.yaml").read_text())
    return {k.removeprefix("goldenpath:"): v for k, v in doc["config"].items()}


@pytest.mark.parametrize("stack", ["nonprod", "prod"])
@pulumi.runtime.test
def test_main_provisions_the_cluster_its_stack_file_names(
    monitor: RecordingMonitor, stack_config: Any, stack: str
) -> Any:
    stack_config(**_stack_file(stack))
    program = runpy.run_path(str(STACKS_DIR / "__main__.py"), run_name="__main__")
    expected = load_and_check(EXAMPLE_PLATFORM).bundle.for_cluster(stack)

    def check(_: object) -> None:
        assert len(registered_bodies(monitor)) == len(expected)
        provider = monitor.of_type("pulumi:providers:kubernetes")
        assert [p.inputs.get("context") for p in provider] == [stack]

    return settled(program["stack"]).apply(check)


def test_example_stack_files_name_the_example_clusters() -> None:
    clusters = load_and_check(EXAMPLE_PLATFORM).bundle.clusters()
    assert sorted(_stack_file(s)["cluster"] for s in ("nonprod", "prod")) == clusters
    assert _stack_file("prod")["protectedEnvironments"] == ["prod"]


def test_config_defaults(stack_config: Any) -> None:
    stack_config(cluster="prod")
    config = from_pulumi(STACKS_DIR)
    assert config.platform_dir.resolve() == EXAMPLE_PLATFORM
    assert config.protected_environments is None  # the platform's protected environments
    assert config.protected(load_and_check(EXAMPLE_PLATFORM).spec) == frozenset({"prod"})
    assert config.kube_context is None
    assert config.kubeconfig is None


def test_config_requires_a_cluster(stack_config: Any) -> None:
    with pytest.raises(pulumi.ConfigMissingError, match="goldenpath:cluster"):
        from_pulumi(STACKS_DIR)


def test_config_rejects_protected_environments_that_are_not_a_list(stack_config: Any) -> None:
    stack_config(cluster="prod", protectedEnvironments={"prod": True})
    with pytest.raises(pulumi.RunError, match="must be a list"):
        from_pulumi(STACKS_DIR)
