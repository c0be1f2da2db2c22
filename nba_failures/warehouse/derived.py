"""Frames derived from warehouse slices, kept in this process for as long as those slices stay the same.

A season backfill's steps derive some frames from the same rows again and again: the four analytics processors and
the daily cache each read the season's raw box scores, schedule and registry and parse them (0.6 s each time). A
derived frame is kept under the fingerprints of the slices it came from (`Warehouse.slice_fingerprint`): any change
to one of them, by this process or another, changes its fingerprint, and the frame is derived afresh. A backend that
cannot fingerprint a slice cheaply derives every time.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import TableSpec

if TYPE_CHECKING:
    import pandas as pd

# Frames kept at once: a run derives one per window, and a process runs one run's steps at a time.
KEPT_FRAMES = 2

_kept: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
_lock = threading.Lock()

Slice = tuple[TableSpec, dt.date, dt.date]


def derived_frame(warehouse: Warehouse, name: str, slices: Sequence[Slice], derive: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """`derive()`, a pure function of the rows of `slices` (table, start, end), or a copy of the frame it gave for
    the same rows before. `name` tells apart frames derived from the same slices."""
    fingerprints = [
        (table.qualified_name, start, end, warehouse.slice_fingerprint(table, start, end)) for table, start, end in slices
    ]
    if any(fingerprint is None for *_, fingerprint in fingerprints):
        return derive()
    key = (warehouse.location, name, tuple(fingerprints))
    with _lock:
        frame = _kept.get(key)
        if frame is not None:
            _kept.move_to_end(key)
    if frame is None:
        frame = derive()
        with _lock:
            _kept[key] = frame
            while len(_kept) > KEPT_FRAMES:
                _kept.popitem(last=False)
    return frame.copy()  # the caller may change its copy; the kept frame stays as derived
