"""The plan's summary reads files of the control repository, which anyone who can push
there may have written (a hand edit is drift): they are read with the specs' bounded,
safe loader, so what is not a plain, bounded object is summarised as a file, not parsed
further."""

from __future__ import annotations

from goldenpath.gitops import summary
from goldenpath.spec.yamlio import MAX_VALUES


def _bomb(levels: int = 9) -> bytes:
    """Each alias level nine times the one before: 9**9 values once expanded."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels):
        refs = ", ".join([f"*l{n - 1}"] * 9)
        lines.append(f"l{n}: &l{n} [{refs}]")
    return ("\n".join([*lines, "kind: ConfigMap", "metadata: {name: x}"]) + "\n").encode()


def test_an_object_file_is_read_as_its_object() -> None:
    body = summary._object(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert body == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}


def test_a_hand_edited_alias_bomb_is_not_taken_for_an_object() -> None:
    assert MAX_VALUES < 9 ** 9
    assert summary._object(_bomb()) is None


def test_python_tags_and_non_mappings_are_not_objects() -> None:
    assert summary._object(b"kind: !!python/object/apply:os.system ['true']\n") is None
    assert summary._object(b"- kind: ConfigMap\n") is None
    assert summary._object(b"\xff\xfe") is None
