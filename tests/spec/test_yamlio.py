"""Spec files are read safely: one mapping per file, no duplicate keys, bounded size."""

from __future__ import annotations

from pathlib import Path

import pytest

from goldenpath.errors import SpecError
from goldenpath.spec import load_platform
from goldenpath.spec.yamlio import MAX_SPEC_BYTES, YamlProblem, read_yaml_mapping
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
