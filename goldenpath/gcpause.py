"""Pausing Python's cyclic garbage collector around work that allocates many objects and
no reference cycles.

Reference counting frees every acyclic object as soon as it is dropped; the cyclic
collector only finds cycles, and it runs after every few hundred allocations, rescanning
a heap that grows with the platform (a 1,000-team spec, its rendered objects, the
analysis of the base). Code that makes no cycles gains nothing from it, and on a large
platform it is a good part of the run time. A cycle made while paused is not lost: the
collector frees it after it is resumed.

The collector is one per process, so blocks in several threads (the API plans and
applies concurrently) share one pause: it ends when the last block running ends, and the
collector is resumed only if it was running when the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()
_state = {"depth": 0, "resume": False}


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (also usable as a decorator);
    nesting, and blocks in other threads, are harmless: only the last block to end
    resumes it."""
    with _LOCK:
        if _state["depth"] == 0:
            _state["resume"] = gc.isenabled()
            gc.disable()
        _state["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _state["depth"] -= 1
            if _state["depth"] == 0 and _state["resume"]:
                gc.enable()
