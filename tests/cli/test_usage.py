"""The CLI as users expect it: exit codes, --version, tables that survive a pipe.

Exit codes follow ``terraform plan -detailed-exitcode``: 1 for every error, usage errors
included, so that 2 means "changes pending" and nothing else.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from goldenpath import __version__
from goldenpath.cli import app
from tests.factories import EXAMPLE_PLATFORM, platform_doc, team_doc, write_platform


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["plan", "--bogus"], "No such option: --bogus"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["render"], "Missing option '--out'"),
        (["render", "--out"], "Option '--out' requires an argument"),
        (["new-service", "--team", "alpha"], "Missing option '--name'"),
        (["--bogus"], "No such option: --bogus"),
    ],
    ids=["unknown-option", "unknown-command", "missing-option", "missing-value",
         "missing-option-of-a-golden-path", "unknown-global-option"],
)
def test_usage_errors_exit_1_not_2(runner: CliRunner, args: list[str], says: str) -> None:
    result = runner.invoke(app, args, terminal_width=200)
    assert result.exit_code == 1, result.output
    assert says in result.stderr
    assert result.stdout == ""


def test_no_command_prints_help_and_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 1
    assert "Usage: goldenpath" in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"goldenpath {__version__}\n"


def test_platform_dir_setting_is_the_default_of_platform(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_platform(tmp_path / "elsewhere", platform_doc(), [team_doc("alpha")])
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["validate"], env={"GOLDENPATH_PLATFORM_DIR": str(root)})
    assert result.exit_code == 0, result.output
    assert "ok: 1 teams" in result.stdout


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("│")]


def test_piped_tables_keep_whole_names(runner: CliRunner, tmp_path: Path) -> None:
    # CliRunner's stdout is no terminal, like a pipe; no terminal_width: the 80 columns
    # a pipe gets by default
    # as long as a team name can be (its tenancy Application <team>-dev-tenancy <= 63)
    long = "a-team-with-a-name-long-enough-to-be-cut-in-80-cols"
    root = write_platform(tmp_path / "p", platform_doc(),
                          [team_doc(long, environments=["dev"], services=[])])
    rendered = runner.invoke(app, ["render", "--platform", str(root), "--out",
                                   str(tmp_path / "out")])
    assert rendered.exit_code == 0, rendered.output
    assert any(line.startswith(f"│ {long} │") for line in _lines(rendered.stdout))
    assert "…" not in rendered.stdout
    validated = runner.invoke(app, ["validate", "--platform", str(EXAMPLE_PLATFORM)])
    assert any("│ objects valid against the Kubernetes OpenAPI schema" in line
               for line in _lines(validated.stdout))
    assert "…" not in validated.stdout
