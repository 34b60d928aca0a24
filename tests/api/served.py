"""Real ``goldenpath serve`` processes for the tests that need one (or several) on
127.0.0.1: faults survived (``test_faults.py``), replicas sharing one database and one
control repository (``test_replicas.py``).

Each process runs the CLI's ``serve`` with the test's settings in its environment (no
inherited ``GOLDENPATH_*`` variable), logs JSON lines to a pipe that the test copies to a
file (a limit on the server's own writes does not stop its log), and is stopped with
SIGINT (SIGKILL after 20 s) however the test ends. Every wait is bounded (:func:`until`).
Each runs in a process group of its own, so :meth:`Served.kill` can SIGKILL it with every
process it started (git, its hooks), as a container's end does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from goldenpath.settings import Settings
from tests.api.conftest import ADMIN_TOKEN
from tests.gitdaemon import free_port
from tests.gitops.conftest import git

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FINAL = {"succeeded", "failed", "rejected"}


@dataclass
class Served:
    """A ``goldenpath serve`` process and its log (a file: it logs every request)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()
                if line.startswith("{")]

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown: the workers finish their request)."""
        self.interrupt()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """SIGKILL the server and every process of its group (its git commands and the
        hooks they run): nothing of it finishes what it was doing."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def interrupt(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)


def start(settings: Settings, log: Path, **env: str) -> Served:
    """Start ``goldenpath serve`` on a free port (not waiting for it: see :func:`ready`)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOLDENPATH_")}
    environ.update(GOLDENPATH_STATE_DIR=str(settings.state_dir),
                   GOLDENPATH_TEMPLATES_ROOT=str(settings.templates_root),
                   GOLDENPATH_ADMIN_TOKEN=ADMIN_TOKEN, GOLDENPATH_API_WRITE_WAIT_SECONDS="0",
                   GOLDENPATH_API_LEASE_SECONDS="3", GOLDENPATH_API_RETRY_SECONDS="0.5",
                   GOLDENPATH_API_RETRY_MAX_SECONDS="2", PYTHONPATH=os.pathsep.join(sys.path),
                   **env)
    command = [sys.executable, "-c", "from goldenpath.cli import main; main()", "serve",
               "--port", str(port), "--platform", str(settings.platform_dir)]
    process = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    log.write_bytes(b"")
    threading.Thread(target=_copy, args=(process.stdout, log), daemon=True).start()
    return Served(f"http://127.0.0.1:{port}/v1", process, log)


def _copy(output: IO[bytes], log: Path) -> None:
    """The server's output into its log, by this process: the server writes a pipe, as
    to a container's log, so a limit on its own writes (a full disk) does not stop it."""
    with output, log.open("ab") as out:
        for line in output:
            out.write(line)
            out.flush()


@contextmanager
def serve(settings: Settings, log: Path, **env: str) -> Iterator[Served]:
    """One server, ready, for the duration of the block."""
    with serving([(settings, log)], **env) as [served]:
        yield served


@contextmanager
def serving(replicas: Sequence[tuple[Settings, Path]], **env: str) -> Iterator[list[Served]]:
    """Several servers (each its settings and log, the same ``env``), started at once and
    all ready, for the duration of the block; every one stopped however it ends."""
    started: list[Served] = []
    try:
        for settings, log in replicas:
            started.append(start(settings, log, **env))
        for served in started:
            until(lambda s=served: is_ready(s), 90, "the server to get ready")
        yield started
    finally:
        for served in started:  # all at once: each waits for its workers
            served.interrupt()
        for served in started:
            served.stop()


def is_ready(served: Served) -> bool:
    """Whether ``/readyz`` answers 200 (fails at once if the process exited)."""
    assert served.process.poll() is None, served.log.read_text()[-3000:]
    try:
        return httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def until(check: Callable[[], Any], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def request_ids(remote: Path, since: str) -> list[str]:
    """The Request-Id of every commit on main after ``since``, newest first."""
    out = git("log", "--format=%(trailers:key=Request-Id,valueonly)%x00",
              f"{since}..main", cwd=remote)
    return [rid.strip() for rid in out.split("\0") if rid.strip()]


def finals(url: str, ids: Sequence[str], seconds: float) -> dict[str, tuple[str, Any]]:
    """rid -> (state, result) once every request is final (asked of the server at
    ``url``)."""
    found: dict[str, tuple[str, Any]] = {}

    def done() -> bool:
        for rid in ids:
            if rid not in found:
                body = httpx.get(f"{url}/requests/{rid}", headers=ADMIN, timeout=30).json()
                if body["state"] in FINAL:
                    found[rid] = (body["state"], body["result"])
        return len(found) == len(set(ids))

    until(done, seconds, "every accepted request to finish")
    return found


def fsck(repository: Path) -> None:
    """``git fsck --strict`` finds nothing wrong (no dangling object reported either)."""
    subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=repository, check=True,
                   capture_output=True)
