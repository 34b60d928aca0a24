"""A bounded, thread-safe memo of pure functions of an object's content.

A plan renders mostly what the plan before it rendered (the same team, one field
changed; the same cluster-level objects), and two steps of it are costly per object and
pure: serialising an object to YAML and validating it against its schema. Their results
are kept by the object's full content: the bytes ``marshal`` makes of its body, which
encode every type and value (``True`` is not ``1``, ``1`` is not ``"1"``), so an entry
answers only for an object equal to the one it was computed for, never for one that
merely has the same name. Entries are dropped least recently used first beyond a budget
of bytes; a body ``marshal`` cannot encode is simply not memoised.
"""

from __future__ import annotations

import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, TypeVar

_V = TypeVar("_V")
#: marshal format 2: no back-references, so equal bodies give equal bytes
_MARSHAL_VERSION = 2


class ContentMemo(Generic[_V]):
    """``compute(body)`` kept by (``scope``, the body's content), within ``budget`` bytes
    of keys (and of values, as ``size`` tells)."""

    def __init__(self, budget: int, size: Callable[[_V], int] = lambda _: 0) -> None:
        self._budget, self._size = budget, size
        self._entries: OrderedDict[tuple[str, bytes], tuple[_V, int]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, scope: str, body: Any, compute: Callable[[Any], _V]) -> _V:
        try:
            key = (scope, marshal.dumps(body, _MARSHAL_VERSION))
        except ValueError:  # a type marshal cannot write: computed every time
            return compute(body)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found[0]
        value = compute(body)
        cost = len(key[1]) + self._size(value)
        with self._lock:
            if key not in self._entries and cost <= self._budget:
                self._entries[key] = (value, cost)
                self._used += cost
                while self._used > self._budget:
                    _, (_, dropped) = self._entries.popitem(last=False)
                    self._used -= dropped
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._used = 0
