"""The queue the worker consumes, as a small protocol so the broker can be swapped.

``MemoryQueue`` serves tests and local runs; connect the team's broker (SQS, RabbitMQ,
Pub/Sub, ...) by implementing ``Queue`` and returning it from ``main.open_queue``.
"""

from __future__ import annotations

import queue as _stdlib_queue
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Message:
    id: str
    body: bytes


class Queue(Protocol):
    def get(self, timeout: float) -> Message | None: ...
    def ack(self, message: Message) -> None: ...
    def nack(self, message: Message) -> None: ...


class MemoryQueue:
    """An in-process queue; a nacked message goes to ``dead`` instead of looping forever."""

    def __init__(self) -> None:
        self._items: _stdlib_queue.Queue[Message] = _stdlib_queue.Queue()
        self.acked: list[Message] = []
        self.dead: list[Message] = []

    def put(self, message: Message) -> None:
        self._items.put(message)

    def get(self, timeout: float) -> Message | None:
        try:
            return self._items.get(timeout=timeout)
        except _stdlib_queue.Empty:
            return None

    def ack(self, message: Message) -> None:
        self.acked.append(message)

    def nack(self, message: Message) -> None:
        self.dead.append(message)
