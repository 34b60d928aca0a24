"""plan and apply against real bare repositories."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from goldenpath.errors import Conflict, GitError, PolicyViolation, SpecError
from goldenpath.gitops.layout import repository_files
from goldenpath.gitops.repo import PushRejected, Workspace
from goldenpath.services import gitops
from goldenpath.services.platform import load_and_check
from goldenpath.settings import Settings
from tests.gitops.conftest import commits, files_of, git, teams

Make = Callable[..., Path]
SettingsFor = Callable[[str], Settings]


def test_first_apply_commits_exactly_the_rendered_tree(
    remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    result = gitops.apply(platform, str(remote), settings=settings_for("a"))
    assert result.commit is not None
    checked = load_and_check(platform)
    assert files_of(remote) == repository_files(checked.spec, checked.bundle)
    message = git("log", "-1", "--format=%B", cwd=remote)
    assert "Spec-Digest: sha256:" in message
    assert "Goldenpath-Version: " in message


def test_reapplying_an_unchanged_spec_makes_no_commit(
    remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    platform = make_platform("p", teams("alpha"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    before = commits(remote)
    again = gitops.apply(platform, str(remote), settings=settings_for("b"))
    assert again.commit is None
    assert commits(remote) == before
    assert not gitops.plan(platform, str(remote), settings=settings_for("a")).has_changes


def test_a_one_team_change_writes_only_that_teams_files(
    remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote),
                 settings=settings_for("a"))
    changed = make_platform("p2", teams("alpha", "beta", beta={"quota": {"cpu": "9"}}))
    result = gitops.apply(changed, str(remote), settings=settings_for("a"))
    assert result.commit is not None
    paths = git("diff", "--name-only", "HEAD~1", "HEAD", cwd=remote).split()
    assert paths and all("beta" in p for p in paths), paths
    checked = load_and_check(changed)
    assert files_of(remote) == repository_files(checked.spec, checked.bundle)


def test_plan_reports_hand_edits_as_drift_and_keeps_unowned_files(
    remote: Path, tmp_path: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    platform = make_platform("p", teams("alpha", "beta"))
    gitops.apply(platform, str(remote), settings=settings_for("a"))
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    quota = clone / "tenants/alpha/dev/resourcequota-quota.yaml"
    quota.write_text(quota.read_text().replace('pods: "40"', 'pods: "999"'))
    (clone / "tenants/alpha/dev/notes.yaml").write_text("hand: written\n")
    (clone / "NOTES.md").write_text("ours\n")
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "hand edit", cwd=clone)
    git("push", "-q", "origin", "main", cwd=clone)

    plan = gitops.plan(platform, str(remote), settings=settings_for("a"))
    assert [d.path for d in plan.drift] == ["tenants/alpha/dev/resourcequota-quota.yaml"]
    assert '-    pods: "999"' in plan.drift[0].diff
    assert plan.has_changes

    gitops.apply(platform, str(remote), settings=settings_for("a"))
    files = files_of(remote)
    assert b'pods: "40"' in files["tenants/alpha/dev/resourcequota-quota.yaml"]
    assert files["tenants/alpha/dev/notes.yaml"] == b"hand: written\n"
    assert files["NOTES.md"] == b"ours\n"

    gitops.apply(make_platform("p2", teams("beta")), str(remote), settings=settings_for("a"),
                 allow_offboarding=True)
    files = files_of(remote)
    assert files["tenants/alpha/dev/notes.yaml"] == b"hand: written\n"  # survives offboarding
    assert not [p for p in files if "alpha" in p and not p.endswith("notes.yaml")]


def test_offboarding_removes_exactly_the_teams_files(
    remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    gitops.apply(make_platform("p1", teams("alpha", "beta")), str(remote),
                 settings=settings_for("a"))
    before = files_of(remote)
    gitops.apply(make_platform("p2", teams("beta")), str(remote), settings=settings_for("a"),
                 allow_offboarding=True)
    after = files_of(remote)
    removed = set(before) - set(after)
    assert removed and all("alpha" in p for p in removed)
    assert {p for p in before if "alpha" in p} == removed
    # Only beta-free layout files may change beside: kustomizations listing alpha's files,
    # and the platform project whose destinations named alpha's namespaces.
    changed = {p for p in after if before.get(p) != after[p]}
    assert all("beta" not in p for p in changed), changed


@pytest.mark.parametrize("broken", ["spec", "policy"])
def test_a_bad_spec_or_policy_violation_pushes_nothing(
    broken: str, remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    gitops.apply(make_platform("p1", teams("alpha")), str(remote), settings=settings_for("a"))
    before = commits(remote)
    if broken == "spec":
        bad = make_platform("p2", teams("alpha", alpha={"quota": {"cpu": "lots"}}))
        error: type[Exception] = SpecError
    else:  # the platform admits only small namespaces on a tiny cluster: capacity guardrail
        bad = make_platform("p2", teams("alpha", alpha={"quota": {"cpu": "64"}}))
        text = (bad / "platform.yaml").read_text()
        (bad / "platform.yaml").write_text(text.replace(
            "environments:\n    - prod\n",
            "environments:\n    - prod\n    capacity:\n      cpu: '1'\n      memory: 1Gi\n", 1))
        error = PolicyViolation
    with pytest.raises(error):
        gitops.apply(bad, str(remote), settings=settings_for("a"))
    assert commits(remote) == before


def test_racing_appliers_both_land_with_linear_history(
    remote: Path, make_platform: Make, settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitops.apply(make_platform("base", teams("alpha", "beta")), str(remote),
                 settings=settings_for("a"))
    one = make_platform("one", teams("alpha", "beta", alpha={"quota": {"cpu": "7"}}))
    two = make_platform("two", teams("alpha", "beta", beta={"quota": {"cpu": "9"}}))
    real_push = Workspace.push
    raced: list[bool] = []

    def push_after_the_other(self: Workspace, commit: str, branch: str) -> None:
        # Applier "two" has built its commit on the old base; "one" pushes first.
        if not raced:
            raced.append(True)
            gitops.apply(one, str(remote), settings=settings_for("one"))
        real_push(self, commit, branch)

    monkeypatch.setattr(Workspace, "push", push_after_the_other)
    result = gitops.apply(two, str(remote), settings=settings_for("two"))
    assert result.attempts == 2
    files = files_of(remote)
    assert b'requests.cpu: "7"' in files["tenants/alpha/dev/resourcequota-quota.yaml"]
    assert b'requests.cpu: "9"' in files["tenants/beta/dev/resourcequota-quota.yaml"]
    merges = git("rev-list", "--min-parents=2", "main", cwd=remote).split()
    assert merges == [] and len(commits(remote)) == 3


def test_the_same_team_changed_by_both_is_a_conflict(
    remote: Path, make_platform: Make, settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitops.apply(make_platform("base", teams("alpha")), str(remote), settings=settings_for("a"))
    one = make_platform("one", teams("alpha", alpha={"quota": {"cpu": "7"}}))
    two = make_platform("two", teams("alpha", alpha={"quota": {"cpu": "9"}}))
    real_push = Workspace.push

    def push_after_the_other(self: Workspace, commit: str, branch: str) -> None:
        monkeypatch.setattr(Workspace, "push", real_push)
        gitops.apply(one, str(remote), settings=settings_for("one"))
        real_push(self, commit, branch)

    monkeypatch.setattr(Workspace, "push", push_after_the_other)
    with pytest.raises(Conflict, match="team-alpha"):
        gitops.apply(two, str(remote), settings=settings_for("two"))
    assert b'requests.cpu: "7"' in files_of(remote)["tenants/alpha/dev/resourcequota-quota.yaml"]


def test_a_rejected_push_is_never_forced(
    remote: Path, make_platform: Make, settings_for: SettingsFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitops.apply(make_platform("base", teams("alpha")), str(remote), settings=settings_for("a"))

    def always_rejected(self: Workspace, commit: str, branch: str) -> None:
        raise PushRejected("moved on")

    monkeypatch.setattr(Workspace, "push", always_rejected)
    before = commits(remote)
    with pytest.raises(PushRejected):
        gitops.apply(make_platform("p", teams("alpha", "beta")), str(remote),
                     settings=settings_for("a"), max_attempts=2)
    assert commits(remote) == before


def test_branch_pushes_to_a_review_branch(
    remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    gitops.apply(make_platform("base", teams("alpha")), str(remote), settings=settings_for("a"))
    main_before = commits(remote)
    gitops.apply(make_platform("p", teams("alpha", "beta")), str(remote),
                 branch="review/beta", settings=settings_for("a"))
    assert commits(remote) == main_before
    assert any("beta" in p for p in files_of(remote, "review/beta"))


def test_embedded_repository_is_created_on_first_use(
    tmp_path: Path, make_platform: Make
) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    result = gitops.apply(make_platform("p", teams("alpha")), settings=settings)
    assert result.commit is not None
    assert (settings.embedded_gitops_repo / "HEAD").is_file()
    assert commits(settings.embedded_gitops_repo)


def test_git_errors_are_wrapped_and_never_show_credentials(
    tmp_path: Path, make_platform: Make
) -> None:
    port = _free_port()
    settings = Settings(state_dir=tmp_path / "state", gitops_username="bot",
                        gitops_token="s3cr3t-token")  # type: ignore[arg-type]
    url = f"https://bot:inline-pass@127.0.0.1:{port}/gitops.git"
    with pytest.raises(GitError) as caught:
        gitops.plan(make_platform("p", teams("alpha")), url, settings=settings)
    message = str(caught.value)
    assert "s3cr3t-token" not in message and "inline-pass" not in message
    assert "127.0.0.1" in message
    assert type(caught.value.__cause__).__module__.startswith("git")


# --- over the network: git daemon on 127.0.0.1 -----------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def daemon(tmp_path: Path, remote: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
         f"--base-path={tmp_path}", "--listen=127.0.0.1", f"--port={port}", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port)
        yield f"git://127.0.0.1:{port}/{remote.name}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("git daemon did not start")


def test_apply_pushes_over_the_git_protocol(
    daemon: str, remote: Path, make_platform: Make, settings_for: SettingsFor
) -> None:
    platform = make_platform("p", teams("alpha"))
    result = gitops.apply(platform, daemon, settings=settings_for("a"))
    assert result.commit == git("rev-parse", "main", cwd=remote).strip()
    assert not gitops.plan(platform, daemon, settings=settings_for("b")).has_changes
