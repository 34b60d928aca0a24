"""A git remote that cannot be reached is RemoteUnavailable (retry later); one that
answers and refuses is a plain GitError. Against a real ``git daemon``, stopped and
started again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goldenpath import gitmsg
from goldenpath.errors import GitError, RemoteUnavailable
from goldenpath.gitops.repo import Remote, Workspace, check_reachable
from goldenpath.scaffold import vcs
from tests.gitdaemon import GitDaemon
from tests.gitops.conftest import git


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    served = tmp_path / "served"
    served.mkdir()
    git("init", "--bare", "-q", "-b", "main", str(served / "control.git"))
    running = GitDaemon(served)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_a_stopped_daemon_is_unavailable_and_a_started_one_answers(
        daemon: GitDaemon, tmp_path: Path) -> None:
    remote = Remote(daemon.url("control.git"))
    check_reachable(remote)
    daemon.stop()
    with pytest.raises(RemoteUnavailable) as caught:
        check_reachable(remote)
    assert str(caught.value).startswith(
        f"cannot reach {remote.url}: unable to connect to 127.0.0.1:; 127.0.0.1[0: ")
    assert str(caught.value).endswith("errno=Connection refused")
    with pytest.raises(RemoteUnavailable, match=r"^cannot fetch branch main from "), \
            Workspace.open(tmp_path / "cache", remote) as ws:
        ws.fetch("main")
    with pytest.raises(RemoteUnavailable, match=r"^git: cannot read the service repository: "
                                                r"unable to connect to 127\.0\.0\.1:"):
        vcs.remote_head(remote.url)  # "down" is not "nothing pushed there"
    daemon.start()  # the same port
    check_reachable(remote)
    assert vcs.remote_head(remote.url) is None


def test_a_daemon_that_answers_and_refuses_is_a_plain_git_error(daemon: GitDaemon) -> None:
    missing = Remote(daemon.url("nope.git"))
    with pytest.raises(GitError) as caught:
        check_reachable(missing)
    assert not isinstance(caught.value, RemoteUnavailable)
    assert str(caught.value) == (f"cannot reach {missing.url}: remote error: no such "
                                 "repository: /nope.git")
    assert vcs.remote_head(missing.url) is None


@pytest.mark.parametrize(("said", "down"), [
    ("fatal: unable to access 'https://git.example.com/x.git/': Could not resolve host: "
     "git.example.com", True),
    ("fatal: unable to access 'https://git.example.com/x.git/': Failed to connect to "
     "git.example.com port 443 after 2 ms: Couldn't connect to server", True),
    ("fatal: unable to access 'https://git.example.com/x.git/': The requested URL returned "
     "error: 503", True),
    ("ssh: connect to host git.example.com port 22: Connection timed out\nfatal: Could not "
     "read from remote repository.", True),
    ("ssh: connect to host git.example.com port 22: No route to host", True),
    ("fatal: unable to access 'https://git.example.com/x.git/': The requested URL returned "
     "error: 403", False),
    ("remote: Repository not found.\nfatal: repository 'https://x/y.git/' not found", False),
    ("git@git.example.com: Permission denied (publickey).\nfatal: Could not read from "
     "remote repository.", False),
    (" ! [remote rejected] main -> main (pre-receive hook declined)", False),
    (" ! [rejected]        main -> main (fetch first)", False),
])
def test_what_git_says_tells_down_from_refused(said: str, down: bool) -> None:
    assert gitmsg.unreachable(said) is down
