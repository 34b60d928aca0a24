"""A real PostgreSQL server for the tests, started from the machine's binaries.

PostgreSQL refuses to run as root, so when the tests run as root (CI does) the server
runs as the ``postgres`` user (``nobody`` if there is none) in a temporary directory that
user owns; otherwise it runs as the current user. It listens on 127.0.0.1 on a free port
and on a unix socket in its own directory, with password (SCRAM) authentication over TCP
so the tests exercise real credentials. Each pytest-xdist worker starts its own server;
tests share one migrated database, emptied before each test (see conftest).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

USER = "goldenpath"


def find_bin() -> Path | None:
    """The directory of initdb and pg_ctl, newest PostgreSQL first."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
                        reverse=True)
    for candidate in [*candidates, *(str(Path(w).parent) for w in
                                     [shutil.which("initdb")] if w)]:
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None



def required_bin() -> Path:
    """find_bin's directory; the test fails without one when GOLDENPATH_REQUIRE_TOOLS is
    set (CI), else is skipped."""
    bin_dir = find_bin()
    if bin_dir is None:
        if os.environ.get("GOLDENPATH_REQUIRE_TOOLS"):
            pytest.fail("PostgreSQL (initdb, pg_ctl) is not installed")
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed")
    return bin_dir

@dataclass
class Server:
    bin: Path
    base: Path
    port: int
    password: str
    run_as: dict[str, Any]

    def url(self, database: str, *, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{USER}:{pw}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str) -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER,
                               password=self.password, dbname=database, autocommit=True)

    def admin(self) -> psycopg.Connection[Any]:
        return self.connect("postgres")

    def create_database(self, name: str, *, template: str = "template0") -> None:
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def start(self, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Start the server on its data directory and port (again, after :meth:`stop`)."""
        options = (f"-h 127.0.0.1 -p {self.port} -k {self.base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60")
        return self.ctl("start", "-w", "-t", "60", "-l", str(self.base / "log"), "-o", options,
                        check=check)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server, its data kept. ``immediate`` is as if it crashed: with the
        tests' ``synchronous_commit=off`` its last commits may then be lost."""
        self.ctl("stop", "-m", mode, "-w")

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.base / "data"), *args],
                              capture_output=True, text=True, check=check, timeout=60,
                              cwd=self.base, **self.run_as)


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root to an unprivileged user (PostgreSQL's rule)."""
    if os.geteuid() != 0:
        return {}
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [],
                "env": {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "HOME": "/tmp"}}
    raise RuntimeError("running as root and neither user postgres nor nobody exists: "
                       "PostgreSQL cannot be started")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(bin_dir: Path) -> Iterator[Server]:
    """A server for the duration of the block, stopped and removed however it ends."""
    run_as = _run_as()
    base = Path(tempfile.mkdtemp(prefix="goldenpath-pg-"))
    password = secrets.token_urlsafe(18)
    server: Server | None = None
    try:
        if "user" in run_as:
            os.chown(base, run_as["user"], run_as["group"])
        pwfile = base / "pw"
        pwfile.write_text(password)
        if "user" in run_as:
            os.chown(pwfile, run_as["user"], run_as["group"])
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(base / "data"), "-U", USER,
             f"--pwfile={pwfile}", "--auth-host=scram-sha-256", "--auth-local=trust",
             "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            # cwd: the server's user may not be allowed into the checkout (under /root)
            capture_output=True, text=True, check=True, timeout=120, cwd=base, **run_as)
        server = _start(bin_dir, base, password, run_as)
        yield server
    finally:
        if server is not None:
            server.ctl("stop", "-m", "fast", "-w", check=False)
        shutil.rmtree(base, ignore_errors=True)


def _start(bin_dir: Path, base: Path, password: str, run_as: dict[str, Any]) -> Server:
    last = ""
    for _ in range(5):  # another process may take the free port between bind and start
        server = Server(bin_dir, base, _free_port(), password, run_as)
        done = server.start(check=False)
        if done.returncode == 0:
            return server
        last = done.stdout + done.stderr + _tail(base / "log")
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not start:\n{last}")


def _tail(path: Path) -> str:
    try:
        return path.read_text()[-2000:]
    except OSError:
        return ""
