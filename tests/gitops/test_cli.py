"""plan and apply from the command line: exit codes like terraform plan -detailed-exitcode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from goldenpath.cli import app
from tests.gitops.conftest import commits, git, teams

Invoke = Callable[..., tuple[int, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoke]:
    monkeypatch.setenv("GOLDENPATH_STATE_DIR", str(tmp_path / "state"))
    from goldenpath.settings import get_settings
    get_settings.cache_clear()

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args))
        return result.exit_code, result.output
    yield invoke
    get_settings.cache_clear()


def test_plan_exits_2_with_changes_then_0_after_apply(
    run: Callable[..., tuple[int, str]], remote: Path, make_platform: Callable[..., Path]
) -> None:
    platform = str(make_platform("p", teams("alpha")))
    code, output = run("plan", "--platform", platform, "--repo", str(remote))
    assert code == 2, output
    assert "alpha" in output and "+++ b/tenants/alpha/dev/namespace-alpha-dev.yaml" in output
    code, output = run("apply", "--platform", platform, "--repo", str(remote), "-m", "onboard")
    assert code == 0, output
    assert len(commits(remote)) == 1
    code, output = run("plan", "--platform", platform, "--repo", str(remote))
    assert code == 0, output
    code, output = run("apply", "--platform", platform, "--repo", str(remote))
    assert code == 0 and "up to date" in output
    assert len(commits(remote)) == 1


def test_plan_exits_1_on_a_bad_spec(
    run: Callable[..., tuple[int, str]], remote: Path, make_platform: Callable[..., Path]
) -> None:
    platform = make_platform("p", teams("alpha", alpha={"owners": ["nobody"]}))
    code, output = run("plan", "--platform", str(platform), "--repo", str(remote))
    assert code == 1, output
    assert commits(remote) == []


def test_plan_prints_each_drift_diff_once_beside_its_message(
    run: Callable[..., tuple[int, str]], remote: Path, make_platform: Callable[..., Path],
    tmp_path: Path
) -> None:
    platform = str(make_platform("p", teams("alpha")))
    assert run("apply", "--platform", platform, "--repo", str(remote))[0] == 0
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    quota = "tenants/alpha/dev/resourcequota-quota.yaml"
    (clone / quota).write_text((clone / quota).read_text().replace('pods: "40"', 'pods: "999"'))
    git("commit", "-qam", "more pods", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)

    result = CliRunner().invoke(app, ["plan", "--platform", platform, "--repo", str(remote)])

    assert result.exit_code == 2, result.output
    # drift goes to stdout; stderr holds only the note that the test's service repositories
    # (not made by new-service) could not be read
    assert [line for line in result.stderr.splitlines()
            if not line.startswith("warning: service repositories not checked")] == []
    lines = result.stdout.splitlines()
    at = lines.index(f"drift: {quota} was edited by hand; apply would overwrite it:")
    assert lines[at + 1:at + 3] == [f"--- a/{quota}", f"+++ b/{quota}"]
    assert '-    pods: "999"' in lines[at + 3:at + 12]
    assert result.stdout.count(f"--- a/{quota}") == 1
