"""new_service end to end: real cookiecutter, real git, a real push, a real spec edit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git
import pytest

from goldenpath.errors import Conflict, GitError, NotFound, SpecError, TemplateError
from goldenpath.scaffold import RECORD_PATH
from goldenpath.services import scaffold
from goldenpath.spec import load_platform
from tests.scaffold.helpers import Workspace, clone, make_workspace


def test_scaffold_pushes_a_recorded_repository_and_adds_the_service(
        workspace: Workspace, tmp_path: Path) -> None:
    made = scaffold.new_service(workspace.settings, "payments", "settle", "python-worker",
                                {"queue": "settlements"})
    bare = workspace.settings.state_dir / "repos" / "payments" / "settle.git"
    assert Path(made.repository) == bare.resolve()
    repo = clone(made.repository, tmp_path / "check")
    assert repo.head.commit.hexsha == made.commit
    record = json.loads((tmp_path / "check" / RECORD_PATH).read_text())
    assert record["template"] == "python-worker"
    assert record["commit"] == workspace.templates.head.commit.hexsha
    assert record["declaredVersion"] == "1.0.0"
    inputs = record["inputs"]
    assert inputs["service"]["parameters"] == {"queue": "settlements"}
    assert (inputs["team"], inputs["environments"]) == ("payments", ["dev", "staging", "prod"])
    assert (tmp_path / "check" / "deploy" / "overlays" / "staging" / "kustomization.yaml").is_file()
    text = workspace.team_file.read_text()
    assert text.startswith("# owned by payments\n")
    assert text.endswith("    - name: settle\n      template: python-worker\n"
                         "      parameters: {queue: settlements}\n")
    team = load_platform(workspace.settings.platform_dir).team("payments")
    assert [s.name for s in team.spec.services] == ["ledger", "settle"]


def test_platform_mode_pushes_to_the_url_template(tmp_path: Path) -> None:
    workspace, remote = _platform_mode(tmp_path, deletable=False)
    made = scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    assert made.repository == str(remote)
    assert git.Repo(remote).commit("main").hexsha == made.commit


def _failing_after_write(real: Any) -> Any:
    def add_service(path: Path, entry: dict[str, Any]) -> str:
        real(path, entry)
        raise SpecError([])  # stands for any failure after the spec was written
    return add_service


def test_failure_after_push_removes_the_repository_and_restores_the_spec(
        workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    before = workspace.team_file.read_bytes()
    pushed: list[str] = []
    real_import = scaffold.vcs.import_tree
    monkeypatch.setattr(scaffold.vcs, "import_tree", lambda bare, *a: (
        pushed.append(str(bare)), real_import(bare, *a))[1])
    monkeypatch.setattr(scaffold.teamfile, "add_service",
                        _failing_after_write(scaffold.teamfile.add_service))
    with pytest.raises(SpecError):
        scaffold.new_service(workspace.settings, "payments", "settle", "python-worker",
                             {"queue": "q"})
    assert pushed  # the push really happened before the failure
    assert not Path(pushed[0]).exists()
    assert workspace.team_file.read_bytes() == before


def _platform_mode(tmp_path: Path, deletable: bool) -> tuple[Workspace, Path]:
    remote = tmp_path / "remotes" / "payments" / "web.git"
    bare = git.Repo.init(remote, bare=True, initial_branch="main")
    if deletable:  # hosts differ: some let the pusher delete the default branch
        bare.git.config("receive.denyDeleteCurrent", "ignore")
    workspace = make_workspace(tmp_path / "ws", service_repos="platform")
    doc = workspace.settings.platform_dir / "platform.yaml"
    doc.write_text(doc.read_text().replace("https://git.example.com/{team}/{service}.git",
                                           f"{tmp_path}/remotes/{{team}}/{{service}}.git"))
    return workspace, remote


def test_failure_in_platform_mode_deletes_the_pushed_branch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, remote = _platform_mode(tmp_path, deletable=True)
    before = workspace.team_file.read_bytes()
    monkeypatch.setattr(scaffold.teamfile, "add_service",
                        _failing_after_write(scaffold.teamfile.add_service))
    with pytest.raises(SpecError):
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    assert git.Repo(remote).heads == []
    assert workspace.team_file.read_bytes() == before


def test_a_refused_undo_keeps_the_original_error_and_says_what_is_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, _ = _platform_mode(tmp_path, deletable=False)
    before = workspace.team_file.read_bytes()
    monkeypatch.setattr(scaffold.teamfile, "add_service",
                        _failing_after_write(scaffold.teamfile.add_service))
    with pytest.raises(SpecError) as caught:
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    assert any("clean up by hand" in note for note in caught.value.__notes__)
    assert workspace.team_file.read_bytes() == before


@pytest.mark.parametrize(("request_", "error", "words"), [
    (("nobody", "x", "python-service", {}), NotFound, "team 'nobody'"),
    (("payments", "ledger", "python-service", {}), Conflict, "already has"),
    (("payments", "Bad_Name", "python-service", {}), SpecError, "DNS-1123"),
    (("payments", "x", "php-service", {}), NotFound, "not in the platform's list"),
    (("payments", "x", "python-worker", {}), TemplateError, "'queue' is required"),
    (("payments", "x", "python-service", {"colour": "red"}), TemplateError, "unknown parameter"),
    (("payments", "x", "python-worker", {"queue": "a'b"}), TemplateError, "does not match"),
])
def test_bad_requests_change_nothing(workspace: Workspace,
                                     request_: tuple[str, str, str, dict[str, str]],
                                     error: type[Exception], words: str) -> None:
    before = workspace.team_file.read_bytes()
    with pytest.raises(error, match=words):
        scaffold.new_service(workspace.settings, *request_)
    assert workspace.team_file.read_bytes() == before
    assert not (workspace.settings.state_dir / "repos").exists()


def test_an_existing_repository_is_a_conflict(workspace: Workspace) -> None:
    (workspace.settings.state_dir / "repos" / "payments" / "web.git").mkdir(parents=True)
    with pytest.raises(Conflict, match="exists already"):
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})


def test_cookiecutter_errors_are_wrapped(workspace: Workspace) -> None:
    broken = workspace.template_path("python-service") / "{{cookiecutter.service_name}}" / "x.txt"
    broken.write_text("{{ cookiecutter.nothing_here | no_such_filter }}")
    with pytest.raises(TemplateError) as caught:
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    assert caught.value.__cause__ is not None
    assert not (workspace.settings.state_dir / "repos" / "payments" / "web.git").exists()


def test_git_errors_are_wrapped(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path, service_repos="platform")
    doc = workspace.settings.platform_dir / "platform.yaml"
    doc.write_text(doc.read_text().replace("https://git.example.com/{team}/{service}.git",
                                           f"{tmp_path}/missing/{{team}}/{{service}}.git"))
    with pytest.raises(GitError) as caught:
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    assert isinstance(caught.value.__cause__, git.GitCommandError)


@pytest.mark.parametrize("mode", ["embedded", "platform"])
@pytest.mark.parametrize("same_second", [True, False], ids=["same-commit", "other-commit"])
def test_the_same_service_asked_twice_at_once_is_created_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, same_second: bool) -> None:
    """Two requests for one new service pass their checks before either pushed (two
    replicas, two workers): while this one renders, the other creates the repository
    and lists the service. This one is a Conflict when it publishes, and takes nothing
    of the other's away; in the same second both render the very same commit, whose
    push changes nothing and must not count as this one's either."""
    if mode == "platform":
        workspace, _ = _platform_mode(tmp_path, deletable=True)
    else:
        workspace = make_workspace(tmp_path / "ws")
    if same_second:
        monkeypatch.setattr(scaffold.vcs.time, "time", lambda: 1_800_000_000.0)
    real_render = scaffold.cookie.render
    renders: list[Path] = []
    other: list[scaffold.Scaffolded] = []

    def render(*args: Any) -> Path:
        renders.append(args[0])
        if len(renders) == 1:  # the other request runs to its end while this one renders
            other.append(scaffold.new_service(workspace.settings, "payments", "web",
                                              "python-service", {}))
        return real_render(*args)

    monkeypatch.setattr(scaffold.cookie, "render", render)
    with pytest.raises(Conflict) as refused:
        scaffold.new_service(workspace.settings, "payments", "web", "python-service", {})
    [won] = other
    assert str(refused.value) == (
        f"service repository {won.repository} exists already: another request created it "
        "while this one rendered; nothing of it was changed")
    assert git.Repo(won.repository).commit("main").hexsha == won.commit
    listed = [s.name for s in load_platform(workspace.settings.platform_dir)
              .team("payments").spec.services]
    assert listed == ["ledger", "web"]
