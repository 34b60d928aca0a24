"""Production's settings against an unseeded control repository: the API falls back to
the platform directory while the repository holds no specs, and the image carries the
example platform (for embedded mode). With the image's path the example's teams would be
served (and its admins trusted); with production's path the request fails, naming what
is missing and how to fix it, and serves nothing of the example."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from goldenpath.settings import Settings
from tests.deploy.conftest import Objects, one
from tests.factories import EXAMPLE_PLATFORM

ADMIN = "a" * 40


def _config(built: dict[str, Objects]) -> dict[str, str]:
    data: dict[str, str] = one(built["production"], "ConfigMap")["data"]
    return data


def _settings(built: dict[str, Objects], root: Path, platform_dir: Path) -> Settings:
    """Production's settings, the pod's state directory moved to root/state."""
    remote = root / "gitops.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    return Settings(state_dir=root / "state", gitops_repo=str(remote), admin_token=ADMIN,
                    platform_dir=platform_dir,
                    service_repos=_config(built)["GOLDENPATH_SERVICE_REPOS"])


@pytest.fixture
def image_platform(tmp_path: Path) -> Iterator[Path]:
    """The example platform where the image has it (/app/platform), under tmp_path."""
    path = tmp_path / "app" / "platform"
    shutil.copytree(EXAMPLE_PLATFORM, path)
    yield path


def _catalog(settings: Settings) -> Any:
    with TestClient(create_app(settings, bootstrap=True)) as client:
        return client.get("/v1/catalog/entities", headers={"Authorization": f"Bearer {ADMIN}"})


def test_the_image_path_would_serve_the_example(built: dict[str, Objects], tmp_path: Path,
                                                image_platform: Path) -> None:
    answer = _catalog(_settings(built, tmp_path, image_platform))
    assert answer.status_code == 200
    assert "payments" in answer.text


@pytest.mark.usefixtures("image_platform")  # the example is there, where the image has it
def test_production_serves_nothing_before_the_repository_is_seeded(
        built: dict[str, Objects], tmp_path: Path) -> None:
    config = _config(built)
    # the pod's path, under the state directory moved as _settings moves it
    inside = Path(config["GOLDENPATH_PLATFORM_DIR"]).relative_to(config["GOLDENPATH_STATE_DIR"])
    settings = _settings(built, tmp_path, tmp_path / "state" / inside)
    answer = _catalog(settings)
    assert answer.status_code == 422
    assert f"{settings.platform_dir}/platform.yaml: platform file not found" in answer.text
    assert "payments" not in answer.text
