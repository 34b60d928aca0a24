"""The git adapter: fetch a branch, read trees and blobs, build a commit, push it.

All git work happens in a bare cache repository per remote (under the state directory),
and commits are built with plumbing on a temporary index: no working tree is checked
out, so a change to one team costs the same in a repository of 10 or 1,000 teams.

Every gitpython error is wrapped in GitError with credentials removed; a rejected push
(someone pushed first) is PushRejected, which apply answers by fetching and retrying.
Pushes are never forced.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import git

from goldenpath.errors import Conflict, GitError
from goldenpath.gitops import ownership

#: How git says the branch moved (or is being moved) underneath a push.
_REJECTED = ("rejected", "non-fast-forward", "fetch first", "failed to update ref",
             "cannot lock ref", "stale info")
_MISSING_REF = ("couldn't find remote ref", "could not find remote ref")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_IDENTITY = {"GIT_AUTHOR_NAME": "goldenpath", "GIT_AUTHOR_EMAIL": "goldenpath@localhost",
             "GIT_COMMITTER_NAME": "goldenpath", "GIT_COMMITTER_EMAIL": "goldenpath@localhost"}


class PushRejected(Conflict):
    """The remote branch moved since it was fetched; fetch and try again."""


@dataclass(frozen=True)
class Remote:
    """A repository URL or local path, and HTTPS credentials that never reach a message."""

    url: str
    username: str = ""
    token: str = ""

    def env(self) -> dict[str, str]:
        """Credentials travel as an HTTP header in git's environment: never in the URL,
        the command line or the remote's config, so no message or ``ps`` shows them."""
        env = {"GIT_TERMINAL_PROMPT": "0"}
        if self.token and self.url.startswith(("https://", "http://")):
            pair = f"{self.username or 'goldenpath'}:{self.token}".encode()
            env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader",
                       GIT_CONFIG_VALUE_0=f"Authorization: Basic {base64.b64encode(pair).decode()}")
        return env

    def redact(self, text: str) -> str:
        text = _USERINFO.sub("***@", text)
        if self.token:
            pair = f"{self.username or 'goldenpath'}:{self.token}".encode()
            for secret in (self.token, base64.b64encode(pair).decode()):
                text = text.replace(secret, "***")
        return text

    @property
    def display(self) -> str:
        return self.redact(self.url)


def init_bare(path: Path, branch: str) -> None:
    """Create the embedded remote on first use (HEAD names the target branch)."""
    if (path / "HEAD").is_file():
        return
    path.mkdir(parents=True, exist_ok=True)
    try:
        git.Repo.init(path, bare=True, initial_branch=branch)
    except git.GitError as e:
        raise GitError(f"cannot create the embedded repository at {path}: {e}") from e


class Workspace:
    """A bare cache of one remote, locked while in use by one goldenpath process."""

    def __init__(self, repo: Any, remote: Remote) -> None:
        self._repo = repo
        self.remote = remote

    @classmethod
    @contextmanager
    def open(cls, cache_root: Path, remote: Remote) -> Iterator[Workspace]:
        key = hashlib.sha256(remote.display.encode()).hexdigest()[:16]
        path = cache_root / f"{key}.git"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with _wrapped(remote, "open the cache repository"):
                exists = (path / "HEAD").is_file()
                repo = git.Repo(path) if exists else git.Repo.init(path, bare=True)
            try:
                yield cls(repo, remote)
            finally:
                repo.close()

    def _git(self, *args: str, env_extra: dict[str, str] | None = None, **kwargs: Any) -> str:
        env = {**_IDENTITY, **os.environ, **self.remote.env(), **(env_extra or {})}
        with _wrapped(self.remote, f"git {args[0]}"):
            command = getattr(self._repo.git, args[0].replace("-", "_"))
            out: str = command(*args[1:], env=env, **kwargs)
            return out

    def fetch(self, branch: str) -> str | None:
        """The remote's commit on ``branch``; None when the branch does not exist yet."""
        local = f"refs/goldenpath/{branch}"
        try:
            self._git("fetch", "--no-tags", "--force", self.remote.url,
                      f"+refs/heads/{branch}:{local}")
        except GitError as e:
            if any(text in str(e) for text in _MISSING_REF):
                return None
            raise
        return self._git("rev-parse", local).strip()

    def tree(self, commit: str | None) -> dict[str, str]:
        """path -> blob id of every file in ``commit``."""
        if commit is None:
            return {}
        listing = self._git("ls-tree", "-r", "-z", "--full-tree", commit)
        blobs: dict[str, str] = {}
        for entry in listing.split("\0"):
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            if len(parts) == 3 and parts[1] == "blob":
                blobs[path] = parts[2]
        return blobs

    def read(self, blob: str) -> bytes:
        with _wrapped(self.remote, "read a blob"):
            data: bytes = self._repo.odb.stream(bytes.fromhex(blob)).read()
            return data

    def commit(self, base: str | None, writes: dict[str, bytes], deletes: set[str],
               message: str) -> str:
        """A commit of ``base`` with the changes applied, built on a temporary index."""
        with tempfile.TemporaryDirectory(prefix="goldenpath-commit-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("read-tree", *([base] if base else ["--empty"]), env_extra=index)
            blobs = self._store(Path(tmp), writes)
            lines = [f"0 {'0' * 40}\t{path}" for path in sorted(deletes)]
            lines += [f"100644 {blobs[path]}\t{path}" for path in sorted(writes)]
            info = Path(tmp) / "index-info"
            info.write_text("".join(f"{line}\n" for line in lines))
            with info.open("rb") as stdin:
                self._git("update-index", "--index-info", istream=stdin, env_extra=index)
            tree = self._git("write-tree", env_extra=index).strip()
            message_file = Path(tmp) / "message"
            message_file.write_text(message)
            parents = ["-p", base] if base else []
            return self._git("commit-tree", tree, *parents, "-F", str(message_file)).strip()

    def _store(self, tmp: Path, files: dict[str, bytes]) -> dict[str, str]:
        """Write every blob into one pack with a single ``git fast-import``: one file and
        one process however many files changed. Blob ids are git's own hash of the bytes."""
        if not files:
            return {}
        stream = tmp / "blobs.fi"
        with stream.open("wb") as out:
            for content in files.values():
                out.write(b"blob\ndata %d\n" % len(content))
                out.write(content)
                out.write(b"\n")
        with stream.open("rb") as stdin:
            self._git("fast-import", "--quiet", istream=stdin)
        return {path: ownership.blob_id(content) for path, content in files.items()}

    def push(self, commit: str, branch: str) -> None:
        """Fast-forward ``branch`` on the remote to ``commit``; never forced."""
        try:
            self._git("push", "--porcelain", self.remote.url, f"{commit}:refs/heads/{branch}")
        except GitError as e:
            if any(text in str(e) for text in _REJECTED):
                raise PushRejected(f"{self.remote.display} {branch} moved on: {e}") from e
            raise


@contextmanager
def _wrapped(remote: Remote, action: str) -> Iterator[None]:
    try:
        yield
    except git.GitCommandError as e:
        detail = (e.stderr or e.stdout or str(e)).strip()
        raise GitError(remote.redact(f"{action} failed on {remote.display}: {detail}")) from e
    except (git.GitError, OSError, ValueError) as e:
        raise GitError(remote.redact(f"{action} failed on {remote.display}: {e}")) from e
