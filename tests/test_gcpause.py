"""The cyclic collector is paused inside the block and resumed by the outermost one."""

from __future__ import annotations

import gc
import threading

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


def test_blocks_in_two_threads_share_one_pause_and_the_last_resumes() -> None:
    """A block that begins while another thread's is paused, and ends after it, must
    neither leave the collector off for good nor resume it while it still runs."""
    first_in, second_in, first_out = (threading.Event() for _ in range(3))
    seen: list[bool] = []

    def first() -> None:
        with cyclic_gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with cyclic_gc_paused():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first block ended; this one still runs

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()
