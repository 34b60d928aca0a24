"""The worker loop: take a message from "{{ cookiecutter.queue }}", handle it, ack or nack it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from {{ cookiecutter.package_name }} import metrics
from {{ cookiecutter.package_name }}.queue import Message, Queue

log = logging.getLogger(__name__)
Handler = Callable[[Message], None]
#: the liveness probe fails when the loop has not turned for this long
STALL_SECONDS = 60.0


def handle(message: Message) -> None:
    """Process one message. Replace with the service's work; raise to reject the message."""
    log.info("handled message %s (%d bytes)", message.id, len(message.body))


class Worker:
    def __init__(self, queue: Queue, queue_name: str, handler: Handler = handle) -> None:
        self.queue = queue
        self.queue_name = queue_name
        self.handler = handler
        self.last_turn = time.monotonic()
        self.ready = False

    def run_once(self, timeout: float = 1.0) -> bool:
        """Handle at most one message; return whether one was taken."""
        self.last_turn = time.monotonic()
        message = self.queue.get(timeout)
        if message is None:
            return False
        start = time.perf_counter()
        ok = True
        try:
            self.handler(message)
        except Exception:
            # One bad message must not stop the worker; it is counted and rejected.
            log.exception("message %s failed", message.id)
            ok = False
        metrics.observe(self.queue_name, ok, time.perf_counter() - start)
        (self.queue.ack if ok else self.queue.nack)(message)
        return True

    def run(self, stop: threading.Event) -> None:
        self.ready = True
        while not stop.is_set():
            self.run_once()
        self.ready = False

    def healthy(self) -> bool:
        return time.monotonic() - self.last_turn < STALL_SECONDS
