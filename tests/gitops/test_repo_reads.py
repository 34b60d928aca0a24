"""Reading a remote's head without a cache, and a cache's objects without its lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.errors import GitError
from goldenpath.gitops.repo import Remote, Workspace, remote_head
from tests.gitops.conftest import git


def _commit(remote: Path, tmp_path: Path) -> str:
    clone = tmp_path / "clone"
    git("clone", "-q", str(remote), str(clone))
    (clone / "file.txt").write_text("hello\n")
    git("add", "file.txt", cwd=clone)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one", cwd=clone)
    git("push", "-q", "origin", "HEAD:main", cwd=clone)
    return git("rev-parse", "HEAD", cwd=clone).strip()


def test_remote_head_is_the_branch_commit_or_none(remote: Path, tmp_path: Path) -> None:
    assert remote_head(Remote(str(remote)), "main") is None  # no branch yet
    head = _commit(remote, tmp_path)
    assert remote_head(Remote(str(remote)), "main") == head
    assert remote_head(Remote(str(remote)), "other") is None
    assert remote_head(Remote(str(remote)), "mai") is None  # a prefix is not the branch


def test_an_unreachable_remote_is_a_git_error_without_credentials(tmp_path: Path) -> None:
    missing = Remote(f"https://bob:s3cret@127.0.0.1:1/{tmp_path.name}.git", "bob", "t0ken")
    with pytest.raises(GitError) as found:
        remote_head(missing, "main")
    message = str(found.value)
    assert message.startswith("cannot read branch main of https://***@127.0.0.1:1/"), message
    assert "s3cret" not in message and "t0ken" not in message


def test_a_cache_is_read_while_another_user_holds_its_lock(remote: Path,
                                                          tmp_path: Path) -> None:
    cache, origin = tmp_path / "cache", Remote(str(remote))
    with pytest.raises(GitError, match="no local cache of"):
        Workspace.reading(cache, origin)
    head = _commit(remote, tmp_path)
    with Workspace.open(cache, origin) as ws:
        assert ws.fetch("main") == head
        blob = ws.tree(head)["file.txt"]
    with Workspace.open(cache, origin):  # held: a fetch would wait; a read does not
        assert Workspace.reading(cache, origin).read(blob) == b"hello\n"
