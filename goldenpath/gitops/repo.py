"""The git adapter: fetch a branch, read trees and blobs, build a commit, push it.

All git work happens in a bare cache repository per remote (under the state directory),
and commits are built by ``git fast-import`` from their base and the changed files: no
working tree and no index of the whole tree, so git touches only the trees on the
changed paths, and a change to one team costs about the same in a repository of 10 or
1,000 teams. One fast-import process makes a whole chain of commits (a batch of
requests, :class:`Committer`), fed through pipes and answering each commit's id as it
is made, so the chain loads the base's trees and writes one pack, not one per commit;
the process ends with the block that started it, killed and reaped if the block failed.

A remote without a cache yet gets one built in a temporary directory and moved into
place only when the command using it succeeds and means to keep it (``Workspace.open``):
a plan, or a command that fails, leaves no cache behind.

Every gitpython error is wrapped in GitError saying what failed and git's own words
(:mod:`goldenpath.gitmsg`), with no command line, temporary path or credentials; a
rejected push (someone pushed first) is PushRejected, which apply answers by fetching and
retrying (a hook's refusal is a GitError: retrying would not help); a remote that could
not be reached at all (connection refused, timed out, name not resolved) is
RemoteUnavailable, which the worker answers by retrying the request later; a write that
failed for want of room (git says so, or was killed by SIGXFSZ; a temporary file that
could not be written) is DiskFull, retried the same way. Pushes are never forced.

A git process killed in the cache (the server SIGKILLed, git killed by SIGXFSZ, a
chain's fast-import killed because its block failed) leaves its lock files behind,
which would fail every later fetch with "cannot lock ref", and the pack it had not
finished: the cache is used under an exclusive ``flock`` by one process at a time, so
whoever holds it removes them (:func:`_clear_leftovers`).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

import git

from goldenpath import gitmsg
from goldenpath.errors import Conflict, DiskFull, GitError, GoldenpathError, RemoteUnavailable
from goldenpath.statefile import FULL, ROOM, state_error

#: How git says the branch moved (or is being moved) underneath a push.
#: (A hook's "[remote rejected] (... hook declined)" is a refusal, not a race: not here.)
_REJECTED = ("(non-fast-forward)", "(fetch first)", "failed to update ref", "cannot lock ref",
             "stale info")
_MISSING_REF = ("couldn't find remote ref", "could not find remote ref")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_LS_TREE_BLOB = re.compile(r"\d+ blob ([0-9a-f]{40,64})\t([^\0]*)")
_OBJECT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
#: The scratch ref fast-import builds commits on; pushes name the commit, never this ref.
_BUILD_REF = "refs/goldenpath/build"
#: what failed, by git command (fetch and push name their branch themselves)
_WHAT = {"rev-parse": "read the local cache of", "ls-tree": "read a commit in the local cache of",
         "diff-tree": "compare commits in the local cache of",
         "cat-file": "read files from the local cache of",
         "fast-import": "build a commit in the local cache of"}
_IDENTITY = {"GIT_AUTHOR_NAME": "goldenpath", "GIT_AUTHOR_EMAIL": "goldenpath@localhost",
             "GIT_COMMITTER_NAME": "goldenpath", "GIT_COMMITTER_EMAIL": "goldenpath@localhost"}


class PushRejected(Conflict):
    """The remote branch moved since it was fetched; fetch and try again."""


#: What may stand in an author's name or address: no ``<``, ``>`` or line break, which
#: would end the field in git's commit header.
_AUTHOR_TEXT = re.compile(r"[^<>\x00-\x1f\x7f]{1,200}")


@dataclass(frozen=True)
class Author:
    """A commit's author (who asked for the change); refused if git's header could not
    hold it as one field."""

    name: str
    email: str

    def __post_init__(self) -> None:
        for text in (self.name, self.email):
            if not _AUTHOR_TEXT.fullmatch(text) or text != text.strip():
                raise GitError(f"{text!r} cannot be a commit author's name or address")


@dataclass(frozen=True)
class Version:
    """One commit's change to a file: the blob it wrote (None: deleted) and its request."""

    commit: str
    blob: str | None
    request: str


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
    with _wrapped(Remote(str(path)), "create the embedded repository"):
        path.mkdir(parents=True, exist_ok=True)
        git.Repo.init(path, bare=True, initial_branch=branch).close()


class Workspace:
    """A bare cache of one remote, locked while in use by one goldenpath process."""

    def __init__(self, repo: Any, remote: Remote) -> None:
        self._repo = repo
        self.remote = remote
        self._reading = threading.Lock()  # one object stream at a time (shared readers)
        self._committer: Committer | None = None  # reads go through it while it runs

    @property
    def path(self) -> Path:
        """The cache repository's directory (goldenpath keeps derived state beside git's)."""
        return Path(self._repo.git_dir)

    @classmethod
    @contextmanager
    def open(cls, cache_root: Path, remote: Remote, *, keep: bool = True) -> Iterator[Workspace]:
        """The cache of ``remote`` under ``cache_root``, locked while in use.

        When there is none yet, the block works in a new cache in a temporary directory,
        moved under ``cache_root`` only when ``keep`` and the block succeeded: a failed
        command (an unreachable ``--repo``, a rejected spec) and a ``plan`` leave nothing
        behind, not even ``cache_root``.
        """
        path = _cache_path(cache_root, remote)
        if (path / "HEAD").is_file():
            with _locked(path), _opened(remote, path, create=False) as repo:
                _clear_leftovers(path)
                try:
                    yield cls(repo, remote)
                finally:  # a git killed in the block (a full disk) leaves none either
                    _clear_leftovers(path)
            return
        with tempfile.TemporaryDirectory(prefix="goldenpath-cache-") as tmp:
            fresh = Path(tmp) / "cache.git"
            with _opened(remote, fresh, create=True) as repo:
                yield cls(repo, remote)
            if keep:
                _install(fresh, path)

    @classmethod
    def reading(cls, cache_root: Path, remote: Remote) -> Workspace:
        """The existing cache of ``remote``, only to read objects it holds already
        (commits fetched before, their trees and blobs), without the lock: git never
        changes an object once written and adds new ones atomically, so reads need no
        lock while another user of the cache fetches or commits. Nothing may be fetched,
        committed or pushed through it; threads may share it to read. Its git processes
        end when it is garbage collected. GitError when there is no cache."""
        path = _cache_path(cache_root, remote)
        if not (path / "HEAD").is_file():
            raise GitError(f"no local cache of {remote.display} to read from")
        with _wrapped(remote, "open the local cache of", hide=(path,)):
            return cls(git.Repo(path), remote)

    def _git(self, *args: str, **kwargs: Any) -> str:
        out: str = self._run(*args, **kwargs)
        return out

    def _run(self, *args: str, env_extra: dict[str, str] | None = None, what: str = "",
             **kwargs: Any) -> Any:
        env = {**_IDENTITY, **os.environ, **self.remote.env(), **(env_extra or {})}
        with _wrapped(self.remote, what or _WHAT.get(args[0], "use the local cache of"),
                      hide=(Path(self._repo.git_dir),)):
            command = getattr(self._repo.git, args[0].replace("-", "_"))
            return command(*args[1:], env=env, **kwargs)

    def fetch(self, branch: str) -> str | None:
        """The remote's commit on ``branch``; None when the branch does not exist yet."""
        local = f"refs/goldenpath/{branch}"
        try:
            self._git("fetch", "--no-tags", "--force", self.remote.url,
                      f"+refs/heads/{branch}:{local}", what=f"fetch branch {branch} from")
        except GitError as e:
            if any(text in _raw(e) for text in _MISSING_REF):
                return None
            raise
        return self._git("rev-parse", local).strip()

    def tree(self, commit: str | None, under: str | None = None) -> dict[str, str]:
        """path -> blob id of every file in ``commit`` (only those under the directory
        ``under``, when given: git then reads only that directory's trees)."""
        if commit is None:
            return {}
        only = ("--", f"{under}/") if under is not None else ()
        listing = self._git("ls-tree", "-r", "-z", "--full-tree", commit, *only)
        return {path: blob for blob, path in _LS_TREE_BLOB.findall(listing)}

    def history(self, head: str, paths: list[str]) -> dict[str, list[Version]]:
        """path -> every version of it on the first-parent history of ``head``, newest
        first: the commit, the blob it wrote (None: it deleted the file) and the commit's
        ``Request-Id`` trailer ("" when it has none). One ``git log`` for all paths."""
        found: dict[str, list[Version]] = {path: [] for path in paths}
        if not paths:
            return found
        out = self._git("log", "--first-parent", "--diff-merges=first-parent", "--raw",
                        "--no-abbrev", "--no-renames",
                        "--format=%x01%H %(trailers:key=Request-Id,valueonly,separator=%x2C)",
                        head, "--", *paths, what="read the history of")
        commit = request = ""
        for line in out.splitlines():
            if line.startswith("\x01"):
                commit, _, request = line[1:].partition(" ")
            elif line.startswith(":") and "\t" in line:
                meta, _, path = line.partition("\t")
                parts = meta.split()
                if path in found and len(parts) == 5:
                    blob = None if parts[4] == "D" else parts[3]
                    found[path].append(Version(commit, blob, request.strip()))
        return found

    def diff_tree(self, old: str, new: str) -> dict[str, str | None]:
        """path -> new blob id (None: deleted) of every file that differs between two
        commits; git reads only the trees that differ."""
        out = self._git("diff-tree", "-r", "-z", "--no-renames", old, new)
        fields = out.split("\0")
        changed: dict[str, str | None] = {}
        for meta, path in zip(fields[0::2], fields[1::2], strict=False):
            parts = meta.split()
            if len(parts) == 5:  # a submodule is no file: as if deleted, like ls-tree
                gone = parts[4] == "D" or parts[1] == "160000"
                changed[path] = None if gone else parts[3]
        return changed

    def read(self, blob: str) -> bytes:
        if self._committer is not None:  # it may have written the blob: only it knows yet
            return self._committer.read(blob)
        with self._reading, _wrapped(self.remote, "read a file from the local cache of"):
            data: bytes = self._repo.odb.stream(bytes.fromhex(blob)).read()
            return data

    def read_many(self, blobs: list[str]) -> dict[str, bytes]:
        """blob id -> content, with one ``git cat-file --batch`` for all of them."""
        if not blobs:
            return {}
        if self._committer is not None:
            return {blob: self._committer.read(blob) for blob in blobs}
        with self._scratch(), tempfile.TemporaryFile() as ids:
            ids.write("".join(f"{blob}\n" for blob in blobs).encode())
            ids.seek(0)
            out: bytes = self._run("cat-file", "--batch", istream=ids, stdout_as_string=False,
                                   strip_newline_in_stdout=False)
        try:
            return dict(_batch_objects(out))
        except ValueError as e:
            raise GitError(self.remote.redact(
                f"cannot read files from the local cache of {self.remote.display}: {e}")) from e

    def commit(self, base: str | None, writes: dict[str, bytes], deletes: set[str],
               message: str, author: Author | None = None) -> str:
        """One commit of ``base`` with the changes applied (see :class:`Committer`)."""
        with self.committer() as commit:
            return commit(base, writes, deletes, message, author)

    @contextmanager
    def committer(self) -> Iterator[Committer]:
        """One ``git fast-import`` that makes every commit of the block, ended with it:
        its commits and blobs are in the cache for the rest of git once the block ended
        (reads of the workspace go through it meanwhile). The block fails with the
        committer's failure even when it went on after it (its commits are lost with
        the process); an error in the block kills the process. Never outlives it."""
        # --force: the scratch ref may move anywhere; answers (get-mark, cat-blob) on stdout
        process = self._run("fast-import", "--quiet", "--force", "--date-format=raw",
                            as_process=True, istream=subprocess.PIPE)
        with _wrapped(self.remote, _WHAT["fast-import"], hide=(self.path,)):
            committer = Committer(self, process)  # if not, GitPython's handle ends git
        self._committer = committer
        try:
            yield committer
            committer.close()
        finally:
            self._committer = None
            committer.kill()

    def _scratch(self) -> Any:
        """Where git's input is written to a temporary file first: failing to write it
        (a full TMPDIR) is DiskFull or GitError, as git's own failures are."""
        return _wrapped(self.remote, "write a temporary file for the local cache of",
                        hide=(Path(self._repo.git_dir),))

    def _commit_header(self, parent: str | None, mark: int, message: str,
                       author: Author | None) -> bytes:
        """A fast-import ``commit`` of the scratch ref on ``parent`` (a commit or a mark;
        None: a root commit, after a ``reset`` of whatever the process built before)."""
        env = {**_IDENTITY, **os.environ}
        if author is not None:
            env.update(GIT_AUTHOR_NAME=author.name, GIT_AUTHOR_EMAIL=author.email)
        when = f"{int(time.time())} +0000"
        text = message.encode()
        lines = [f"commit {_BUILD_REF}", f"mark :{mark}",
                 f"author {env['GIT_AUTHOR_NAME']} <{env['GIT_AUTHOR_EMAIL']}> {when}",
                 f"committer {env['GIT_COMMITTER_NAME']} <{env['GIT_COMMITTER_EMAIL']}> {when}",
                 f"data {len(text)}"]
        head = "".join(f"{line}\n" for line in lines).encode() + text + b"\n"
        if parent is None:
            return f"reset {_BUILD_REF}\n".encode() + head
        return head + f"from {parent}\n".encode()

    def push(self, commit: str, branch: str) -> None:
        """Fast-forward ``branch`` on the remote to ``commit``; never forced."""
        try:
            self._git("push", "--porcelain", self.remote.url, f"{commit}:refs/heads/{branch}",
                      what=f"push branch {branch} to")
        except GitError as e:
            if any(text in _raw(e) for text in _REJECTED):
                raise PushRejected(f"{self.remote.display} {branch} moved on: {e}") from e
            raise


class Committer:
    """Commits made one after the other by one ``git fast-import`` in the cache (the
    chain of a batch: each on the one before, or on any commit), each commit's id as soon
    as it is made (``get-mark``): loading the base's trees and writing a pack and its
    index happen once for the chain, not once per commit.

    A parent this process made is named by its mark: the rest of git knows its objects
    only once the process ended, and fast-import keeps the tree of its last commit in
    memory for the next. The process's failures (it died, was killed, ran out of room)
    are GitError or DiskFull with git's own words, as every git failure of
    :class:`Workspace`; once failed, it stays failed (:attr:`failed`)."""

    def __init__(self, ws: Workspace, process: Any) -> None:
        self._ws = ws
        self._handle = process  # GitPython's: it ends the process when collected
        self._process: subprocess.Popen[bytes] = process.proc
        self._stdin, self._stdout, self._stderr = _pipes(self._process)
        self._marks: dict[str, int] = {}  # commit id -> its mark in this process
        self.failed: GoldenpathError | None = None

    def __call__(self, base: str | None, writes: dict[str, bytes], deletes: set[str],
                 message: str, author: Author | None = None) -> str:
        """A commit of ``base`` (None: a root commit) with the changes applied, authored
        by ``author`` when given (the committer is always goldenpath's identity)."""
        mark = len(self._marks) + 1
        parent = None if base is None else f":{self._marks[base]}" if base in self._marks \
            else base
        stream = [self._ws._commit_header(parent, mark, message, author)]
        stream += [b"D %s\n" % _fi_path(path) for path in sorted(deletes)]
        for path in sorted(writes):
            content = writes[path]
            stream += [b"M 100644 inline %s\ndata %d\n" % (_fi_path(path), len(content)),
                       content, b"\n"]
        stream.append(b"\nget-mark :%d\n" % mark)
        with self._failing(_WHAT["fast-import"]):
            commit = self._ask(b"".join(stream)).decode().strip()
            if not _OBJECT_ID.fullmatch(commit):
                raise ValueError(f"fast-import answered {commit!r}")
        self._marks[commit] = mark
        return commit

    def read(self, blob: str) -> bytes:
        """A blob's content, whether this process wrote it or the cache had it before."""
        what = "read a file from the local cache of"
        with self._failing(what):
            header = self._ask(b"cat-blob %s\n" % blob.encode()).split()
            if header[1:] != [b"missing"]:
                if header[1:2] != [b"blob"] or len(header) != 3 or not header[2].isdigit():
                    raise ValueError(f"fast-import answered {header!r}")
                content = self._stdout.read(int(header[2]) + 1)
                if not content.endswith(b"\n"):
                    self._ended()
                return content[:-1]
        raise GitError(self._ws.remote.redact(  # it goes on: the chain is not lost
            f"cannot {what} {self._ws.remote.display}: {blob} is not there"))

    def _ask(self, command: bytes) -> bytes:
        """fast-import's answer line to ``command``."""
        if self.failed is not None:
            raise self.failed
        try:
            self._stdin.write(command)
            self._stdin.flush()
            answer = self._stdout.readline()
        except OSError:  # the pipe broke: git ended, and says why below
            answer = b""
        if not answer.endswith(b"\n"):
            self._ended()
        return answer

    @contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """Errors as GitError or DiskFull, kept as :attr:`failed`: after one the
        stream's state is unknown, so the process is killed if it still runs."""
        try:
            with _wrapped(self._ws.remote, what, hide=(self._ws.path,)):
                yield
        except GoldenpathError as error:
            self.kill()
            self.failed = self.failed or error
            raise

    def _ended(self) -> NoReturn:
        """The process stopped answering: its exit status and what it said."""
        with suppress(OSError):
            self._stdin.close()
        status = self._process.wait()
        raise git.GitCommandError(["git", "fast-import"], status, self._stderr.read())

    def close(self) -> None:
        """End the process, which writes the pack and moves the scratch ref; raise the
        first failure of the block, or git's at the end."""
        if self.failed is not None:
            raise self.failed
        with self._failing(_WHAT["fast-import"]):
            self._stdin.close()
            if self._process.wait() != 0:
                self._ended()

    def kill(self) -> None:
        """Kill and reap the process if it still runs; close its pipes."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for stream in (self._stdin, self._stdout, self._stderr):
            with suppress(OSError):
                stream.close()


def _pipes(process: subprocess.Popen[bytes]) -> tuple[IO[bytes], IO[bytes], IO[bytes]]:
    if process.stdin is None or process.stdout is None or process.stderr is None:
        raise ValueError("git fast-import started without its pipes")
    return process.stdin, process.stdout, process.stderr


def _cache_path(cache_root: Path, remote: Remote) -> Path:
    return cache_root / f"{hashlib.sha256(remote.display.encode()).hexdigest()[:16]}.git"


def _fi_path(path: str) -> bytes:
    """A path for a fast-import command, C-quoted when it would otherwise be ambiguous."""
    if path.startswith('"') or any(c in path for c in '\n\\'):
        path = '"' + path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return path.encode()


def _batch_objects(out: bytes) -> Iterator[tuple[str, bytes]]:
    """(id, content) of each object in ``git cat-file --batch`` output."""
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].decode()
        if header.endswith(" missing"):
            raise ValueError(header)
        blob, _, size = header.split()
        start = end + 1
        yield blob, out[start:start + int(size)]
        at = start + int(size) + 1


@contextmanager
def _wrapped(remote: Remote, what: str, hide: tuple[Path, ...] = ()) -> Iterator[None]:
    """GitPython's errors as GitError: what failed and git's own explanation, without
    the command line, temporary or cache paths, or credentials."""
    try:
        yield
    except git.GitCommandError as e:
        output = e.stderr or e.stdout or ""
        detail = gitmsg.explanation(output, e.status)
        kind: type[GoldenpathError] = RemoteUnavailable if gitmsg.unreachable(output) \
            else DiskFull if gitmsg.disk_full(output, e.status) else GitError
        raise kind(_clean(remote, f"cannot {what} {remote.display}: {detail}", hide)) from e
    except (git.GitError, OSError, ValueError) as e:
        detail = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
        if isinstance(e, OSError) and e.errno in FULL:
            raise DiskFull(_clean(remote, f"cannot {what} {remote.display}: {detail}; {ROOM}",
                                  hide)) from e
        raise GitError(_clean(remote, f"cannot {what} {remote.display}: {detail}", hide)) from e


def _raw(error: GitError) -> str:
    """All git said about a failure (``_wrapped`` keeps the cause), to recognise it."""
    cause = error.__cause__
    if isinstance(cause, git.GitCommandError):
        return f"{cause.stdout}\n{cause.stderr}"
    return str(error)


def _clean(remote: Remote, text: str, hide: tuple[Path, ...]) -> str:
    for path in hide:
        text = text.replace(str(path), "<cache>")
    return remote.redact(gitmsg.scrub(text))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on one cache repository, held by one goldenpath process."""
    try:
        lock = open(path.with_suffix(".lock"), "w")  # noqa: SIM115 (closed below)
    except OSError as error:  # the state directory cannot be written (cache_root/..)
        raise state_error(path.parent.parent, error) from error
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


#: The lock files git takes in a bare repository (besides one per ref under refs/).
_GIT_LOCKS = ("HEAD.lock", "config.lock", "packed-refs.lock", "shallow.lock")


def _clear_leftovers(path: Path) -> None:
    """Remove the lock files a git process left in the cache when it was killed (SIGKILL,
    SIGXFSZ on a full disk), else every later fetch fails with "cannot lock ref", and the
    packs it had not finished (a fetch's, a chain's fast-import: room a full disk needs).
    Called under the cache's lock, so no git process of another goldenpath runs in it:
    any such file there is a dead one's."""
    for file in [*(path / name for name in _GIT_LOCKS), *(path / "refs").rglob("*.lock"),
                 *(path / "objects" / "pack").glob("tmp_*")]:
        with suppress(FileNotFoundError):
            file.unlink()


@contextmanager
def _opened(remote: Remote, path: Path, *, create: bool) -> Iterator[Any]:
    with _wrapped(remote, "open the local cache of", hide=(path,)):
        repo = git.Repo.init(path, bare=True) if create else git.Repo(path)
    try:
        yield repo
    finally:
        repo.close()


def _install(fresh: Path, path: Path) -> None:
    """Move a new cache into place (copied beside it, then renamed: never half there);
    if another process installed one meanwhile, theirs is kept. It runs after the work
    succeeded (a push, say), so a cache that cannot be saved is no failure: the next
    command builds it again."""
    with suppress(OSError):
        _install_cache(fresh, path)


def _install_cache(fresh: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        if (path / "HEAD").is_file():
            return
        shutil.rmtree(path, ignore_errors=True)  # a damaged cache of ours, without HEAD
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            shutil.copytree(fresh, staging / "cache.git", symlinks=True)
            os.replace(staging / "cache.git", path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def remote_head(remote: Remote, branch: str) -> str | None:
    """The remote's commit on ``branch`` (None: no such branch), asked with one
    ``git ls-remote``: no cache, no lock, nothing written (a few milliseconds for a local
    repository)."""
    with _wrapped(remote, f"read branch {branch} of"):
        env = {**os.environ, **remote.env()}
        out: str = git.Git().execute(["git", "ls-remote", "--heads", remote.url,
                                      f"refs/heads/{branch}"], env=env,
                                     kill_after_timeout=30)
    for line in out.splitlines():
        commit, _, ref = line.partition("\t")
        if ref == f"refs/heads/{branch}":
            return commit
    return None


def check_reachable(remote: Remote) -> None:
    """Raise GitError unless the remote answers ``git ls-remote`` (readiness probes)."""
    with _wrapped(remote, "reach"):
        env = {**os.environ, **remote.env()}
        git.Git().execute(["git", "ls-remote", "--heads", remote.url], env=env,
                          kill_after_timeout=10)
