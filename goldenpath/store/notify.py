"""News of the store's changes inside one process: whoever waits on a request (a write's
short wait, an event stream) or on the queue (an idle worker) is woken by the change it
waits for as soon as this process commits it, instead of reading the database over and
over.

The database stays the one truth; a notice only says "read it now". Every change made
through a :class:`~goldenpath.store.Store` is announced on its :class:`Notifier` after
its transaction commits, so a waiter that reads the database after being woken sees the
change. Nothing else is announced: a change another process made (another replica, a
``goldenpath worker``, a process restarted after SIGKILL) reaches nobody here, so every
waiter still reads the database at a slow interval of its own. Notices are kept in
memory only and lost with the process; losing one costs latency, never correctness.

Cost model: an announcement takes one lock and calls the wake functions registered for
that request (or for the queue): a waiter is woken by its own request only, never by the
others' (fifty writes waiting for fifty requests do not wake fifty times each).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: Called with ``final``: the request reached a final state (else: any other change, a
#: claim or a log line). Called from the thread that made the change: it must return at
#: once (set an event), never block or touch the store.
Wake = Callable[[bool], None]
#: How many requests made final lately are remembered, so that a waiter that begins to
#: watch just after its request was finished here is woken at once, not at its next read.
REMEMBERED = 4096


class Notifier:
    """Wake functions by request id, and for the queue; thread-safe."""

    def __init__(self, *, remembered: int = REMEMBERED) -> None:
        self._lock = threading.Lock()
        self._requests: dict[str, list[Wake]] = {}
        self._queue: list[Callable[[], None]] = []
        self._finals: OrderedDict[str, None] = OrderedDict()
        self._remembered = remembered

    @contextmanager
    def watching(self, request: str, wake: Wake) -> Iterator[None]:
        """Call ``wake`` on every change of ``request`` announced while the block runs;
        once at the start, with ``final``, when it was made final here lately."""
        with self._lock:
            self._requests.setdefault(request, []).append(wake)
            done = request in self._finals
        try:
            if done:
                _call(wake, True)
            yield
        finally:
            with self._lock:
                left = self._requests[request]
                left.remove(wake)
                if not left:
                    del self._requests[request]

    @contextmanager
    def watching_queue(self, wake: Callable[[], None]) -> Iterator[None]:
        """Call ``wake`` whenever a request becomes claimable now (submitted, approved,
        given back) while the block runs."""
        with self._lock:
            self._queue.append(wake)
        try:
            yield
        finally:
            with self._lock:
                self._queue.remove(wake)

    def changed(self, request: str, *, final: bool = False) -> None:
        """Announce a committed change of ``request`` (``final``: it will not change
        again)."""
        with self._lock:
            if final:
                self._finals[request] = None
                self._finals.move_to_end(request)
                while len(self._finals) > self._remembered:
                    self._finals.popitem(last=False)
            wakes = list(self._requests.get(request, ()))
        for wake in wakes:
            _call(wake, final)

    def queued(self) -> None:
        """Announce that a request may be claimed now."""
        with self._lock:
            wakes = list(self._queue)
        for wake in wakes:
            _call(wake)


def _call(wake: Callable[..., None], *args: bool) -> None:
    # The change is committed: a broken waiter must not make it look failed to the
    # one who made it (a worker would retry a request it completed).
    try:
        wake(*args)
    except Exception:
        log.exception("a store notice's waiter failed; it will read the database later")
