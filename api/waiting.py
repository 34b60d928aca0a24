"""How the API waits on a request: a write's short wait for its outcome, an event
stream's wait for news, without reading the database over and over meanwhile.

Both listen to the store's notices (:mod:`goldenpath.store.notify`): this process's worker
wakes them the moment it commits a change, and they read the row then, once. A change made
by another process (another replica's worker) is announced to nobody here, so they also
read the database every :data:`RECHECK_SECONDS` without news. Either way what they answer
is the row as the database holds it: a notice only says when to look.

They wait on the event loop, not in a thread: a write waiting for its worker holds no
thread of the pool the next writes' checks need. Store reads still run in the thread
pool. The wake comes from the worker's thread through ``call_soon_threadsafe``, so the
server runs on asyncio (as uvicorn does).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress

from starlette.concurrency import run_in_threadpool

from goldenpath.services.requests import FINAL
from goldenpath.store import Request, Store

#: How often a waiter reads the database without news: for changes another replica made
#: (this process's own wake it at once).
RECHECK_SECONDS = 0.5


class News:
    """Set, from any thread, when the store announces a change of one request (only a
    final one when ``final_only``); awaited on the event loop that made it."""

    def __init__(self, *, final_only: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        self._final_only = final_only

    def __call__(self, final: bool) -> None:
        if final or not self._final_only:
            with suppress(RuntimeError):  # the loop is closed: nobody waits any more
                self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        """Forget the news heard so far: call it before reading the database, so news of
        a change committed after the read wakes the next :meth:`wait`."""
        self._event.clear()

    async def wait(self, seconds: float) -> bool:
        """True when news came within ``seconds``."""
        try:
            await asyncio.wait_for(self._event.wait(), max(seconds, 0.0))
        except TimeoutError:
            return False
        return True


async def final(store: Store, request: Request, seconds: float) -> Request:
    """``request`` once final, or as it is after ``seconds``: a write's short wait."""
    if request.state in FINAL or seconds <= 0:
        return request
    deadline = time.monotonic() + seconds
    news = News(final_only=True)
    with store.notifier.watching(request.id, news):
        while request.state not in FINAL and (left := deadline - time.monotonic()) > 0:
            await news.wait(min(left, RECHECK_SECONDS))
            news.clear()
            request = await run_in_threadpool(store.requests.get, request.id)
    return request
