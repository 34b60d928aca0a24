"""Spec files are read safely: one mapping per file, no duplicate keys, bounded size;
hostile YAML (aliases, nesting, unbuildable values) is refused in bounded time and memory,
and only regular files are read."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from goldenpath.errors import SpecError
from goldenpath.spec import load_platform, yamlio
from goldenpath.spec.yamlio import (
    MAX_NESTING,
    MAX_NUMBER_CHARS,
    MAX_SPEC_BYTES,
    YamlProblem,
    read_yaml_mapping,
)
from tests.factories import platform_doc, team_doc, write_platform
from tests.spec.support import spec_error

DUPLICATE_TAIL = "YAML would silently keep only the last value"


def _read(tmp_path: Path, text: str | bytes) -> dict[str, object]:
    path = tmp_path / "spec.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return read_yaml_mapping(path)


def _problem(tmp_path: Path, text: str | bytes) -> str:
    with pytest.raises(YamlProblem) as info:
        _read(tmp_path, text)
    return str(info.value)


def test_reads_one_mapping(tmp_path: Path) -> None:
    assert _read(tmp_path, "a: 1\nb: [x, y]\n") == {"a": 1, "b": ["x", "y"]}


def test_leading_document_marker_and_comments_are_fine(tmp_path: Path) -> None:
    assert _read(tmp_path, "# a comment\n---\na: 1\n") == {"a": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\nb: 2\na: 3\n", f"line 3: duplicate key 'a' (first at line 1); {DUPLICATE_TAIL}"),
        ("top:\n  x: 1\n  y: 2\n  x: 3\n",
         f"line 4: duplicate key 'x' (first at line 2); {DUPLICATE_TAIL}"),
        ("items:\n  - name: a\n    port: 1\n    port: 2\n",
         f"line 4: duplicate key 'port' (first at line 3); {DUPLICATE_TAIL}"),
        ("m: {k: 1, k: 2}\n", f"line 1: duplicate key 'k' (first at line 1); {DUPLICATE_TAIL}"),
        ("1: a\n1: b\n", f"line 2: duplicate key 1 (first at line 1); {DUPLICATE_TAIL}"),
    ],
    ids=["top", "nested", "in-list", "flow", "int-key"],
)
def test_duplicate_keys_are_an_error_with_line_numbers(
    tmp_path: Path, text: str, message: str
) -> None:
    assert _problem(tmp_path, text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\n---\nb: 2\n", "expected exactly one YAML document, found 2"),
        ("", "expected exactly one YAML document, found 0"),
        ("# only a comment\n", "expected exactly one YAML document, found 0"),
        ("- a\n- b\n", "expected a mapping at the top, found list"),
        ("just text\n", "expected a mapping at the top, found str"),
        ("42\n", "expected a mapping at the top, found int"),
        ("a: [1, 2\nb: 3\n", "line 2, column 2: invalid YAML: did not find expected ',' or ']'"),
        ("a:\n\t- b\n", "line 2, column 1: invalid YAML: found character that cannot start "
                        "any token"),
        ("a: !!python/object/apply:os.system ['true']\n",
         "line 1, column 4: invalid YAML: could not determine a constructor for the tag "
         "'tag:yaml.org,2002:python/object/apply:os.system'"),
        ("? [a, b]\n: 1\n", "line 1, column 3: invalid YAML: found unhashable key"),
        (b"a: \xff\n", "not UTF-8 text (invalid start byte at byte 3)"),
    ],
    ids=["two-documents", "empty", "comment-only", "list", "scalar", "int", "unclosed",
         "tab", "python-tag", "unhashable-key", "not-utf8"],
)
def test_refuses_anything_but_one_safe_mapping(
    tmp_path: Path, text: str | bytes, message: str
) -> None:
    assert _problem(tmp_path, text) == message


def test_size_limit(tmp_path: Path) -> None:
    padding = "#" * (MAX_SPEC_BYTES - len("a: 1\n") - 1) + "\n"
    assert len(("a: 1\n" + padding).encode()) == MAX_SPEC_BYTES
    assert _read(tmp_path, "a: 1\n" + padding) == {"a": 1}
    assert _problem(tmp_path, "a: 1\n#" + padding) == (
        f"file is {MAX_SPEC_BYTES + 1} bytes; spec files are limited to {MAX_SPEC_BYTES}"
    )


def test_yaml_problem_is_a_value_error() -> None:
    assert issubclass(YamlProblem, ValueError)


# --- through the loader: the problem is reported against its file -----------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: goldenpath.dev/v1alpha1\nkind: Team\nmetadata:\n  name: alpha\n"
         "  name: beta\nspec: {}\n",
         f"line 5: duplicate key 'name' (first at line 4); {DUPLICATE_TAIL}"),
        ("a: 1\n---\nb: 2\n", "expected exactly one YAML document, found 2"),
        ("- a\n", "expected a mapping at the top, found list"),
        ("a: [\n", "line 2, column 1: invalid YAML: did not find expected node content"),
        ("#" * (MAX_SPEC_BYTES + 1),
         f"file is {MAX_SPEC_BYTES + 1} bytes; spec files are limited to {MAX_SPEC_BYTES}"),
    ],
    ids=["duplicate-key", "multiple-documents", "non-mapping", "invalid", "oversize"],
)
def test_loader_reports_yaml_problems_against_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    root = write_platform(tmp_path, platform_doc(), [])
    (root / "teams" / "alpha.yaml").write_text(text)
    error = spec_error(root, platform_doc(), [])
    assert [str(issue) for issue in error.issues] == [f"{root}/teams/alpha.yaml: {message}"]


def test_duplicate_key_in_platform_yaml(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha")])
    text = (root / "platform.yaml").read_text()
    (root / "platform.yaml").write_text(text.replace("kind: Platform\n",
                                                     "kind: Platform\nkind: Platform\n"))
    with pytest.raises(SpecError) as info:
        load_platform(root)
    assert [str(issue) for issue in info.value.issues] == [
        f"{root}/platform.yaml: line 3: duplicate key 'kind' (first at line 2); {DUPLICATE_TAIL}"
    ]


# --- hostile YAML: bounded in time and memory, refused with a clear message -------------

def _laughs(kind: str) -> str:
    """About a kilobyte standing for 9**9 (387 million) values when expanded."""
    if kind == "sequences":
        lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    elif kind == "mappings":
        lines = ["l0: &l0 {a: lol, b: lol, c: lol, d: lol, e: lol, f: lol, g: lol, h: lol, i: lol}"]
        lines += [f"l{i}: &l{i} {{" + ", ".join(f"{k}: *l{i - 1}" for k in "abcdefghi") + "}"
                  for i in range(1, 10)]
    else:  # the expansion hidden in a Team's fields, where validation walks it
        lines = ["l0: &l0 [group:a, group:a, group:a, group:a, group:a, group:a, group:a]"]
        lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
        lines = ["apiVersion: goldenpath.dev/v1alpha1", "kind: Team",
                 "metadata: {name: alpha}", "x-anchors:", *("  " + ln for ln in lines),
                 "spec: {displayName: *l9, costCenter: *l9, owners: *l9, members: *l9}"]
    return "\n".join(lines) + "\n"


_MEASURE = """
import resource, sys, time
from pathlib import Path
from goldenpath.errors import GoldenpathError
from goldenpath.spec import load_platform
start = time.process_time()
try:
    load_platform(Path(sys.argv[1]))
    out = "loaded"
except GoldenpathError as err:
    out = str(err)  # the whole report, as the CLI prints it
# VmHWM: this program's own peak; ru_maxrss also counts the parent's memory at the fork
# before exec (Linux keeps the larger), so a big test worker made it look 400 MiB
peak = next((int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
             if line.startswith("VmHWM:")), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(time.process_time() - start, peak)
print(out)
"""


def _load_in_child(root: Path, timeout: float = 120) -> tuple[float, int, list[str]]:
    """Load ``root`` in a child process; (CPU seconds, peak RSS in KiB, report lines)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(root)], capture_output=True,
                          text=True, timeout=timeout, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    first, *report = done.stdout.splitlines()
    cpu, rss = first.split()
    return float(cpu), int(rss), report


@pytest.mark.parametrize(("kind", "line"), [("sequences", 6), ("mappings", 5),
                                            ("team", 10)])
def test_a_billion_laughs_is_refused_in_bounded_time_and_memory(
        tmp_path: Path, kind: str, line: int) -> None:
    root = write_platform(tmp_path, platform_doc(), [])
    text = _laughs(kind)
    assert len(text) < 1500
    (root / "teams" / "alpha.yaml").write_text(text)
    cpu, rss, report = _load_in_child(root)
    assert report == ["1 spec error",
                      f"  {root}/teams/alpha.yaml: line {line}: holds more than 100,000 values "
                      "with its aliases (*) expanded; spec files may not be that large"]
    # generous bounds: expanded, this is gigabytes and minutes
    assert cpu < 20 and rss < 400 * 1024


def test_aliases_within_the_bound_are_fine(tmp_path: Path) -> None:
    assert _read(tmp_path, "base: &b {cpu: '1'}\ndev: *b\nprod: *b\n") == {
        "base": {"cpu": "1"}, "dev": {"cpu": "1"}, "prod": {"cpu": "1"}}


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n",
                                  "a: &a [1, [2, {c: *a}]]\n"])
def test_a_value_that_contains_itself_is_refused(tmp_path: Path, text: str) -> None:
    assert _problem(tmp_path, text) == (
        "line 1: this value contains itself through an alias (*); spec files must be finite")


def _nested(levels: int, style: str) -> str:
    """A document ``levels`` deep, counting the top mapping and a scalar as levels."""
    if style == "flow":
        return "a: " + "[" * (levels - 1) + "]" * (levels - 1) + "\n"
    return "a:\n" + "- " * (levels - 2) + "x\n"  # block sequences nest on one line


@pytest.mark.parametrize("style", ["flow", "block"])
@pytest.mark.parametrize("loader", ["C", "pure-Python"])
def test_deep_nesting_is_refused_without_recursion_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, style: str, loader: str) -> None:
    if loader == "pure-Python":
        monkeypatch.setattr(yamlio, "_LOADER", yamlio.strict_loader(yaml.SafeLoader))
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    too_deep = f"nested more than {MAX_NESTING} levels deep; no spec is"
    assert _read(tmp_path, _nested(MAX_NESTING, style))
    assert _problem(tmp_path, _nested(MAX_NESTING + 1, style)) == f"line 1: {too_deep}"
    # Deeper: our bound, or the parser's own (libyaml stops at 1,000 levels; the
    # pure-Python composer recurses until Python stops it, which is caught).
    allowed = {f"line {1 if style == 'flow' else 2}: {too_deep}", f"invalid YAML: {too_deep}"}
    for levels in (990, 10_000):
        message = _problem(tmp_path, _nested(levels, style))
        assert message in allowed or message.endswith(
            "invalid YAML: exceeded maximum nesting depth"), message


def test_deep_nesting_in_a_team_file_is_one_clear_issue(tmp_path: Path) -> None:
    root = write_platform(tmp_path, platform_doc(), [team_doc("alpha")])
    path = root / "teams" / "alpha.yaml"
    path.write_text(path.read_text().replace("displayName: Alpha",
                                             "displayName: " + "[" * 990 + "]" * 990))
    error = spec_error(root, platform_doc(), [])
    assert [str(issue) for issue in error.issues] == [
        f"{path}: line 6: nested more than {MAX_NESTING} levels deep; no spec is"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1" + "0" * 5000 + "\n",
         f"line 1: a number of 5001 characters; spec numbers have at most {MAX_NUMBER_CHARS}"),
        ("a: -0x" + "f" * 40 + "\n",
         f"line 1: a number of 43 characters; spec numbers have at most {MAX_NUMBER_CHARS}"),
        ("a: 2024-13-45\n", "line 1: cannot read this value: month must be in 1..12"),
        ("a:\n  b: 2024-02-30 10:00:00\n",
         "line 2: cannot read this value: day is out of range for month"),
    ],
    ids=["huge-int", "huge-hex", "bad-date", "bad-datetime"],
)
def test_values_the_constructor_cannot_build_are_an_error_on_their_line(
        tmp_path: Path, text: str, message: str) -> None:
    assert _problem(tmp_path, text) == message


# --- only regular files are read ---------------------------------------------------------


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(YamlProblem) as info:
        read_yaml_mapping(fifo)  # opening a FIFO for reading blocks until a writer comes
    assert str(info.value) == ("is a FIFO (named pipe), not a regular file; spec files must "
                               "be regular files")
    assert time.monotonic() - started < 10


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").mkdir()
    with pytest.raises(YamlProblem) as info:
        read_yaml_mapping(tmp_path / "spec.yaml")
    assert str(info.value) == ("is a directory, not a regular file; spec files must be "
                               "regular files")


def test_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "real.yaml").write_text("a: 1\n")
    (tmp_path / "spec.yaml").symlink_to(tmp_path / "real.yaml")
    with pytest.raises(YamlProblem) as info:
        read_yaml_mapping(tmp_path / "spec.yaml")
    assert str(info.value) == "is a symbolic link; spec files must be regular files"


def test_a_file_replaced_after_its_check_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").write_text("a: 1\n")
    checked = yamlio.spec_file(str(tmp_path), "spec.yaml", str(tmp_path))
    (tmp_path / "other.yaml").write_text("a: 2\n")
    (tmp_path / "other.yaml").replace(tmp_path / "spec.yaml")
    with pytest.raises(YamlProblem) as info:
        yamlio.read_spec_bytes(checked.real, checked.stat)
    assert str(info.value) == "changed while goldenpath was reading it; run the command again"
