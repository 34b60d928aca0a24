"""A real ``git daemon`` serving bare repositories over ``git://127.0.0.1:<port>/``, for
the tests of an unreachable git remote: it can be stopped (the port then refuses
connections) and started again on the same port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class GitDaemon:
    """``git daemon`` exporting every repository under ``base`` (pushes allowed)."""

    base: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def url(self, name: str) -> str:
        return f"git://127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        """Start it and wait until it accepts connections (at most 30 s)."""
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            ["git", "daemon", f"--base-path={self.base}", "--export-all",
             "--enable=receive-pack", "--listen=127.0.0.1", f"--port={self.port}",
             "--reuseaddr", "--informative-errors", str(self.base)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # its own group: stop() ends its forked children too
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "git daemon exited"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"git daemon did not listen on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        """Stop it (and any connection it is serving); the port refuses from then on."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None
