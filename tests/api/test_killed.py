"""A ``goldenpath serve`` process SIGKILLed in the middle of a request (issue 13, item 3),
then a new server started on the same database and remotes: the request finishes exactly
once and the remotes are consistent.

"In the middle" is made certain with a real seam, not a mock: git hooks on the remotes
(:class:`Gate`). A push meets ``pre-receive`` after its objects arrived and before any
ref moves, and ``post-receive`` after the refs moved; either hook, when the test holds
it, says so through a file and waits. The server is then provably mid-push, and it is
killed with its whole process group (git and the hook with it), as a container is. Each
window of the code is killed in:

- an apply (a team update): its push not landed (``pre-receive``); landed, with the
  database not told (``post-receive``);
- a scaffold (``service_repos: platform``: the service repository is a remote of its
  own): the service repository's push not landed; pushed and its listing commit not
  landed on the control repository; listed, with the database not told.

The side effects are counted, not the log lines: commits by ``Request-Id`` trailer,
pushes by the ``post-receive`` hook's record of each ref it moved, commits in each
service repository; ``git fsck --strict`` finds nothing wrong in any remote.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenpath.services import teams
from goldenpath.settings import Settings
from tests.api.conftest import make_settings
from tests.api.served import ADMIN, Served, finals, fsck, request_ids, serve, until
from tests.gitops.conftest import git

pytestmark = pytest.mark.slow

#: how long a hook holds a push at most (then it lets it through): the test never hangs
_HOLD_SECONDS = 120

_HOOK = """#!/bin/sh
# {name}: record each ref moved (post-receive), and wait while the test holds this hook
gate='{gate}'
{record}
if [ -e "$gate/hold-{name}" ]; then
  : > "$gate/at-{name}"
  n=0
  while [ -e "$gate/hold-{name}" ] && [ "$n" -lt {ticks} ]; do sleep 0.1; n=$((n+1)); done
fi
exit 0
"""
_RECORD = {"pre-receive": "cat > /dev/null",
           "post-receive": 'while read old new ref; do echo "$old $new $ref" >> "$gate/pushes"; '
                           "done"}


@dataclass(frozen=True)
class Gate:
    """The hooks of one bare repository: they count pushes and hold one on demand."""

    repository: Path
    directory: Path

    @classmethod
    def install(cls, repository: Path, directory: Path) -> Gate:
        directory.mkdir(parents=True)
        for name, record in _RECORD.items():
            hook = repository / "hooks" / name
            hook.parent.mkdir(exist_ok=True)
            hook.write_text(_HOOK.format(name=name, gate=directory, record=record,
                                         ticks=_HOLD_SECONDS * 10))
            hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
        return cls(repository, directory)

    def hold(self, hook: str) -> None:
        (self.directory / f"hold-{hook}").touch()

    def held(self, hook: str) -> bool:
        return (self.directory / f"at-{hook}").exists()

    def release(self) -> None:
        for name in _RECORD:
            (self.directory / f"hold-{name}").unlink(missing_ok=True)
            (self.directory / f"at-{name}").unlink(missing_ok=True)

    def pushes(self) -> list[tuple[str, str]]:
        """(new commit, ref) of every ref a push moved, in order."""
        log = self.directory / "pushes"
        lines = log.read_text().splitlines() if log.exists() else []
        return [(new, ref) for _, new, ref in (line.split() for line in lines)]


#: makes one request of a server; its id
Send = Callable[[Served], str]


@dataclass
class Stage:
    """The servers' settings and environment, the control repository and its gate."""

    tmp: Path
    settings: Settings
    control: Gate
    seeded: str
    env: dict[str, str]
    started: int = 0

    def server(self) -> AbstractContextManager[Served]:
        self.started += 1
        return serve(self.settings, self.tmp / f"server-{self.started}.log", **self.env)

    def killed_while(self, gate: Gate, hook: str, send: Send) -> str:
        """Start a server, hold ``hook`` of ``gate``, make the request ``send`` sends
        (its id), and SIGKILL the server (with its git and the hook) once the push
        reached the hook."""
        with self.server() as served:
            gate.hold(hook)
            rid = send(served)
            # (not asking the server meanwhile: a reader of the specs waits for the cache
            # of the control repository, which the held push keeps locked)
            until(lambda: gate.held(hook), 120, f"the push of request {rid} to reach {hook}")
            served.kill()
        gate.release()
        return rid

    def finish(self, rid: str) -> dict[str, Any]:
        """A new server on the same database and remotes; the request once final."""
        with self.server() as served:
            (state, _), = finals(served.url, [rid], 120).values()
            body: dict[str, Any] = httpx.get(f"{served.url}/requests/{rid}", headers=ADMIN,
                                             timeout=30).json()
        assert state == "succeeded", body
        return body


def _stage(tmp_path: Path, url_template: str = "", **overrides: Any) -> Stage:
    """A control repository seeded from the example platform (its service repositories
    at ``url_template``, when given), with its gate."""
    remote = tmp_path / "remotes" / "control.git"
    git("init", "--bare", "-q", "-b", "main", str(remote))
    settings = make_settings(tmp_path, gitops_repo=str(remote), **overrides)
    if url_template:
        platform = settings.platform_dir / "platform.yaml"
        platform.write_text(platform.read_text().replace(
            "https://git.example.com/{team}/{service}.git", url_template))
    seeded = teams.seed(settings.platform_dir, teams.Where(settings=settings))
    assert seeded is not None and seeded.commit is not None
    gate = Gate.install(remote, tmp_path / "gates" / "control")
    env = {"GOLDENPATH_GITOPS_REPO": str(remote)}
    if settings.service_repos != "embedded":
        env["GOLDENPATH_SERVICE_REPOS"] = settings.service_repos
    return Stage(tmp_path, settings, gate, seeded.commit, env)


def _commits(remote: Path, rid: str) -> list[str]:
    return git("log", "--format=%H", f"--grep=^Request-Id: {rid}$", "main",
               cwd=remote).split()


# --- an apply ----------------------------------------------------------------------------


def _update_viewers(viewer: str) -> Send:
    def send(served: Served) -> str:
        read = httpx.get(f"{served.url}/teams/payments", headers=ADMIN, timeout=30)
        doc = read.json()["spec"]
        doc["spec"]["viewers"] = [*doc["spec"].get("viewers", []), viewer]
        answer = httpx.put(f"{served.url}/teams/payments", json=doc, timeout=30,
                           headers={**ADMIN, "If-Match": read.headers["ETag"]})
        assert answer.status_code == 202, answer.text
        rid: str = answer.json()["id"]
        return rid
    return send


def test_killed_during_an_apply(tmp_path: Path) -> None:
    stage = _stage(tmp_path)
    control = stage.control.repository

    # 1. killed while its push waits in pre-receive: nothing landed; the next server
    #    commits and pushes it, once
    head = git("rev-parse", "main", cwd=control).strip()
    rid = stage.killed_while(stage.control, "pre-receive", _update_viewers("user:a@example.com"))
    assert git("rev-parse", "main", cwd=control).strip() == head
    assert stage.control.pushes() == []
    done = stage.finish(rid)
    assert done["attempts"] == 2
    (commit,) = _commits(control, rid)
    assert done["result"]["commit"] == commit
    assert stage.control.pushes() == [(commit, "refs/heads/main")]

    # 2. killed in post-receive: the push landed, the database was not told; the next
    #    server finds the change made and commits nothing again
    rid = stage.killed_while(stage.control, "post-receive",
                             _update_viewers("user:b@example.com"))
    (commit,) = _commits(control, rid)
    assert stage.control.pushes()[1:] == [(commit, "refs/heads/main")]
    done = stage.finish(rid)
    assert done["attempts"] == 2
    assert _commits(control, rid) == [commit]
    assert done["result"]["commit"] is None  # this attempt committed nothing
    assert len(stage.control.pushes()) == 2  # nothing pushed after the kill

    assert len(request_ids(control, stage.seeded)) == 2
    team = git("show", "main:platform/teams/payments.yaml", cwd=control)
    assert team.count("user:a@example.com") == team.count("user:b@example.com") == 1
    fsck(control)


# --- a scaffold --------------------------------------------------------------------------


def _scaffold(name: str) -> Send:
    def send(served: Served) -> str:
        answer = httpx.post(f"{served.url}/teams/payments/services", headers=ADMIN,
                            timeout=30, json={"name": name, "template": "python-worker",
                                              "parameters": {"queue": name}})
        assert answer.status_code == 202, answer.text
        rid: str = answer.json()["id"]
        return rid
    return send


def test_killed_during_a_scaffold(tmp_path: Path) -> None:
    remotes = tmp_path / "remotes"
    stage = _stage(tmp_path, service_repos="platform",
                   url_template=f"{remotes}/{{team}}/{{service}}.git")
    control = stage.control.repository
    services = {}
    for name in ("mailer", "ledgers", "invoices"):  # a host that made the repository empty
        repository = remotes / "payments" / f"{name}.git"
        git("init", "--bare", "-q", "-b", "main", str(repository))
        services[name] = Gate.install(repository, tmp_path / "gates" / name)

    # 1. killed while the service repository's push waits: nothing landed anywhere
    first = stage.killed_while(services["mailer"], "pre-receive", _scaffold("mailer"))
    assert git("for-each-ref", cwd=services["mailer"].repository) == ""
    done = {first: stage.finish(first)}
    # 2. pushed, and killed while its listing waits on the control repository
    second = stage.killed_while(stage.control, "pre-receive", _scaffold("ledgers"))
    assert len(services["ledgers"].pushes()) == 1 and _commits(control, second) == []
    done[second] = stage.finish(second)
    # 3. listed, and killed before the database was told
    third = stage.killed_while(stage.control, "post-receive", _scaffold("invoices"))
    assert len(services["invoices"].pushes()) == 1 and len(_commits(control, third)) == 1
    done[third] = stage.finish(third)

    listed = git("show", "main:platform/teams/payments.yaml", cwd=control)
    for (name, gate), rid in zip(services.items(), (first, second, third), strict=True):
        result = done[rid]["result"]
        assert done[rid]["attempts"] == 2, done[rid]
        (pushed,) = gate.pushes()  # one push made the repository, none after it
        assert pushed == (result["commit"], "refs/heads/main")
        assert git("rev-list", "--count", "main", cwd=gate.repository).strip() == "1"
        (commit,) = _commits(control, rid)  # listed by one commit
        # (by this attempt, or by the killed one: then this one committed nothing)
        assert result["specCommit"] == (None if rid == third else commit)
        assert listed.count(f"- name: {name}\n") == 1
        fsck(gate.repository)
    assert sorted(request_ids(control, stage.seeded)) == sorted(done)
    assert len(stage.control.pushes()) == 3  # one listing each
    assert not (stage.settings.state_dir / "repos").exists()  # no embedded repository
    fsck(control)
