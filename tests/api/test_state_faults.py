"""A ``goldenpath serve`` process whose disk fills, and whose state directory cannot be
used (issue 13, item 3): ``/readyz`` says so, writes are answered 503 with what is wrong,
where and what to do (never a 500 and a traceback), a request accepted before waits and
is retried, and everything proceeds once there is room, without a restart. A state
directory that is a file stops ``serve`` before it starts, with one line saying so.

The faults are real. The disk fills: the running server's ``RLIMIT_FSIZE`` is lowered
to one byte (``prlimit``, its soft limit, which the test can raise again): every write
of more than that fails with EFBIG in the server, and the git it runs is killed by
SIGXFSZ, as on a full disk; the limit raised again is the space freed. The state
directory becomes unwritable, for root too (tests may run as root, whom permissions do
not stop): ``chattr -R +i`` makes it and everything in it immutable (skipped where the
filesystem has no such attribute).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from goldenpath.statefile import ROOM
from tests.api.conftest import make_settings
from tests.api.served import ADMIN, Served, finals, fsck, is_ready, request_ids, serve, until
from tests.api.test_teams import new_team
from tests.gitops.conftest import git

pytestmark = pytest.mark.slow

#: how long an answer may take while the disk is full ("fail fast")
FAST = 5.0


def _fill(served: Served) -> None:
    _, hard = resource.prlimit(served.process.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(served.process.pid, resource.RLIMIT_FSIZE, (1, hard))


def _free(served: Served) -> None:
    _, hard = resource.prlimit(served.process.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(served.process.pid, resource.RLIMIT_FSIZE, (hard, hard))


def _timed(call: Any) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    answer = call()
    return answer, time.monotonic() - began


def _onboard(served: Served, name: str) -> httpx.Response:
    return httpx.post(f"{served.url}/teams", json=new_team(name), headers=ADMIN, timeout=30)


def test_a_full_disk_under_the_embedded_state(tmp_path: Path) -> None:
    """Everything in the state directory (SQLite, the embedded control repository, the
    caches): nothing can be accepted while the disk is full; all of it works again once
    there is room."""
    settings = make_settings(tmp_path)
    state = settings.state_dir
    with serve(settings, tmp_path / "server.log") as served:
        first = _onboard(served, "before").json()["id"]
        finals(served.url, [first], 60)
        _fill(served)

        ready, took = _timed(lambda: httpx.get(f"{served.url}/readyz", timeout=30))
        assert ready.status_code == 503 and took < FAST, (ready.text, took)
        assert ready.json()["checks"] == {
            "database": "ok", "git": "ok",
            "state": f"cannot use the state directory {state}: File too large; free space "
                     "(or raise the file size limit) where goldenpath writes: "
                     f"{state} and {tempfile.gettempdir()} (TMPDIR)"}
        refused, took = _timed(lambda: _onboard(served, "during"))
        assert refused.status_code == 503 and took < FAST, (refused.text, took)
        body = refused.json()
        # what failed first (here, in practice, a temporary file the cache's git reads
        # from) depends on what the cache holds; where and what to do do not
        assert body["error"] == "DiskFull", body
        assert body["message"].startswith("cannot "), body
        assert f" {state.resolve()}/gitops.git: " in body["message"], body
        assert body["message"].endswith(f"; {ROOM}"), body
        assert not list(state.glob(".goldenpath-ready*"))  # the probe left nothing

        _free(served)
        until(lambda: is_ready(served), 30, "/readyz once there is room")
        after = _onboard(served, "after")
        assert after.status_code == 202, after.text
        done = finals(served.url, [after.json()["id"]], 60)
        assert [outcome for outcome, _ in done.values()] == ["succeeded"]
        assert served.process.poll() is None  # the same process throughout
    control = settings.embedded_gitops_repo
    teams = git("ls-tree", "--name-only", "main", "platform/teams/", cwd=control).split()
    assert "platform/teams/during.yaml" not in teams
    assert {"platform/teams/before.yaml", "platform/teams/after.yaml"} <= set(teams)
    fsck(control)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_request_accepted_before_the_disk_filled_waits_for_room(
        tmp_path: Path, database_url: str) -> None:
    """The database elsewhere (PostgreSQL): a team change and a scaffold are accepted,
    the disk fills before the worker does them: the worker gives them back to the queue
    with the reason and retries; once there is room each completes, once, and no
    repository is left half made."""
    settings = make_settings(tmp_path)
    with serve(settings, tmp_path / "server.log", GOLDENPATH_DATABASE_URL=database_url,
               GOLDENPATH_API_WORKERS="0") as accepting, \
            serve(settings, tmp_path / "worker.log",
                  GOLDENPATH_DATABASE_URL=database_url) as working:
        control = settings.embedded_gitops_repo
        seeded = git("rev-parse", "main", cwd=control).strip()
        _fill(working)
        accepted = _onboard(accepting, "waiting")
        assert accepted.status_code == 202, accepted.text
        rid = accepted.json()["id"]
        scaffold = httpx.post(f"{accepting.url}/teams/payments/services", headers=ADMIN,
                              timeout=30, json={"name": "refunds", "template": "python-worker",
                                                "parameters": {"queue": "refunds"}})
        assert scaffold.status_code == 202, scaffold.text
        sid = scaffold.json()["id"]

        def retried(request: str) -> list[str]:
            log = httpx.get(f"{accepting.url}/requests/{request}", headers=ADMIN,
                            timeout=30).json()["log"]
            return [line["message"] for line in log
                    if "the request stays queued" in line["message"]]

        until(lambda: len(retried(rid)) >= 2 and len(retried(sid)) >= 2, 60, "two retries")
        assert retried(rid)[0].startswith("DiskFull: cannot fetch branch main from ")
        assert "git was killed by SIGXFSZ: a file it wrote outgrew the file size limit (the " \
            f"disk is full); {ROOM}; the request stays queued: retry 1 at " in retried(rid)[0]
        assert retried(sid)[0].startswith("DiskFull: "), retried(sid)[0]
        assert git("rev-parse", "main", cwd=control).strip() == seeded
        assert not (settings.state_dir / "repos" / "payments" / "refunds.git").exists()

        _free(working)
        done = finals(accepting.url, [rid, sid], 60)
    assert [done[rid][0], done[sid][0]] == ["succeeded", "succeeded"], done
    assert sorted(request_ids(control, seeded)) == sorted([rid, sid])  # each once
    repository = settings.state_dir / "repos" / "payments" / "refunds.git"
    assert git("rev-parse", "main", cwd=repository).strip() == done[sid][1]["commit"]
    fsck(control)
    fsck(repository)


def test_serve_refuses_a_state_directory_that_is_a_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.state_dir.write_text("not a directory")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    env.update(GOLDENPATH_STATE_DIR=str(settings.state_dir),
               PYTHONPATH=os.pathsep.join(sys.path))
    started = subprocess.run([sys.executable, "-c", "from goldenpath.cli import main; main()",
                              "serve", "--port", "1", "--platform", str(settings.platform_dir)],
                             env=env, capture_output=True, text=True, timeout=120, check=False)
    assert started.returncode == 1
    assert " ".join(started.stderr.split()) == (
        f"error: the state directory {settings.state_dir} is not usable: "
        f"{settings.state_dir} is a file; set GOLDENPATH_STATE_DIR to a directory")
    assert "Traceback" not in started.stdout + started.stderr


def _immutable(path: Path, on: bool) -> None:
    subprocess.run(["chattr", "-R", "+i" if on else "-i", str(path)], check=True,
                   capture_output=True, timeout=60)


def test_an_unwritable_state_directory(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    state = settings.state_dir
    with serve(settings, tmp_path / "server.log") as served:
        first = _onboard(served, "before").json()["id"]
        finals(served.url, [first], 60)
        try:
            _immutable(state, True)
        except (OSError, subprocess.CalledProcessError) as err:
            pytest.skip(f"chattr +i is not available here: {err}")
        try:
            ready, took = _timed(lambda: httpx.get(f"{served.url}/readyz", timeout=30))
            assert ready.status_code == 503 and took < FAST, (ready.text, took)
            checks = ready.json()["checks"]
            fix = (f"; make {state} writable by goldenpath's user, or set "
                   "GOLDENPATH_STATE_DIR to a directory it can write")
            assert checks["state"].startswith(f"cannot use the state directory {state}: "
                                              f"Operation not permitted ({state}/")
            assert checks["state"].endswith(fix)
            refused, took = _timed(lambda: _onboard(served, "during"))
            assert refused.status_code == 503 and took < FAST, (refused.text, took)
            (cache,) = (state / "cache").glob("*.git")
            assert refused.json() == {
                "error": "FileSystemError", "details": [], "guardrails": [],
                "message": f"cannot use the state directory {state}: Operation not "
                           f"permitted ({cache.with_suffix('.lock')}){fix}"}
            read = httpx.get(f"{served.url}/teams/payments", headers=ADMIN, timeout=30)
            assert read.status_code == 200  # what needs no write is served
        finally:
            _immutable(state, False)
        until(lambda: is_ready(served), 30, "/readyz once the directory is writable")
        after = _onboard(served, "after")
        assert after.status_code == 202, after.text
        done = finals(served.url, [after.json()["id"]], 60)
        assert [outcome for outcome, _ in done.values()] == ["succeeded"]
    teams = git("ls-tree", "--name-only", "main", "platform/teams/",
                cwd=settings.embedded_gitops_repo).split()
    assert "platform/teams/during.yaml" not in teams
    assert "platform/teams/after.yaml" in teams
