"""Metrics and probes on the one port the worker opens: /metrics, /healthz, /readyz."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from {{ cookiecutter.package_name }}.metrics import METRICS_PATH
from {{ cookiecutter.package_name }}.worker import Worker


def serve(worker: Worker, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the server on a daemon thread and return it (``server_address`` has the port)."""
    checks = {"/healthz": worker.healthy, "/readyz": lambda: worker.ready}

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == METRICS_PATH:
                self._send(200, generate_latest(), CONTENT_TYPE_LATEST)
            elif self.path in checks:
                ok = checks[self.path]()
                self._send(200 if ok else 503, b"ok\n" if ok else b"not ok\n", "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            """Probes every few seconds would drown the logs."""

    server = ThreadingHTTPServer((host, port), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
