"""apply does not offboard by accident: an empty platform is refused, and an apply that
would remove more than MAX_OFFBOARDED_TEAMS teams, or any namespace of a protected
environment, needs --allow-offboarding, and says what it would remove.

Through the real CLI against real git repositories.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.services.gitops import MAX_OFFBOARDED_TEAMS
from goldenpath.settings import get_settings
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import commits, files_of

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, remote: Path) -> Iterator[Run]:
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()

    def invoke(command: str, platform: Path, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, [command, "--platform", str(platform), "--repo",
                                          str(remote), *args], terminal_width=400)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result.exit_code, " ".join(result.stdout.split()), " ".join(result.stderr.split())
    yield invoke
    get_settings.cache_clear()


def _platform(root: Path, names: list[str], team_envs: list[str] | None = None,
              platform: dict[str, Any] | None = None) -> Path:
    teams = [team_doc(n, environments=team_envs or ["dev", "staging", "prod"], services=[])
             for n in names]
    shutil.rmtree(root, ignore_errors=True)
    return write_platform(root, platform_doc(**(platform or {})), teams)


@pytest.mark.parametrize("how", ["empty-teams", "no-teams-directory"])
def test_an_empty_platform_offboards_nobody(run: Run, remote: Path, tmp_path: Path,
                                            how: str) -> None:
    root = _platform(tmp_path / "p", ["alpha", "beta"])
    assert run("apply", root)[0] == 0
    before = files_of(remote)
    for team in (root / "teams").iterdir():
        team.unlink()
    if how == "no-teams-directory":
        (root / "teams").rmdir()
    for command in ("validate", "plan", "apply"):
        code, _, stderr = run(command, root) if command != "validate" else _validate(root)
        assert code == 1, command
        assert (f"error: 1 spec error {root}/teams: no team files (teams/<team>.yaml); a "
                "platform needs at least one team") in stderr
    assert files_of(remote) == before


def _validate(root: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["validate", "--platform", str(root)], terminal_width=400)
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_offboarding_many_teams_at_once_needs_consent(run: Run, remote: Path,
                                                     tmp_path: Path) -> None:
    many = ["alpha", "beta", "gamma", "delta"]
    root = _platform(tmp_path / "p", many, ["dev"])
    assert run("apply", root)[0] == 0
    pushed = commits(remote)
    _platform(root, ["delta"], ["dev"])  # three files lost at once

    code, _, stderr = run("plan", root)
    assert code == 2
    assert ("warning: apply would remove 3 teams (alpha, beta, gamma); it will refuse unless "
            "given --allow-offboarding") in stderr
    code, _, stderr = run("apply", root)
    assert code == 1
    assert stderr == ("error: apply would remove 3 teams (alpha, beta, gamma); nothing was "
                      "pushed. Check the platform directory; if these removals are intended, "
                      "run apply with --allow-offboarding")
    assert commits(remote) == pushed

    code, stdout, _ = run("apply", root, "--allow-offboarding")
    assert code == 0, stdout
    assert not [p for p in files_of(remote) if p.startswith(("tenants/alpha/", "tenants/beta/"))]


def test_a_few_teams_without_production_go_without_consent(run: Run, remote: Path,
                                                          tmp_path: Path) -> None:
    names = ["alpha", "beta", "gamma"]
    root = _platform(tmp_path / "p", names, ["dev", "staging"])
    assert run("apply", root)[0] == 0
    _platform(root, names[MAX_OFFBOARDED_TEAMS:], ["dev", "staging"])
    code, stdout, stderr = run("apply", root)
    assert code == 0, stderr
    assert "pushed" in stdout
    assert not [p for p in files_of(remote) if p.startswith("tenants/alpha/")]


@pytest.mark.parametrize("change", ["offboard", "leave-prod", "environment-removed",
                                    "protected-staging"])
def test_a_protected_namespace_is_never_removed_without_consent(
    run: Run, remote: Path, tmp_path: Path, change: str
) -> None:
    protect_staging = {"environments": [
        {"name": "dev"}, {"name": "staging", "protected": True}, {"name": "prod"}]}
    first = protect_staging if change == "protected-staging" else None
    root = _platform(tmp_path / "p", ["alpha", "beta"], platform=first)
    code, _, stderr = run("apply", root)
    assert code == 0, stderr
    pushed = commits(remote)
    if change == "offboard":
        _platform(root, ["beta"])
        gone = "1 team (alpha) and the namespaces of protected environments alpha-prod"
    elif change == "leave-prod":
        _platform(root, ["alpha", "beta"], ["dev", "staging"])
        gone = "the namespaces of protected environments alpha-prod, beta-prod"
    elif change == "environment-removed":
        doc = platform_doc()
        doc["spec"]["environments"] = doc["spec"]["environments"][:1]
        doc["spec"]["environments"].append({"name": "live"})
        doc["spec"]["clusters"][0]["environments"] = ["dev"]
        doc["spec"]["clusters"][1]["environments"] = ["live"]
        shutil.rmtree(root)
        write_platform(root, doc, [team_doc(n, environments=["dev"], services=[])
                                   for n in ("alpha", "beta")])
        # environments the platform no longer has count as protected: whether they were
        # production cannot be told any more
        gone = ("the namespaces of protected environments alpha-prod, alpha-staging, "
                "beta-prod, beta-staging")
    else:
        _platform(root, ["alpha", "beta"], ["dev", "prod"], platform=protect_staging)
        gone = "the namespaces of protected environments alpha-staging, beta-staging"

    code, _, stderr = run("apply", root)
    assert code == 1
    assert stderr.startswith(f"error: apply would remove {gone}; nothing was pushed.")
    assert commits(remote) == pushed
    assert run("apply", root, "--allow-offboarding")[0] == 0


def test_an_environment_can_be_declared_unprotected(run: Run, remote: Path,
                                                   tmp_path: Path) -> None:
    unprotected = {"environments": [{"name": "dev"}, {"name": "staging"},
                                    {"name": "prod", "protected": False}]}
    root = _platform(tmp_path / "p", ["alpha", "beta"], platform=unprotected)
    assert run("apply", root)[0] == 0
    _platform(root, ["beta"], platform=unprotected)
    code, _, stderr = run("apply", root)
    assert code == 0, stderr
