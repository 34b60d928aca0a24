"""Pausing Python's cyclic garbage collector around work that allocates many objects and
no reference cycles.

Reference counting frees every acyclic object as soon as it is dropped; the cyclic
collector only finds cycles, and it runs after every few hundred allocations, rescanning
a heap that grows with the platform (a 1,000-team spec, its rendered objects, the
analysis of the base). Code that makes no cycles gains nothing from it, and on a large
platform it is a good part of the run time. A cycle made while paused is not lost: the
collector frees it after it is resumed.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Disable the cyclic collector inside the block (also usable as a decorator);
    nesting is harmless, only the outermost block resumes it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
