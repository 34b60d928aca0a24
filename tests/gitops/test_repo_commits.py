"""Commits built by ``git fast-import`` in the cache (``Workspace.committer``): one
process makes a whole chain, each commit's id exactly what git makes of the same tree,
parent, author, committer and message one commit at a time; a fast-import that dies or
runs out of room fails the chain with git's reason, pushes nothing, and never outlives
the block that started it.

The processes are real: they are found and counted in ``/proc`` and in git's own trace
(``GIT_TRACE2_EVENT``), killed with SIGKILL and limited with ``prlimit`` as a full disk
does (see ``tests/api/test_state_faults.py``).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from goldenpath.errors import DiskFull, GitError
from goldenpath.gitops import repo
from goldenpath.gitops.ownership import blob_id
from goldenpath.gitops.repo import Author, Remote, Workspace
from goldenpath.services import gitops
from goldenpath.services import teams as svc
from goldenpath.settings import Settings
from goldenpath.statefile import ROOM
from tests.factories import platform_doc, team_doc, write_platform
from tests.gitops.conftest import commits, git

WHEN = 1_700_000_000
#: what each step of a chain commits: (its base: None, "seed" or an earlier step's
#: index, files written, files deleted, message, author)
Step = tuple[str | int | None, dict[str, bytes], set[str], str, Author | None]
ZOE = Author("Zoë Ångström", "zoe@example.com")
STEPS: list[Step] = [
    ("seed", {"a.yaml": b"two\n", '"quoted.yaml': b"q\n", "back\\slash.yaml": b"b\n",
              "new\nline.yaml": b"n\n", "dir/sub/x.yaml": b"x" * 70_000}, {"gone.yaml"},
     "first\n\nRequest-Id: r-1\n", None),
    (0, {"a.yaml": b"three\n", "dir/sub/y.yaml": b""}, {"back\\slash.yaml", "dir/sub/x.yaml"},
     "second: naïve ✓\n", ZOE),
    (1, {}, {"dir/sub/y.yaml"}, "third, no newline at the end", ZOE),
    (0, {"a.yaml": b"off the first\n"}, set(), "a branch off an earlier commit\n", None),
    ("seed", {"b.yaml": b"b\n"}, set(), "on the commit from before\n", None),
    (None, {"root.yaml": b"r\n"}, set(), "a new root\n", ZOE),
    (5, {"root.yaml": b"r2\n"}, {"a.yaml"}, "on the new root\n", None),
]
SEED: dict[str, bytes] = {"a.yaml": b"one\n", "gone.yaml": b"g\n", "dir/keep.yaml": b"k\n"}


@pytest.fixture
def ws(tmp_path: Path, remote: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh cache of ``remote`` on a fixed clock, committed by "Release Bot"."""
    monkeypatch.setattr(repo, "time", SimpleNamespace(time=lambda: WHEN + 0.75))
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Release Bot")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "bot@example.com")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(name, raising=False)
    with Workspace.open(tmp_path / "cache", Remote(str(remote)), keep=False) as opened:
        yield opened


def _fast_imports() -> list[int]:
    """The pids of this process's children that run ``git fast-import``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if int(stat.rpartition(")")[2].split()[1]) == os.getpid() and b"fast-import" in argv:
            found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    """Ended and reaped: a zombie keeps its /proc entry until its parent waits for it."""
    return not Path(f"/proc/{pid}").exists()


def _by_plumbing(path: Path, index: Path, base: str | None, step: Step) -> str:
    """The commit git's plumbing makes of a step's change on ``base``: what
    ``ws.commit`` must give."""
    _, writes, deletes, message, author = step
    who = author or Author("goldenpath", "goldenpath@localhost")
    env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_AUTHOR_NAME": who.name,
           "GIT_AUTHOR_EMAIL": who.email, "GIT_AUTHOR_DATE": f"{WHEN} +0000",
           "GIT_COMMITTER_DATE": f"{WHEN} +0000"}

    def run(*args: str, data: bytes = b"") -> str:
        return subprocess.run(["git", *args], cwd=path, env=env, input=data, check=True,
                              capture_output=True).stdout.decode().strip()

    run("read-tree", base) if base else run("read-tree", "--empty")
    entries = [b"0 %s\t%s\0" % (b"0" * 40, p.encode()) for p in sorted(deletes)]
    entries += [b"100644 %s\t%s\0" % (run("hash-object", "-w", "--stdin", data=c).encode(),
                                      p.encode()) for p, c in sorted(writes.items())]
    run("update-index", "-z", "--index-info", data=b"".join(entries))
    parents = ("-p", base) if base else ()
    return run("commit-tree", run("write-tree"), *parents, data=message.encode())


def _made(ws: Workspace, way: str) -> list[str]:
    """The ids of STEPS, committed on a seed commit one by one (``ws.commit``, one
    fast-import each) or by one fast-import (``ws.committer``)."""
    seed = ws.commit(None, SEED, set(), "seed\n")
    made: list[str] = []

    def base(step: Step) -> str | None:
        return None if step[0] is None else seed if step[0] == "seed" else made[int(step[0])]

    if way == "one by one":
        for step in STEPS:
            made.append(ws.commit(base(step), *step[1:]))
    else:
        with ws.committer() as commit:
            for step in STEPS:
                made.append(commit(base(step), *step[1:]))
    return [seed, *made]


@pytest.mark.parametrize("way", ["one by one", "one process"])
def test_commits_are_what_git_makes_of_the_same_change(
        ws: Workspace, tmp_path: Path, way: str) -> None:
    """The same ids either way (the one-by-one path is today's, and passes on it): C-quoted
    paths, a deletion, an empty file, a message without its last newline, the committer
    from the environment, a commit off an earlier one, a root commit in mid-chain."""
    made = _made(ws, way)
    index = tmp_path / "index"
    expected = [_by_plumbing(ws.path, index, None, (None, SEED, set(), "seed\n", None))]
    for step in STEPS:
        parent = None if step[0] is None else expected[0] if step[0] == "seed" else \
            expected[int(step[0]) + 1]
        expected.append(_by_plumbing(ws.path, index, parent, step))
    assert made == expected
    header = git("cat-file", "commit", made[2], cwd=ws.path)
    assert f"author Zoë Ångström <zoe@example.com> {WHEN} +0000\n" in header
    assert f"committer Release Bot <bot@example.com> {WHEN} +0000\n" in header
    assert git("ls-tree", "-r", "--name-only", made[1], cwd=ws.path).splitlines() == [
        '"\\"quoted.yaml"', "a.yaml", '"back\\\\slash.yaml"', "dir/keep.yaml",
        "dir/sub/x.yaml", '"new\\nline.yaml"']
    git("fsck", "--strict", "--no-dangling", cwd=ws.path)


def test_a_chain_is_one_fast_import_that_ends_with_its_block(
        ws: Workspace, remote: Path) -> None:
    """The blobs it wrote are read through it while it runs (the rest of git sees them
    only once it ended); after the block no fast-import is left, not even a zombie."""
    seed = ws.commit(None, SEED, set(), "seed\n")
    with ws.committer() as commit:
        running = _fast_imports()
        assert len(running) == 1
        first = commit(seed, {"a.yaml": b"mine\n"}, set(), "first\n")
        blob = ws.tree(seed)["a.yaml"]
        written = blob_id(b"mine\n")
        assert ws.read(written) == b"mine\n"
        assert ws.read_many([written, blob]) == {written: b"mine\n", blob: b"one\n"}
        with pytest.raises(GitError) as missing:
            ws.read("1" * 40)
        assert str(missing.value) == \
            f"cannot read a file from the local cache of {remote}: {'1' * 40} is not there"
        second = commit(first, {"b.yaml": b"b\n"}, {"a.yaml"}, "second\n")  # it goes on
        assert _fast_imports() == running
    assert _gone(running[0])
    assert git("log", "--format=%H", second, cwd=ws.path).split() == [second, first, seed]


def test_an_error_in_the_block_kills_and_reaps_the_fast_import(ws: Workspace) -> None:
    seed = ws.commit(None, SEED, set(), "seed\n")
    with pytest.raises(KeyError, match="an edit's own bug"), ws.committer() as commit:
        (running,) = _fast_imports()
        commit(seed, {"a.yaml": b"x\n"}, set(), "first\n")
        raise KeyError("an edit's own bug")
    assert _gone(running)


def _kill_fast_import() -> None:
    (running,) = _fast_imports()
    os.kill(running, signal.SIGKILL)
    os.waitid(os.P_PID, running, os.WEXITED | os.WNOWAIT)  # dead (not reaped: ours to do)


def test_a_fast_import_killed_mid_chain_fails_it_with_git_s_reason(
        ws: Workspace, remote: Path) -> None:
    """Every later commit and the block's end say so, even when the block went on after
    the error (a chain skips an edit that failed): its commits are lost with it."""
    seed = ws.commit(None, SEED, set(), "seed\n")
    said = f"cannot build a commit in the local cache of {remote}: git was killed by SIGKILL"
    errors = []
    with pytest.raises(GitError) as ended, ws.committer() as commit:
        (running,) = _fast_imports()
        first = commit(seed, {"a.yaml": b"x\n"}, set(), "first\n")
        _kill_fast_import()
        for _ in range(2):
            with pytest.raises(GitError) as failed:
                commit(first, {"b.yaml": b"b\n"}, set(), "second\n")
            errors.append(str(failed.value))
    assert errors == [said, said]
    assert str(ended.value) == said
    assert type(ended.value) is GitError
    assert _gone(running)
    assert not list(ws.path.glob("fast_import_crash_*"))  # killed: it reported nothing



def test_a_commit_git_refuses_fails_the_chain_in_git_s_words(
        ws: Workspace, remote: Path) -> None:
    """Without the cache's path (git names its crash report there)."""
    seed = ws.commit(None, SEED, set(), "seed\n")
    with pytest.raises(GitError) as refused, ws.committer() as commit:
        first = commit(seed, {"a.yaml": b"x\n"}, set(), "first\n")
        commit(first, {"a//b.yaml": b"x\n"}, set(), "an empty path component\n")
    assert str(refused.value) == (f"cannot build a commit in the local cache of {remote}: "
                                  "Empty path component found in input")
    assert [p.name.startswith("fast_import_crash_") for p in ws.path.iterdir()
            if "crash" in p.name] == [True]

def test_a_fast_import_out_of_room_is_disk_full(ws: Workspace, remote: Path) -> None:
    """Its files limited to one byte mid-chain (``prlimit``, as the kernel does on a full
    disk): SIGXFSZ kills it as it writes the pack; DiskFull, which the worker retries."""
    seed = ws.commit(None, SEED, set(), "seed\n")
    with pytest.raises(DiskFull) as full, ws.committer() as commit:
        (running,) = _fast_imports()
        first = commit(seed, {"a.yaml": b"x\n"}, set(), "first\n")
        _, hard = resource.prlimit(running, resource.RLIMIT_FSIZE)
        resource.prlimit(running, resource.RLIMIT_FSIZE, (1, hard))
        commit(first, {"big.bin": os.urandom(1 << 20)}, set(), "second\n")
    assert str(full.value) == (
        f"cannot build a commit in the local cache of {remote}: git was killed by SIGXFSZ: "
        f"a file it wrote outgrew the file size limit (the disk is full); {ROOM}")
    assert _gone(running)



def test_a_chain_killed_in_a_kept_cache_leaves_no_part_of_its_pack(
        tmp_path: Path, remote: Path) -> None:
    """What it wrote before it was killed (a megabyte) is gone with the lock: no room
    kept by the pack it never finished, which would grow with every chain killed."""
    cache, origin = tmp_path / "cache", Remote(str(remote))
    with Workspace.open(cache, origin) as ws:
        seed = ws.commit(None, SEED, set(), "seed\n")
    with pytest.raises(KeyError), Workspace.open(cache, origin) as ws, \
            ws.committer() as commit:
        commit(seed, {"big.bin": os.urandom(1 << 20)}, set(), "big\n")
        assert [p.stat().st_size > 1 << 19 for p in (ws.path / "objects/pack").glob("tmp_*")] \
            == [True]
        raise KeyError("an edit's own bug")
    assert not list((ws.path / "objects/pack").glob("tmp_*"))
    git("fsck", "--strict", "--no-dangling", cwd=ws.path)

# --- the chain of a batch of team changes ----------------------------------------------


@pytest.fixture
def where(tmp_path: Path, remote: Path) -> svc.Where:
    platform = write_platform(tmp_path / "seed", platform_doc(),
                              [team_doc(name) for name in ("alpha", "beta", "gamma")])
    seeded = svc.Where(str(remote), "main", Settings(state_dir=tmp_path / "state"))
    assert svc.seed(platform, seeded) is not None
    return seeded


def _asks(where: svc.Where) -> list[svc.Proposal]:
    """Two onboardings (both change the platform's AppProject: the second reads what the
    first wrote) and quota updates of every seeded team."""
    asks = [svc.onboarding(team_doc("delta")), svc.onboarding(team_doc("epsilon"))]
    for name in ("alpha", "beta", "gamma"):
        found = svc.get_team(name, where)
        doc = dict(found.document, spec={**found.document["spec"], "quota": {"cpu": "7"}})
        asks.append(svc.updating(name, doc, found.etag))
    return asks


def _starts(trace: Path, command: str) -> int:
    """How many ``git <command>`` processes git's trace saw start."""
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    return sum(1 for e in events if e["event"] == "start" and e["argv"][1:2] == [command])


def _make_all(where: svc.Where, asks: list[svc.Proposal]) -> list[Any]:
    return svc.make_all([(ask, svc.Requester("user:bob@example.com", f"req-{n}"))
                         for n, ask in enumerate(asks)], where)


def test_a_batch_of_changes_is_committed_by_one_fast_import(
        where: svc.Where, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asks = _asks(where)
    before = commits(remote)
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    outcomes = _make_all(where, asks)
    monkeypatch.delenv("GIT_TRACE2_EVENT")
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert _starts(trace, "fast-import") == 1
    assert len(commits(remote)) == len(before) + len(asks)
    assert not _fast_imports()
    git("fsck", "--strict", "--no-dangling", cwd=remote)


def _killing(edit: gitops.Edit) -> gitops.Edit:
    def killed_first(root: Path, specs: Mapping[str, str]) -> None:
        _kill_fast_import()
        edit(root, specs)
    return killed_first


def test_a_fast_import_killed_mid_batch_fails_it_whole_and_pushes_nothing(
        where: svc.Where, remote: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not one edit's failure, skipped: the commits made before it died are lost."""
    asks = _asks(where)
    asks[2] = replace(asks[2], edit=_killing(asks[2].edit))
    before = commits(remote)
    with pytest.raises(GitError) as failed:
        _make_all(where, asks)
    assert str(failed.value) == \
        f"cannot build a commit in the local cache of {remote}: git was killed by SIGKILL"
    assert commits(remote) == before
    assert not _fast_imports()
    outcomes = _make_all(where, _asks(where))  # the next batch succeeds
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes


def test_an_edit_that_fails_mid_chain_is_skipped_on_the_same_fast_import(
        where: svc.Where, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asks = _asks(where)
    stale = svc.get_team("beta", where)
    asks.insert(3, svc.updating("beta", stale.document, "0" * 40))  # a stale If-Match
    trace = tmp_path / "trace.json"
    monkeypatch.setenv("GIT_TRACE2_EVENT", str(trace))
    outcomes = _make_all(where, asks)
    monkeypatch.delenv("GIT_TRACE2_EVENT")
    assert [type(o).__name__ for o in outcomes] == \
        ["TeamChange"] * 3 + ["PreconditionFailed"] + ["TeamChange"] * 2
    assert _starts(trace, "fast-import") == 1
    made = [o.commit for o in outcomes if isinstance(o, svc.TeamChange)]
    assert git("rev-list", "--first-parent", f"-{len(made)}", "--reverse", "main",
               cwd=remote).split() == made

