"""Worker processes for the claim tests (a module the fork server can preload)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from goldenpath.store import Store


def drain(url: str, sqlite_path: str, worker: str, barrier: Any, out: Any) -> None:
    """Claim and complete requests until the queue is empty; report what was claimed."""
    store = Store(url, sqlite_path=Path(sqlite_path))
    claimed: list[str] = []
    try:
        barrier.wait(timeout=60)
        while claims := store.queue.claim(worker, version="test", lease=timedelta(minutes=5),
                                          limit=3):
            for claim in claims:
                time.sleep(0.002)  # the work; without it one process may starve the rest
                store.queue.complete(claim, succeeded=True, result={"worker": worker})
                claimed.append(claim.request.id)
        out.put((worker, claimed, None))
    except Exception as err:  # reported to the test, which fails with it
        out.put((worker, claimed, f"{type(err).__name__}: {err}"))
    finally:
        store.close()
