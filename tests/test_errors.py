"""How a SpecIssue shows what a tenant wrote: one line, bounded, never a repr of the
whole value (a shared structure can stand for billions of values)."""

from __future__ import annotations

import time
import tracemalloc
from typing import Any

import pytest

from goldenpath.errors import SHOWN_CHARS, SpecError, SpecIssue


def _shown(value: Any) -> str:
    return str(SpecIssue("f.yaml", "spec.x", "is wrong", value=value, has_value=True))


def _laughs() -> list[Any]:
    value: list[Any] = ["lol"] * 9
    for _ in range(30):  # 9**30 strings when walked
        value = [value] * 9
    return value


def test_a_vast_shared_value_is_shown_bounded_without_walking_it() -> None:
    tracemalloc.start()
    started = time.process_time()
    text = _shown(_laughs())
    elapsed = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert text.startswith("f.yaml: spec.x: " + "[" * 31 + "'lol', 'lol', ")
    assert text.endswith("...: is wrong")
    assert len(text) <= len("f.yaml: spec.x: : is wrong") + SHOWN_CHARS
    assert elapsed < 5 and peak < 10 << 20


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("payments\n", '"payments\\n"'),
        ("a\r\nb: forged line", '"a\\r\\nb: forged line"'),
        ("\x1b[31mred\x1b[0m", '"\\x1b[31mred\\x1b[0m"'),
        ("safe\u202egnp.exe", '"safe\\u202egnp.exe"'),  # right-to-left override
        ("line\u2028separator\x85", '"line\\u2028separator\\x85"'),
        ('say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'),
        ("x" * 10_000, '"' + "x" * (SHOWN_CHARS - 5) + '"...'),
        ("\n" * 10_000, '"' + "\\n" * ((SHOWN_CHARS - 5) // 2) + "\\" + '"...'),
        ({"k\nk": ["v\x00"]}, "{'k\\nk': ['v\\x00']}"),
        (10 ** 5000, "<integer of 16610 bits>"),
        ([1.5, None, True], "[1.5, None, True]"),
        ({"a": object()}, "{'a': <object>}"),
    ],
    ids=["newline", "crlf", "ansi", "bidi", "unicode-separators", "quotes", "long",
         "many-newlines", "nested", "huge-int", "scalars", "object"],
)
def test_values_are_shown_on_one_bounded_line(value: Any, shown: str) -> None:
    text = _shown(value)
    assert text == f"f.yaml: spec.x: {shown}: is wrong"
    assert text.isprintable()


def test_file_path_and_message_are_escaped_and_the_path_bounded() -> None:
    issue = SpecIssue("teams/a\nb.yaml", "spec." + "k\n" * 500, "is \x1b[2Kwrong")
    text = str(issue)
    assert text.isprintable()
    assert text.startswith("teams/a\\nb.yaml: spec.k\\nk\\n")
    assert text.endswith("...: is \\x1b[2Kwrong")
    assert len(text) < 300


def test_a_report_has_one_line_per_issue() -> None:
    issues = [SpecIssue("t.yaml", "spec.a", "bad", value="x\ny\n", has_value=True),
              SpecIssue("t\n.yaml", "", "bad\nworse")]
    assert str(SpecError(issues)).splitlines() == [
        "2 spec errors", "  t\\n.yaml: bad\\nworse", '  t.yaml: spec.a: "x\\ny\\n": bad']
