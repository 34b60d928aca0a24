"""Results kept by an object's full content answer only for an equal object, within a
budget; the schema guardrail's memo never answers one object with another's errors."""

from __future__ import annotations

from typing import Any

from goldenpath.memo import ContentMemo
from goldenpath.policy.schema import schema_errors


class Str(str):
    """A str subclass: marshal cannot write it."""


def test_only_an_equal_body_is_answered_from_the_memo() -> None:
    calls: list[Any] = []
    memo: ContentMemo[str] = ContentMemo(1 << 20)

    def compute(body: Any) -> str:
        calls.append(body)
        return repr(body)

    bodies = [{"a": 1}, {"a": True}, {"a": "1"}, {"a": 1.0}, {"a": [1]}, {"a": (1,)}]
    assert [memo.get("s", b, compute) for b in bodies] == [repr(b) for b in bodies]
    assert len(calls) == len(bodies)  # 1, True, "1", 1.0, [1] and (1,) are all different
    assert memo.get("s", {"a": 1}, compute) == "{'a': 1}"
    assert memo.get("other scope", {"a": 1}, compute) == "{'a': 1}"
    assert len(calls) == len(bodies) + 1  # answered once from the memo, scopes apart
    memo.get("s", {"a": Str("x")}, compute)
    memo.get("s", {"a": Str("x")}, compute)
    assert len(calls) == len(bodies) + 3  # not marshallable: computed every time


def test_least_recently_used_entries_go_beyond_the_budget() -> None:
    memo: ContentMemo[bytes] = ContentMemo(300, len)
    calls: list[int] = []

    def compute(body: Any) -> bytes:
        calls.append(body["n"])
        return b"x" * 50

    for n in range(5):
        memo.get("", {"n": n, "pad": "p" * 40}, compute)
    memo.get("", {"n": 4, "pad": "p" * 40}, compute)  # kept
    memo.get("", {"n": 0, "pad": "p" * 40}, compute)  # dropped: computed again
    assert calls == [0, 1, 2, 3, 4, 0]


def test_schema_errors_of_a_changed_object_are_its_own() -> None:
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {"k": "v"}}
    bad = {**good, "data": {"k": 1}}  # the same object but one value's type
    assert schema_errors(good, "1.31") == []
    assert schema_errors(bad, "1.31") == ["data.k: 1 is not of type 'string', 'null'"]
    found = schema_errors(bad, "1.31")
    assert found is not None
    found.clear()  # the caller's copy: the memo keeps its own
    assert schema_errors(bad, "1.31") == ["data.k: 1 is not of type 'string', 'null'"]
    assert schema_errors(good, "1.31") == []
