"""The cyclic garbage collector held off while a burst of work allocates: a booking of a backlog
builds tens of thousands of short-lived objects (rows, Decimals, model instances), and each
generation-0 threshold crossed sweeps them again, for no cycle found (their memory goes by reference
counting). Held off for the length of the work only: what cycles it leaves are collected right after.

Counted, so pauses may nest and overlap between threads: the collector comes back when the last one
ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pauses, _was_enabled
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
