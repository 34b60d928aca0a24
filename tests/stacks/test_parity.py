"""Parity: the Pulumi program registers exactly the Bundle's objects, body for body.

Expectations come from ``load_and_check`` (what the GitOps path writes), so the test
keeps holding, unchanged, as renderers add concerns to the Bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from goldenpath.render import Bundle
from goldenpath.services.platform import load_and_check
from goldenpath_stack.config import StackConfig
from goldenpath_stack.program import build
from tests.factories import EXAMPLE_PLATFORM, generated_platform
from tests.stacks.conftest import RecordingMonitor
from tests.stacks.helpers import assert_parity, settled


def _check_cluster(monitor: RecordingMonitor, platform: Path, cluster: str) -> Any:
    expected = load_and_check(platform).bundle.for_cluster(cluster)
    assert len(expected) > 0
    stack = build(StackConfig(platform_dir=platform, cluster=cluster))
    return settled(stack).apply(lambda _: assert_parity(monitor, expected))


@pytest.mark.parametrize("cluster", ["nonprod", "prod"])
@pulumi.runtime.test
def test_example_platform(monitor: RecordingMonitor, cluster: str) -> Any:
    return _check_cluster(monitor, EXAMPLE_PLATFORM, cluster)


@pytest.mark.parametrize("cluster", ["nonprod", "prod"])
@pulumi.runtime.test
def test_generated_50_team_platform(monitor: RecordingMonitor, tmp_path: Path,
                                    cluster: str) -> Any:
    return _check_cluster(monitor, generated_platform(tmp_path, teams=50), cluster)


def test_every_cluster_of_the_example_is_covered() -> None:
    # The parametrisation above must follow the example platform's clusters.
    assert load_and_check(EXAMPLE_PLATFORM).bundle.clusters() == ["nonprod", "prod"]


@pulumi.runtime.test
def test_parity_fails_when_an_object_differs(monitor: RecordingMonitor) -> Any:
    # The check itself must be able to fail: one changed label is caught.
    bundle = load_and_check(EXAMPLE_PLATFORM).bundle.for_cluster("prod")
    first, *rest = bundle.resources
    changed = {**first.body, "metadata": {**first.body["metadata"], "labels": {"x": "y"}}}
    tampered = Bundle((type(first)(first.coords, changed, first.concern), *rest))
    stack = build(StackConfig(platform_dir=EXAMPLE_PLATFORM, cluster="prod"))

    def check(_: object) -> None:
        with pytest.raises(AssertionError, match="differs from the Bundle"):
            assert_parity(monitor, tampered)

    return settled(stack).apply(check)
