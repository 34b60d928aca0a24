"""Process entry point: probes and metrics on their port, the worker loop until SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading

from {{ cookiecutter.package_name }}.health import serve
from {{ cookiecutter.package_name }}.metrics import METRICS_PORT
from {{ cookiecutter.package_name }}.queue import MemoryQueue, Queue
from {{ cookiecutter.package_name }}.worker import Worker


def open_queue(name: str) -> Queue:
    """Connect to the broker here; the in-memory queue only suits local runs."""
    return MemoryQueue()


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    name = os.environ.get("QUEUE_NAME", "{{ cookiecutter.queue }}")
    worker = Worker(open_queue(name), name)
    serve(worker, int(os.environ.get("METRICS_PORT", METRICS_PORT)))
    stop = threading.Event()
    # Kubernetes sends SIGTERM first: finish the message in hand, then leave.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    worker.run(stop)
