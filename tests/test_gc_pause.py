"""The collector held off during a booking comes back when the last pause ends, whatever happens."""

import gc

import pytest

from aura.gc_pause import gc_paused


def test_nested_pauses_bring_the_collector_back_only_when_the_outermost_ends():
    assert gc.isenabled()
    with gc_paused():
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_pause_that_raises_still_brings_the_collector_back():
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("the booking failed")
    assert gc.isenabled()


def test_a_collector_turned_off_before_the_pause_stays_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
