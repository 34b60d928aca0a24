"""The cyclic collector is paused inside the block and resumed by the outermost one."""

from __future__ import annotations

import gc

import pytest

from goldenpath.gcpause import cyclic_gc_paused


def test_paused_inside_and_resumed_after_nesting() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_resumed_after_an_error() -> None:
    @cyclic_gc_paused()
    def fails() -> None:
        raise RuntimeError

    with pytest.raises(RuntimeError):
        fails()
    assert gc.isenabled()
