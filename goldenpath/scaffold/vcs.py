"""The git adapter of the scaffolder (gitpython): new repositories, pushes, snapshots.

Every git failure becomes a GitError (``raise ... from``) whose message names the
operation, never a credential. Commits are made as "goldenpath" so scaffolding works on
machines without a git identity.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import git

from goldenpath import gitmsg
from goldenpath.errors import Conflict, DiskFull, GitError, GoldenpathError, RemoteUnavailable
from goldenpath.statefile import FULL, ROOM

BRANCH = "main"
IDENTITY = {
    "GIT_AUTHOR_NAME": "goldenpath", "GIT_AUTHOR_EMAIL": "goldenpath@localhost",
    "GIT_COMMITTER_NAME": "goldenpath", "GIT_COMMITTER_EMAIL": "goldenpath@localhost",
}
#: How git says a branch moved on underneath a push (as goldenpath.gitops.repo reads it).
_REJECTED = ("[rejected]", "non-fast-forward", "fetch first", "stale info")


@contextmanager
def wrapped(action: str) -> Iterator[None]:
    try:
        yield
    except git.GitCommandError as err:  # git's words, not GitPython's command line
        output = err.stderr or err.stdout or ""
        detail = gitmsg.explanation(output, err.status)
        kind: type[GoldenpathError] = RemoteUnavailable if gitmsg.unreachable(output) \
            else DiskFull if gitmsg.disk_full(output, err.status) else GitError
        raise kind(f"git: cannot {action}: {gitmsg.scrub(detail)}") from err
    except (git.GitError, OSError, ValueError) as err:
        if isinstance(err, OSError) and err.errno in FULL:
            raise DiskFull(f"git: cannot {action}: {err.strerror}; {ROOM}") from err
        raise GitError(f"git: cannot {action}: {gitmsg.scrub(str(err).strip())}"
                       ) from err


# --- templates ------------------------------------------------------------------------


def template_commit(template: Path) -> tuple[str | None, bool]:
    """(last commit touching ``template``, whether it has uncommitted changes).

    The last commit of the directory, not HEAD, so commits elsewhere in the templates
    repository do not make every service look behind. (None, False) outside git.
    """
    try:
        repo = git.Repo(template, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None, False
    with wrapped(f"read the version of {template}"):
        commit = repo.git.log("-1", "--format=%H", "--", str(template)) or None
        # a read only: `git status` would refresh the index of the platform team's
        # checkout (index.lock, a new index), which a git killed meanwhile leaves locked
        dirty = bool(repo.git.execute(["git", "--no-optional-locks", "status", "--porcelain",
                                       "--", str(template)]))
    return commit, dirty


def export_template(template: Path, commit: str, dest: Path) -> Path:
    """Write the template directory as it was at ``commit`` under ``dest``; return its path."""
    with wrapped(f"read template {template.name} at {commit[:12]}"):
        repo = git.Repo(template, search_parent_directories=True)
        rel = template.resolve().relative_to(Path(repo.working_tree_dir or "").resolve())
        buffer = io.BytesIO()
        repo.archive(buffer, commit, path=rel.as_posix() or ".", format="tar")
    buffer.seek(0)
    with tarfile.open(fileobj=buffer) as archive:
        archive.extractall(dest, filter="data")
    return dest / rel


# --- service repositories -------------------------------------------------------------


def create_bare(path: Path) -> None:
    """A new bare repository at ``path``: Conflict when there is one already (another
    request for the same service made it first), which is never initialized again."""
    with wrapped(f"create bare repository {path}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir()
        except FileExistsError:
            raise taken(str(path)) from None
        # No sample hooks (--template=): nothing runs them, and files cost time to write.
        git.Git().init("--quiet", "--bare", f"--initial-branch={BRANCH}", "--template=",
                       str(path))
        # Keep pushed objects as one pack instead of exploding them into loose files.
        # Appended directly: a `git config` process per repository costs more than this.
        with (path / "config").open("a", encoding="utf-8") as config:
            config.write("[transfer]\n\tunpackLimit = 1\n")


def remote_has_refs(url: str) -> bool:
    """Whether something was pushed to ``url`` already. Unreachable counts as empty: hosts
    that create repositories on first push have nothing to list yet."""
    try:
        return bool(str(git.Git().ls_remote(url)).strip())
    except git.GitCommandError:
        return False


def remote_head(url: str, branch: str = BRANCH) -> str | None:
    """The commit ``branch`` of ``url`` points at; None when it has no such branch or no
    such repository. A remote that cannot be reached at all is RemoteUnavailable: a
    worker resuming a scaffold must not take "down" for "nothing was pushed"."""
    try:
        out = str(git.Git().ls_remote(url, f"refs/heads/{branch}")).strip()
    except git.GitCommandError as err:
        if gitmsg.unreachable(err.stderr or ""):  # not "nothing there": ask again later
            with wrapped("read the service repository"):
                raise
        return None
    return out.split()[0] if out else None


def import_tree(bare: Path, project: Path, message: str, branch: str = BRANCH) -> str:
    """Commit the files of ``project`` as the first commit of ``branch`` in ``bare``.

    One ``git fast-import`` writes a single pack and sets the ref: the same commit that
    init + add + commit + push would produce, without a scratch repository full of loose
    objects to write and delete (on slow filesystems, most of scaffolding's cost).
    Rendered projects hold no ignored files, so every file is committed.
    """
    stream = io.BytesIO()
    text = message.encode()
    stream.write(b"commit refs/heads/%s\nmark :1\n" % branch.encode())
    stamp = f"{IDENTITY['GIT_COMMITTER_NAME']} <{IDENTITY['GIT_COMMITTER_EMAIL']}> "
    stream.write(f"committer {stamp}{int(time.time())} +0000\n".encode())
    stream.write(b"data %d\n%s\n" % (len(text), text))
    for path in sorted(p for p in project.rglob("*") if p.is_file() and not p.is_symlink()):
        data = path.read_bytes()
        mode = b"100755" if os.access(path, os.X_OK) else b"100644"
        name = path.relative_to(project).as_posix().encode()
        stream.write(b"M %s inline %s\ndata %d\n%s\n" % (mode, name, len(data), data))
    runner = git.Git(str(bare))
    runner.update_environment(GIT_DIR=str(bare))
    with wrapped(f"commit into {bare}"), tempfile.TemporaryFile() as stdin:
        stdin.write(stream.getvalue())
        stdin.seek(0)
        runner.execute(["git", "fast-import", "--quiet", "--date-format=raw"], istream=stdin)
        # fast-import writes the new ref as a loose file; reading it saves a git process.
        return (bare / "refs" / "heads" / branch).read_text(encoding="ascii").strip()


def push(repo: git.Repo, url: str, branch: str) -> None:
    """Push HEAD to ``branch`` of ``url`` as a fast-forward, never forced: a branch that
    moved on since the clone (someone pushed a resolution there) is a Conflict, and their
    commits stay."""
    try:
        repo.git.push("--quiet", "--porcelain", url, f"HEAD:refs/heads/{branch}")
    except git.GitCommandError as err:
        detail = f"{err.stderr or ''}{err.stdout or ''}"
        if any(text in detail for text in _REJECTED):
            raise Conflict(f"branch {branch} moved on in the service repository while the "
                           "update was made; nothing was overwritten: run update-service "
                           "again") from err
        with wrapped(f"push {branch}"):
            raise


def has_remote_branch(repo: git.Repo, branch: str) -> bool:
    """Whether the clone's origin had ``branch`` (a clone fetches every branch)."""
    with wrapped(f"look for branch {branch}"):
        found = repo.git.rev_parse("--verify", "--quiet", f"refs/remotes/origin/{branch}",
                                   with_exceptions=False)
    return bool(found.strip())


def checkout_remote_branch(repo: git.Repo, branch: str) -> None:
    with wrapped(f"check out branch {branch}"):
        repo.git.checkout("--quiet", "-B", branch, f"refs/remotes/origin/{branch}")


def push_bare(bare: Path, url: str, branch: str = BRANCH) -> None:
    """Create ``branch`` of ``url`` from a local bare repository (the first push of a new
    service), never forced. Conflict when the remote has the branch already: another
    request for the same service pushed first. Also when it holds this very commit (two
    requests rendered the same service in the same second): only the push that created
    the branch made the repository, and only that request may list it or take it back."""
    ref = f"refs/heads/{branch}"
    try:
        out = str(git.Git(str(bare)).push("--porcelain", url, f"{ref}:{ref}"))
    except git.GitCommandError as err:
        if remote_head(url, branch) is not None:  # refused: someone else's is there
            raise taken(url) from err
        with wrapped(f"push {branch}"):
            raise
    if not _created(out, ref):  # "=": up to date, the very same commit was there
        raise taken(url)


def _created(porcelain: str, ref: str) -> bool:
    """Whether ``git push --porcelain`` says it created ``ref`` (flag ``*``)."""
    return any(line.startswith("*\t") and line.split("\t")[1].endswith(f":{ref}")
               for line in porcelain.splitlines())


def taken(url: str) -> Conflict:
    return Conflict(f"service repository {gitmsg.scrub(url)} exists already: another "
                    "request created it while this one rendered; nothing of it was changed")


def delete_remote_branch(url: str, branch: str = BRANCH) -> None:
    with wrapped(f"delete {branch} from the service repository"):
        git.Git().push("--quiet", url, f":refs/heads/{branch}")


def clone(url: str, dest: Path) -> git.Repo:
    with wrapped("clone the service repository"):
        repo = git.Repo.clone_from(url, dest, branch=BRANCH)
    repo.git.update_environment(**IDENTITY)
    return repo


# --- snapshots for the 3-way update ---------------------------------------------------


def snapshot(repo: git.Repo, tree_dir: Path, message: str, parent: str | None = None) -> str:
    """Commit the files of ``tree_dir`` into ``repo``'s object store (not onto a branch),
    through a private index so the clone's work tree and real index are left alone."""
    index = Path(repo.git_dir) / f"goldenpath-{os.getpid()}.index"
    runner = git.Git(str(tree_dir))
    runner.update_environment(GIT_DIR=str(repo.git_dir), GIT_WORK_TREE=str(tree_dir),
                              GIT_INDEX_FILE=str(index), **IDENTITY)
    with wrapped("record a template snapshot"):
        try:
            runner.add("--all", ".")
            tree = runner.write_tree()
        finally:
            index.unlink(missing_ok=True)
        args = ["-p", parent] if parent else []
        sha: str = runner.commit_tree(tree, *args, "-m", message)
    return sha


def cherry_pick(repo: git.Repo, commit: str) -> list[str]:
    """Apply ``commit`` (relative to its parent) with git's 3-way merge, without committing.

    Returns the paths left in conflict, with conflict markers in the work tree.
    """
    try:
        repo.git.cherry_pick("--no-commit", "--allow-empty", commit)
    except git.GitCommandError as err:
        conflicts = repo.git.diff("--name-only", "--diff-filter=U").split()
        if not conflicts:
            detail = gitmsg.explanation(err.stderr or err.stdout or "", err.status)
            raise GitError(f"git: cannot merge the template change: {gitmsg.scrub(detail)}") \
                from err
        return sorted(conflicts)
    return []


def commit_all(repo: git.Repo, message: str) -> str:
    with wrapped("commit the template update"):
        repo.git.add("--all")
        repo.git.commit("--quiet", "--no-verify", "--allow-empty", "-m", message)
        return repo.head.commit.hexsha
