"""``plan`` and ``validate`` warn where a service repository lags the spec: an Application
that would sync an overlay the repository lacks (a team that gains an environment), a
latency SLO whose bucket the service does not export. Real scaffolding, real git (the
embedded bare repositories, and a bare remote reached by URL), real plan and validate."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import git
import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.scaffold import RECORD_PATH
from goldenpath.services import gitops, scaffold, servicerepos
from goldenpath.services.platform import validate_all
from goldenpath.settings import Settings, get_settings
from goldenpath.spec import load_platform
from tests.scaffold.helpers import (
    Workspace,
    edit_service,
    edit_team,
    make_workspace,
    push_local_edit,
)

GAINED = ("payments/web: Application payments.web.prod would sync deploy/overlays/prod, which "
          "the service repository does not have at HEAD: run `goldenpath update-service "
          "--team payments --name web` and merge its branch")
LATENCY = ('payments/web: the latency SLO (latencyP99Ms 300) reads the le="0.3" bucket, which '
           "the service does not export (it was rendered without that threshold), so the SLO "
           "cannot fire: run `goldenpath update-service --team payments --name web` and merge "
           "its branch")


def _two_environments(spec: dict[str, object]) -> None:
    spec["environments"] = ["dev", "staging"]
    spec["services"] = []


def _gain_prod(spec: dict[str, object]) -> None:
    spec["environments"] = ["dev", "staging", "prod"]


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """payments in dev and staging, with one service scaffolded: web."""
    ws = make_workspace(tmp_path / "ws")
    edit_team(ws, _two_environments)
    scaffold.new_service(ws.settings, "payments", "web", "python-service", {})
    return ws


def _gitops(tmp_path: Path, name: str = "gitops") -> Path:
    """The control repository plan compares with: a bare remote, empty."""
    path = tmp_path / f"{name}.git"
    git.Repo.init(path, bare=True, initial_branch="main")
    return path


def _plan(ws: Workspace, remote: Path, settings: Settings | None = None) -> list[str]:
    return gitops.plan(ws.settings.platform_dir, str(remote),
                       settings=settings or ws.settings).warnings


def _service_warnings(warnings: list[str]) -> list[str]:
    return [w for w in warnings if w.startswith("payments/web:")]


def _merge_update(ws: Workspace, tmp_path: Path) -> None:
    """What the team does with update-service's branch: merge it into main."""
    result = scaffold.update_service(ws.settings, "payments", "web")
    assert result.status == "updated" and result.branch
    url = scaffold.repository_target(ws.settings, load_platform(ws.settings.platform_dir),
                                     "payments", "web").url
    work = git.Repo.clone_from(url, tmp_path / "merge")
    work.git.merge("--quiet", f"origin/{result.branch}")
    work.git.push("--quiet", "origin", "main")


def test_a_team_that_gains_an_environment_is_warned_until_its_service_follows(
        workspace: Workspace, tmp_path: Path) -> None:
    remote = _gitops(tmp_path)
    assert _service_warnings(_plan(workspace, remote)) == []
    edit_team(workspace, _gain_prod)
    assert _service_warnings(_plan(workspace, remote)) == [GAINED]
    _merge_update(workspace, tmp_path)
    assert _service_warnings(_plan(workspace, remote)) == []


def test_a_latency_objective_the_service_does_not_export_is_warned(
        workspace: Workspace, tmp_path: Path) -> None:
    remote = _gitops(tmp_path)
    edit_service(workspace, "web", slo={"latencyP99Ms": 250})  # a default bucket: fine
    assert _service_warnings(_plan(workspace, remote)) == []
    edit_service(workspace, "web", slo={"latencyP99Ms": 300})
    assert _service_warnings(_plan(workspace, remote)) == [LATENCY]
    assert _service_warnings(validate_all(workspace.settings.platform_dir,
                                          workspace.settings).warnings) == [LATENCY]
    _merge_update(workspace, tmp_path)
    assert _service_warnings(_plan(workspace, remote)) == []
    assert validate_all(workspace.settings.platform_dir, workspace.settings).warnings == []


def test_a_repository_that_cannot_be_read_is_said_and_never_fails_the_plan(
        workspace: Workspace, tmp_path: Path) -> None:
    """ledger is in the spec but was never made here; in platform mode, web's URL
    is not reachable."""
    def add_ledger(spec: dict[str, object]) -> None:
        spec["services"] = [*spec["services"],  # type: ignore[misc]
                            {"name": "ledger", "template": "python-service"}]
    edit_team(workspace, add_ledger)
    bare = workspace.settings.state_dir.resolve() / "repos/payments/ledger.git"
    assert _plan(workspace, _gitops(tmp_path)) == [
        "service repositories not checked (goldenpath cannot read them): payments/ledger "
        f"(not made by new-service here: no {bare})"]
    doc = workspace.settings.platform_dir / "platform.yaml"
    doc.write_text(doc.read_text().replace("https://git.example.com/{team}/{service}.git",
                                           f"{tmp_path}/gone/{{team}}/{{service}}.git"))
    remote = workspace.settings.model_copy(update={"service_repos": "platform"})
    (warning,) = _plan(workspace, _gitops(tmp_path, "gitops2"), remote)
    gone = ("(cannot fetch the service repository: '{}' does not appear to be a git "
            "repository; Could not read from remote repository.)")
    assert warning == (
        "service repositories not checked (goldenpath cannot read them): payments/ledger "
        + gone.format(tmp_path / "gone/payments/ledger.git") + "; payments/web "
        + gone.format(tmp_path / "gone/payments/web.git"))


def test_a_record_that_cannot_be_read_is_said_for_a_non_default_bucket(
        workspace: Workspace, tmp_path: Path) -> None:
    url = str(workspace.settings.state_dir / "repos/payments/web.git")
    push_local_edit(url, tmp_path / "tenant", RECORD_PATH, "not json", append=False)
    edit_service(workspace, "web", slo={"latencyP99Ms": 300})
    assert _service_warnings(_plan(workspace, _gitops(tmp_path))) == [
        'payments/web: the latency SLO reads the le="0.3" bucket, not one of the default '
        "buckets, and whether the service exports it cannot be told (.goldenpath/template.json "
        "is not UTF-8 JSON: Expecting value at line 1 column 1); a service that does not "
        "export it never alerts"]


def test_a_remote_service_repository_is_read_by_url(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    remotes = tmp_path / "remotes"
    git.Repo.init(remotes / "payments" / "web.git", bare=True, initial_branch="main")
    ws = make_workspace(tmp_path / "ws", service_repos="platform")
    doc = ws.settings.platform_dir / "platform.yaml"
    doc.write_text(doc.read_text().replace("https://git.example.com/{team}/{service}.git",
                                           f"{remotes}/{{team}}/{{service}}.git"))
    edit_team(ws, _two_environments)
    scaffold.new_service(ws.settings, "payments", "web", "python-service", {})
    edit_team(ws, _gain_prod)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert _service_warnings(_plan(ws, _gitops(tmp_path))) == [GAINED]
    assert list(scratch.iterdir()) == []  # the fetched copy is gone


def test_cli_plan_and_validate_print_the_warnings(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    edit_team(workspace, _gain_prod)
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(workspace.settings.state_dir))
    monkeypatch.setenv("GOLDENPATH_GITOPS_REPO", str(_gitops(tmp_path)))
    platform = str(workspace.settings.platform_dir)
    get_settings.cache_clear()
    try:
        plan = CliRunner().invoke(app, ["plan", "--platform", platform, "--no-diff"])
        valid = CliRunner().invoke(app, ["validate", "--platform", platform])
    finally:
        get_settings.cache_clear()
    assert plan.exit_code == 2 and valid.exit_code == 0, plan.output + valid.output
    for output in (plan.output, valid.output):
        assert f"warning: {GAINED}" in re.sub(r"\s+", " ", output)


def test_the_repositories_read_in_one_run_are_bounded(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scaffold.new_service(workspace.settings, "payments", "api", "python-service", {})
    edit_team(workspace, _gain_prod)
    monkeypatch.setattr(servicerepos, "MAX_REPOSITORIES", 1)
    assert _plan(workspace, _gitops(tmp_path)) == [
        GAINED.replace("web", "api"),
        "service repositories not checked (goldenpath cannot read them): payments/web "
        "(over 1 repositories in one run)"]
