"""The example platform, loaded and rendered once per test session worker."""

from __future__ import annotations

import pytest

from goldenpath.render import Bundle, render
from goldenpath.spec import PlatformSpec, load_platform
from tests.factories import EXAMPLE_PLATFORM


@pytest.fixture(scope="session")
def example() -> tuple[PlatformSpec, Bundle]:
    spec = load_platform(EXAMPLE_PLATFORM)
    return spec, render(spec)
