"""No traceback reaches a user: every failure is one `error:` line naming what failed
and how to fix it, exit code 1, and nothing changed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from goldenpath.cli import app
from goldenpath.settings import get_settings
from tests.factories import ROOT, platform_doc, team_doc, write_platform


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    get_settings.cache_clear()
    result = CliRunner().invoke(app, list(args), env=env, terminal_width=400)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    _git("init", "--bare", "-q", "-b", "main", str(path))
    return path


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("command", ["plan", "apply", "new-service"])
def test_an_invalid_setting_is_named(here: Path, command: str) -> None:
    args = {"new-service": ["new-service", "-t", "alpha", "-n", "x", "--template",
                            "python-service"]}.get(command, [command])
    result = _run(*args, env={"GOLDENPATH_SERVICE_REPOS": "gitlab"})
    assert result.exit_code == 1
    assert _flat(result.stderr) == ("error: GOLDENPATH_SERVICE_REPOS: 'gitlab': Input should "
                                    "be 'embedded' or 'platform'")
    assert sorted(p.name for p in here.iterdir()) == ["platform"]


def test_a_state_directory_that_is_a_file(here: Path, remote: Path) -> None:
    (here / "state").write_text("not a directory")
    result = _run("apply", "--repo", str(remote), env={"GOLDENPATH_STATE_DIR": "state"})
    assert result.exit_code == 1
    assert _flat(result.stderr) == ("error: the state directory state is not usable: state "
                                    "is a file; set GOLDENPATH_STATE_DIR to a directory")
    assert _git("branch", cwd=remote) == ""  # nothing was pushed


@pytest.mark.parametrize(
    ("branch", "problem"),
    [
        ("-x", "starts with '-', which git would read as an option"),
        ("--force", "starts with '-', which git would read as an option"),
        ("HEAD", "is git's own name for the current commit, not a branch"),
        ("refs/heads/review", "is a full ref name; give the branch name alone (main, not "
                              "refs/heads/main)"),
        ("a..b", "contains '..', which git does not allow in a branch name"),
        ("review lock", "contains ' ', which git does not allow in a branch name"),
        ("x.lock", "has the component 'x.lock'; components may not start with '.' or end "
                   "with '.lock'"),
    ],
)
def test_a_bad_branch_is_refused_before_git_runs(here: Path, remote: Path, branch: str,
                                                 problem: str) -> None:
    result = _run("apply", "--repo", str(remote), "--branch", branch)
    assert result.exit_code == 1
    assert _flat(result.stderr) == f"error: branch {branch!r} {problem}"
    assert _git("for-each-ref", cwd=remote) == ""


def test_target_revision_is_a_branch_name(here: Path) -> None:
    doc = platform_doc(gitops={"repoURL": "https://git.example.com/x.git",
                               "targetRevision": "-x"})
    write_platform(here / "platform", doc, [team_doc("alpha")])
    result = _run("validate")
    assert result.exit_code == 1
    assert ('platform/platform.yaml: spec.gitops.targetRevision: "-x": starts with '
            "'-', which git would read as an option; targetRevision is the branch apply "
            "pushes to") in _flat(result.stderr)


def test_git_failures_say_what_failed_without_command_lines(here: Path, remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: pushes need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    result = _run("apply", "--repo", str(remote))
    assert result.exit_code == 1
    stderr = _flat(result.stderr)
    assert stderr.startswith(f"error: cannot push branch main to {remote}: remote: policy: "
                             "pushes need a review; failed to push some refs to ")
    for leak in ("cmdline", "Cmd(", "stderr:", "git push", "/goldenpath-", "attempts"):
        assert leak not in stderr
    assert _git("for-each-ref", cwd=remote) == ""


def test_scaffold_git_failures_say_what_failed_without_command_lines(here: Path) -> None:
    # the templates exist (update-service checks them first); the repository does not
    result = _run("update-service", "--team", "alpha", "--name", "api", "--check",
                  env={"GOLDENPATH_STATE_DIR": str(here / "state"),
                       "GOLDENPATH_TEMPLATES_ROOT": str(ROOT)})
    assert result.exit_code == 1
    missing = here / "state" / "repos" / "alpha" / "api.git"
    assert _flat(result.stderr) == (f"error: git: cannot clone the service repository: "
                                    f"repository '{missing}' does not exist")
