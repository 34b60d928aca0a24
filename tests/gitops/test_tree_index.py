"""The base tree's lookups that a one-team plan asks about every unit: ``reusable`` and
the spec files kept as the base has them, answered from indexes built once per base,
equal to asking record by record."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from goldenpath.gitops import specfiles
from goldenpath.gitops.ownership import UnitState, blob_id
from goldenpath.gitops.tree import BaseTree, reusable

UNITS = [f"team-t{i}" for i in range(6)]
DIGESTS = ["sha256:a", "sha256:b", ""]


@st.composite
def bases(draw: st.DrawFn) -> tuple[BaseTree, dict[str, str]]:
    """A base of some units (some drifted by hand) and current input digests for some
    units (some not in the base, some with another digest)."""
    records: dict[str, UnitState] = {}
    tree: dict[str, str] = {}
    for unit in draw(st.lists(st.sampled_from(UNITS), unique=True)):
        path = f"tenants/{unit}/ns.yaml"
        records[unit] = UnitState("fp", {path: "blob-" + unit},
                                  inputs=draw(st.sampled_from(DIGESTS)))
        tree[path] = "blob-" + unit if draw(st.booleans()) else "edited"
    inputs = draw(st.dictionaries(st.sampled_from(UNITS), st.sampled_from(DIGESTS)))
    return BaseTree.of(tree, records), inputs


@given(bases())
def test_reusable_is_each_intact_record_with_the_same_inputs(case: tuple[BaseTree, Any]) -> None:
    base, inputs = case
    assert reusable(base, inputs) == {
        unit for unit, digest in inputs.items()
        if (record := base.records.get(unit)) is not None
        and record.inputs == digest and base.intact(unit)}


def test_spec_blob_ids_are_remembered_within_a_bound() -> None:
    memo = specfiles.BlobMemo(10)
    first, second = b"team: a\n", b"team: b\n"
    assert memo.blob_id(first) == blob_id(first)
    assert memo.ids == {first: blob_id(first)}
    assert memo.blob_id(first) == blob_id(first)
    assert memo.blob_id(second) == blob_id(second)  # 8 + 8 bytes > 10: forgets first
    assert memo.ids == {second: blob_id(second)}
    assert memo.held == len(second)
