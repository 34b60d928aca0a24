"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath.settings import get_settings
from tests.factories import platform_doc, team_doc, write_platform


@pytest.fixture(autouse=True)
def _own_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No CLI test reads or writes the state directory of the checkout it runs in (a
    developer's ``make run`` leaves one: its spec cache and guardrail verdicts would
    change what ``validate`` checks)."""
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "own-state"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory holding only ``platform/``, with the default settings."""
    for name in [n for n in os.environ if n.startswith("GOLDENPATH_")]:
        if name != "GOLDENPATH_CRD_DIR":
            monkeypatch.delenv(name)
    write_platform(tmp_path / "platform", platform_doc(), [team_doc("alpha")])
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
