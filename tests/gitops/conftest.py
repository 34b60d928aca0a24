"""Real git for the gitops tests: bare remotes, clones and pushes in tmp_path."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from goldenpath.settings import Settings
from tests.factories import platform_doc, team_doc, write_platform


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    return path


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[[str], Settings]:
    """Settings of one applier (each has its own state directory, like another machine)."""
    def make(name: str = "a") -> Settings:
        return Settings(state_dir=tmp_path / f"state-{name}")
    return make


@pytest.fixture
def make_platform(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, teams: list[dict[str, Any]]) -> Path:
        return write_platform(tmp_path / name, platform_doc(), teams)
    return make


def files_of(remote: Path, ref: str = "main") -> dict[str, bytes]:
    names = git("ls-tree", "-r", "--name-only", ref, cwd=remote).split()
    return {n: subprocess.run(["git", "show", f"{ref}:{n}"], cwd=remote, check=True,
                              capture_output=True).stdout for n in names}


def commits(remote: Path, ref: str = "main") -> list[str]:
    try:
        return git("rev-list", ref, cwd=remote).split()
    except subprocess.CalledProcessError:
        return []


def teams(*names: str, **overrides: Any) -> list[dict[str, Any]]:
    return [team_doc(name, **overrides.get(name, {})) for name in names]
