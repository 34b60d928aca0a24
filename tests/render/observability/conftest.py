"""Bundles the observability tests read: the example platform and a generated large one."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.render import Bundle, render
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM, generated_platform

#: Teams on the generated platform: enough that uid or name collisions would show.
GENERATED_TEAMS = 60


@pytest.fixture(scope="session")
def example_spec() -> PlatformSpec:
    return load_platform(EXAMPLE_PLATFORM)


@pytest.fixture(scope="session")
def generated_spec(tmp_path_factory: pytest.TempPathFactory) -> PlatformSpec:
    root: Path = tmp_path_factory.mktemp("generated")
    return load_platform(generated_platform(root, teams=GENERATED_TEAMS, services=4))


@pytest.fixture(scope="session", params=["example", "generated"])
def spec(request: pytest.FixtureRequest) -> PlatformSpec:
    """Each platform in turn, for tests that must hold on both."""
    return request.getfixturevalue(f"{request.param}_spec")  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def bundle(spec: PlatformSpec) -> Bundle:
    return render(spec)
