"""update_service and the CLI: 3-way merges of template changes into a service's repository,
through real git, and ``--check`` exit codes for CI."""

from __future__ import annotations

import json
from pathlib import Path

import git
import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from goldenpath.errors import Conflict
from goldenpath.scaffold import RECORD_PATH
from goldenpath.services import scaffold
from goldenpath.settings import get_settings
from tests.scaffold.helpers import (
    Workspace,
    clone,
    edit_service,
    edit_template,
    push_local_edit,
)


@pytest.fixture
def made(workspace: Workspace) -> scaffold.Scaffolded:
    return scaffold.new_service(workspace.settings, "payments", "web", "python-service",
                                {"description": "Serves the web."})


def test_a_fresh_service_is_current(workspace: Workspace, made: scaffold.Scaffolded) -> None:
    result = scaffold.update_service(workspace.settings, "payments", "web", check=True)
    assert result.status == "current"


def test_template_change_and_unrelated_local_edit_are_both_kept(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path) -> None:
    push_local_edit(made.repository, tmp_path / "team", "README.md", "\nOur runbook.\n")
    latest = edit_template(workspace, "python-service", "deploy/base/hpa.yaml",
                           "averageUtilization: 70", "averageUtilization: 65")
    assert scaffold.update_service(workspace.settings, "payments", "web",
                                   check=True).status == "behind"
    result = scaffold.update_service(workspace.settings, "payments", "web")
    assert (result.status, result.conflicts) == ("updated", [])
    assert result.changed == ["deploy/base/hpa.yaml"]
    work = clone(made.repository, tmp_path / "check", branch=result.branch or "")
    assert "averageUtilization: 65" in (work.working_dir / Path("deploy/base/hpa.yaml")).read_text()
    assert (tmp_path / "check" / "README.md").read_text().endswith("\nOur runbook.\n")
    assert json.loads((tmp_path / "check" / RECORD_PATH).read_text())["commit"] == latest
    main = clone(made.repository, tmp_path / "main")
    assert "averageUtilization: 70" in (Path(main.working_dir) / "deploy/base/hpa.yaml").read_text()


def test_a_conflicting_edit_is_reported_not_overwritten(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path) -> None:
    hpa = "deploy/base/hpa.yaml"
    team_copy = clone(made.repository, tmp_path / "team")
    path = tmp_path / "team" / hpa
    path.write_text(path.read_text().replace("averageUtilization: 70", "averageUtilization: 50"))
    team_copy.git.commit("--quiet", "-am", "we scale earlier")
    team_copy.git.push("--quiet", "origin", "main")
    edit_template(workspace, "python-service", hpa,
                  "averageUtilization: 70", "averageUtilization: 65")
    result = scaffold.update_service(workspace.settings, "payments", "web")
    assert (result.status, result.conflicts) == ("conflicts", [hpa])
    clone(made.repository, tmp_path / "branch", branch=result.branch or "")
    merged = (tmp_path / "branch" / hpa).read_text()
    assert "<<<<<<<" in merged and "averageUtilization: 50" in merged
    assert "averageUtilization: 65" in merged
    clone(made.repository, tmp_path / "main")
    assert "averageUtilization: 50" in (tmp_path / "main" / hpa).read_text()


def _cli(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(workspace.settings.state_dir))
    monkeypatch.setenv("GOLDENPATH_TEMPLATES_ROOT", str(workspace.settings.templates_root))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(
            app, [*args, "--platform", str(workspace.settings.platform_dir)])
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


def test_cli_new_service_then_check_exits_0_current_and_2_behind(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _cli(workspace, monkeypatch, "new-service", "--team", "payments", "--name",
                        "jobs", "--template", "python-worker", "--param", "queue=jobs")
    assert code == 0, output
    assert "created payments/jobs" in output
    check = ("update-service", "--team", "payments", "--name", "jobs", "--check")
    assert _cli(workspace, monkeypatch, *check)[0] == 0
    edit_template(workspace, "python-worker", "README.md", "## Develop", "## Develop locally")
    code, output = _cli(workspace, monkeypatch, *check)
    assert (code, "README.md" in output) == (2, True)


def test_cli_check_says_what_moved(workspace: Workspace, made: scaffold.Scaffolded,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    check = ("update-service", "--team", "payments", "--name", "web", "--check")
    code, output = _cli(workspace, monkeypatch, *check)
    assert code == 0 and "is current with its template" in output
    edit_service(workspace, "web", replicas={"prod": 5})
    code, output = _cli(workspace, monkeypatch, *check)
    assert code == 2
    assert output.startswith("payments/web is behind its spec; files that would change:\n"
                             "  deploy/overlays/prod/autoscaling.yaml\n")
    edit_template(workspace, "python-service", "README.md", "## Develop", "## Develop locally")
    code, output = _cli(workspace, monkeypatch, *check)
    assert code == 2
    assert f"{made.version[:12]} -> " in output and ") and its spec;" in output


def test_cli_reports_errors_with_exit_1(workspace: Workspace,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _cli(workspace, monkeypatch, "new-service", "--team", "payments", "--name",
                        "jobs", "--template", "python-worker", "--param", "queue")
    assert code == 1
    assert "expected key=value" in output


def test_a_latency_objective_added_later_makes_the_service_behind(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path) -> None:
    edit_service(workspace, "web", slo={"latencyP99Ms": 300})
    result = scaffold.update_service(workspace.settings, "payments", "web")
    assert (result.status, result.spec_moved, result.changed) == (
        "updated", True, ["src/web/metrics.py"])
    clone(made.repository, tmp_path / "branch", branch=result.branch or "")
    assert "0.3, " in (tmp_path / "branch" / "src/web/metrics.py").read_text()


def _resolve_on_branch(url: str, branch: str, work: Path, path: str, text: str) -> str:
    """What a person does with a conflicted update: check out its branch, resolve, push."""
    repo = clone(url, work, branch=branch)
    (work / path).write_text(text)
    repo.git.commit("--quiet", "-am", f"resolve {path}")
    repo.git.push("--quiet", "origin", branch)
    return repo.head.commit.hexsha


def test_running_update_again_keeps_a_resolution_pushed_to_its_branch(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path) -> None:
    """The repository is a real bare remote: a person's commit on the update branch
    survives another update-service, which never force-pushes."""
    hpa = "deploy/base/hpa.yaml"
    push_local_edit(made.repository, tmp_path / "team", hpa, "# we scale earlier\n")
    edit_template(workspace, "python-service", hpa,
                  "averageUtilization: 70", "averageUtilization: 65")
    first = scaffold.update_service(workspace.settings, "payments", "web")
    assert first.status in ("updated", "conflicts") and first.branch
    resolved = (tmp_path / "team" / hpa).read_text().replace("70", "60")
    human = _resolve_on_branch(made.repository, first.branch, tmp_path / "person", hpa,
                               resolved)
    again = scaffold.update_service(workspace.settings, "payments", "web")
    assert (again.status, again.branch, again.conflicts) == ("pending", first.branch, [])
    tip = clone(made.repository, tmp_path / "after", branch=first.branch)
    assert tip.head.commit.hexsha == human
    assert (tmp_path / "after" / hpa).read_text() == resolved


def test_an_update_branch_is_built_on_never_replaced(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path) -> None:
    """A branch that exists with other work (its record says it was made for an earlier
    render) gets the update as a new commit on top: the person's commit stays in it."""
    hpa = "deploy/base/hpa.yaml"
    edit_template(workspace, "python-service", hpa,
                  "averageUtilization: 70", "averageUtilization: 65")
    first = scaffold.update_service(workspace.settings, "payments", "web")
    assert first.status == "updated" and first.branch
    # Someone rewinds the record on the branch (say, by reverting goldenpath's commit
    # and adding their own work): the branch no longer holds the update.
    repo = clone(made.repository, tmp_path / "person", branch=first.branch)
    repo.git.revert("--no-edit", "HEAD")
    (tmp_path / "person" / "NOTES.md").write_text("ours\n")
    repo.git.add("NOTES.md")
    repo.git.commit("--quiet", "-m", "our notes")
    repo.git.push("--quiet", "origin", first.branch)
    human = repo.head.commit.hexsha
    again = scaffold.update_service(workspace.settings, "payments", "web")
    assert (again.status, again.branch) == ("updated", first.branch)
    tip = clone(made.repository, tmp_path / "after", branch=first.branch)
    assert human in [c.hexsha for c in tip.head.commit.parents]
    assert (tmp_path / "after" / "NOTES.md").read_text() == "ours\n"
    assert "averageUtilization: 65" in (tmp_path / "after" / hpa).read_text()


def test_a_branch_moved_during_the_update_is_refused_not_overwritten(
        workspace: Workspace, made: scaffold.Scaffolded, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone pushes to the update branch between goldenpath's clone and its push: the
    push is refused (no force), the error says so, and their commit stays."""
    hpa = "deploy/base/hpa.yaml"
    edit_template(workspace, "python-service", hpa,
                  "averageUtilization: 70", "averageUtilization: 65")
    from goldenpath.scaffold import update
    real_apply = update.apply
    pushed: list[str] = []

    def racing_apply(*args: object, **kwargs: object) -> list[str]:
        conflicts = real_apply(*args, **kwargs)  # type: ignore[arg-type]
        other = clone(made.repository, tmp_path / "racer")
        other.git.checkout("--quiet", "-b", "racing")
        (tmp_path / "racer" / "RACE.md").write_text("first\n")
        other.git.add("RACE.md")
        other.git.commit("--quiet", "-m", "racer")
        branch = update.branch_name(args[3])  # type: ignore[arg-type]
        other.git.push("--quiet", "origin", f"HEAD:refs/heads/{branch}")
        pushed.append(other.head.commit.hexsha)
        return conflicts

    monkeypatch.setattr(update, "apply", racing_apply)
    with pytest.raises(Conflict, match=r"branch goldenpath/template-\S+ moved on .*run "
                       r"update-service again"):
        scaffold.update_service(workspace.settings, "payments", "web")
    (branch,) = [r for r in git.Git().ls_remote("--heads", made.repository).splitlines()
                 if "goldenpath/" in r]
    assert branch.split()[0] == pushed[0]


def test_cli_says_an_existing_update_branch_is_left_as_it_is(
        workspace: Workspace, made: scaffold.Scaffolded, monkeypatch: pytest.MonkeyPatch) -> None:
    edit_template(workspace, "python-service", "README.md", "## Develop", "## Develop locally")
    update = ("update-service", "--team", "payments", "--name", "web")
    code, output = _cli(workspace, monkeypatch, *update)
    assert code == 0 and output.startswith("pushed branch goldenpath/template-")
    branch = output.split()[2]
    code, output = _cli(workspace, monkeypatch, *update)
    assert code == 0
    assert " ".join(output.split()) == (f"branch {branch} holds this update already; left as "
                                        "it is (merge it into main): README.md")
