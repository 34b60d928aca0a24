"""`plan` writes nothing; a failed command leaves no state behind.

Run in a directory of their own (the state directory's default, ``.goldenpath``, is
relative to it), with real git repositories: `plan` creates neither the embedded
repository nor a cache; `apply` creates them only when it succeeds; a failed `--repo`
leaves no empty cache.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from goldenpath.cli import app
from tests.factories import platform_doc, team_doc, write_platform


def _run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    # an exception other than the exit itself is a traceback a user would see
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _entries(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if not p.relative_to(root).as_posix().startswith("platform"))


def _bare(path: Path) -> Path:
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(path)], check=True)
    return path


def test_plan_on_the_embedded_defaults_writes_nothing(here: Path) -> None:
    result = _run("plan")
    assert result.exit_code == 2, result.output  # everything would be added
    assert "+++ b/tenants/alpha/dev/namespace-alpha-dev.yaml" in result.stdout
    assert _entries(here) == []


def test_plan_against_a_remote_writes_nothing(
    here: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    remote = _bare(tmp_path_factory.mktemp("remote") / "gitops.git")
    assert _run("plan", "--repo", str(remote)).exit_code == 2
    assert _entries(here) == []
    assert _run("apply", "--repo", str(remote)).exit_code == 0
    assert ".goldenpath/cache" in _entries(here)  # apply keeps its cache
    after_apply = _outside_caches(here)
    assert _run("plan", "--repo", str(remote)).exit_code == 0
    # plan uses the cache apply made (and keeps it current), and makes nothing new
    assert _outside_caches(here) == after_apply


def _outside_caches(root: Path) -> list[str]:
    return [p for p in _entries(root)
            if ".git/" not in p and not p.startswith(".goldenpath/cache/spec/")]


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_failed_repo_leaves_no_cache(here: Path, command: str) -> None:
    missing = here / "no-such-repo.git"
    result = _run(command, "--repo", str(missing))
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        f"error: cannot fetch branch main from {missing}: '{missing}' does not appear to be "
        "a git repository; Could not read from remote repository.")
    assert _entries(here) == []


def test_a_failed_apply_on_the_embedded_defaults_creates_nothing(here: Path) -> None:
    doc = platform_doc()
    doc["spec"]["clusters"][1]["capacity"] = {"cpu": "1", "memory": "1Ti"}
    write_platform(here / "platform", doc, [team_doc("alpha")])
    result = _run("apply")
    assert result.exit_code == 1
    assert "[capacity] cluster prod" in result.stderr
    assert _entries(here) == []


def test_apply_creates_the_embedded_repository_when_it_succeeds(here: Path) -> None:
    result = _run("apply")
    assert result.exit_code == 0, result.output
    assert {".goldenpath/gitops.git", ".goldenpath/cache", ".goldenpath/cache/spec"} \
        <= set(_entries(here))
    # the spec cache is filled by the next load, and the next plan finds nothing to do
    assert _run("plan").exit_code == 0
    assert any(p.startswith(".goldenpath/cache/spec/") for p in _entries(here))
