"""Reading a service repository back without a work tree: which overlays it has, and the
record of how it was rendered, at one revision. ``plan`` and ``validate`` use it to warn
when the spec and a service repository have drifted apart.

The repository is either a local bare one (the embedded service repositories) or a URL,
fetched shallowly into a temporary bare repository that is removed afterwards: nothing is
left in goldenpath's state directory. A remote is read without prompting (no terminal, SSH
in batch mode) and within :data:`TIMEOUT_SECONDS`; any failure is a GitError that names
the operation, never a credential. Everything read is the tenant's: only the paths asked
for are listed, and the record is read only when its git entry is a regular file of at
most :data:`~.record.MAX_RECORD_BYTES`, then validated as ``update-service`` validates it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from goldenpath import gitmsg
from goldenpath.errors import GitError, TemplateError
from goldenpath.scaffold.record import MAX_RECORD_BYTES, RECORD_PATH, Record, parse_record

TIMEOUT_SECONDS = 30
OVERLAYS = "deploy/overlays"
#: ``git ls-tree -l -z`` entries: mode, type, object, size, path
_ENTRY = re.compile(r"(\d+) (\w+) ([0-9a-f]{40,64}) +(-|\d+)\t([^\0]*)\0")
_REGULAR_FILE_MODES = ("100644", "100755")
_GIT_SAYS = re.compile(r"(?:fatal|error): *([^\n]*)")


@contextmanager
def _reading(action: str) -> Iterator[None]:
    """A GitError that says what failed and git's own reason, without the command line
    or the temporary repository's path."""
    try:
        yield
    except git.GitCommandError as err:
        # gitpython quotes stderr as "stderr: '...'"; git's own lines are inside.
        said = _GIT_SAYS.findall(str(err.stderr or "").removesuffix("'"))
        reason = "; ".join(line.strip() for line in said)
        reason = reason or f"git exited with status {err.status}"
        raise GitError(f"cannot {action}: {gitmsg.scrub(reason.strip())}") from err
    except (git.GitError, OSError, ValueError) as err:
        raise GitError(f"cannot {action}: {gitmsg.scrub(str(err).strip())}") from err


@dataclass(frozen=True)
class ServiceRepo:
    """What a service repository holds at one revision."""

    #: the environments (of those asked for) with a ``deploy/overlays/<env>`` directory
    overlays: frozenset[str]
    #: the record, or None with ``record_problem`` saying why it could not be used
    record: Record | None
    record_problem: str | None = None


def read_service_repo(source: str | Path, revision: str,
                      environments: list[str]) -> ServiceRepo:
    """Read ``source`` (a local bare repository's path, or a URL) at ``revision``."""
    if isinstance(source, Path):
        return _read(git.Git(), source, revision, environments)
    with tempfile.TemporaryDirectory(prefix="goldenpath-peek-") as tmp:
        bare = Path(tmp) / "repo.git"
        runner = _fetch(source, revision, bare)
        return _read(runner, bare, "FETCH_HEAD", environments)


def _fetch(url: str, revision: str, bare: Path) -> git.Git:
    runner = git.Git()
    env = {"GIT_TERMINAL_PROMPT": "0",
           "GIT_SSH_COMMAND": os.environ.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")}
    runner.update_environment(**env)
    with _reading("fetch the service repository"):
        runner.execute(["git", "init", "--quiet", "--bare", "--template=", str(bare)])
        runner.execute(["git", f"--git-dir={bare}", "fetch", "--quiet", "--depth=1",
                        "--no-tags", url, revision], kill_after_timeout=TIMEOUT_SECONDS)
    return runner


def _read(runner: git.Git, bare: Path, revision: str, environments: list[str]) -> ServiceRepo:
    paths = [RECORD_PATH, *(f"{OVERLAYS}/{env}" for env in environments)]
    with _reading("list the service repository"):
        listing = runner.execute(["git", f"--git-dir={bare}", "ls-tree", "-l", "-z",
                                  "--full-tree", revision, "--", *paths],
                                 kill_after_timeout=TIMEOUT_SECONDS)
    entries = {path: (mode, kind, obj, size)
               for mode, kind, obj, size, path in _ENTRY.findall(str(listing))}
    overlays = frozenset(env for env in environments
                         if entries.get(f"{OVERLAYS}/{env}", ("", ""))[1] == "tree")
    entry = entries.get(RECORD_PATH)
    if entry is None:
        return ServiceRepo(overlays, None, f"{RECORD_PATH} is missing")
    mode, _, obj, size = entry
    if mode not in _REGULAR_FILE_MODES:
        return ServiceRepo(overlays, None, f"{RECORD_PATH} is not a regular file")
    if int(size) > MAX_RECORD_BYTES:
        return ServiceRepo(overlays, None, f"{RECORD_PATH} is larger than "
                                           f"{MAX_RECORD_BYTES} bytes")
    with _reading("read the record of the service repository"):
        raw = runner.execute(["git", f"--git-dir={bare}", "cat-file", "blob", obj],
                             stdout_as_string=False, strip_newline_in_stdout=False)
    try:
        return ServiceRepo(overlays, parse_record(bytes(raw)))
    except TemplateError as err:
        return ServiceRepo(overlays, None, str(err))
