"""Column helpers over pandas frames, and the collector pause that bulk work over them wants.

NumPy and pandas are imported where used: the collector pause decorates a resource the code location loads.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# A group's code (a player, a team…) times this, plus a day or game number: one integer per (group, ordinal) that
# sorts by group, then ordinal, so a group's rows within a range of ordinals are one binary search away.
GROUP_KEY_SPAN = 1 << 32


def by_distinct_value(column: pd.Series, transform: Callable[[pd.Series], pd.Series | pd.DataFrame]) -> pd.Series | pd.DataFrame:
    """`transform(column)`, computed once per distinct value: a box-score column repeats few values.

    A column with missing values is transformed whole, so a None stays exactly what the transform makes of it.
    """
    import pandas as pd

    if column.isna().any():
        return transform(column)
    codes, distinct = pd.factorize(column)
    result = transform(pd.Series(distinct, dtype=column.dtype, name=column.name))
    if isinstance(result, pd.DataFrame):
        return result.iloc[codes].set_axis(column.index)
    return pd.Series(result.to_numpy()[codes], index=column.index, name=result.name)


def as_dates(values: pd.Series) -> pd.Series:
    """Dates, timestamps or ISO strings as `datetime.date`s: an object column (even when empty, so that joins on it
    never meet a float column), converted once per distinct date (a season has ~170)."""
    import pandas as pd

    def convert(distinct: pd.Series) -> pd.Series:
        return pd.Series(list(pd.to_datetime(distinct).dt.date), index=distinct.index, name=distinct.name, dtype=object)

    return by_distinct_value(values, convert)


def lists_by_key(rows: pd.DataFrame, key: str | Sequence[str], column: str, order: str | None = None) -> pd.Series:
    """`column` values of each `key` (a column, or several) as a list, in `order` (default: the values' own order),
    indexed by `key`: `groupby(key)[column].agg(list)` without a call per group (tens of thousands of groups here).
    Keys and orders are sorted as integer codes, not as strings."""
    import numpy as np
    import pandas as pd

    names = [key] if isinstance(key, str) else list(key)
    if len(names) == 1:
        keys, _ = pd.factorize(rows[names[0]])
    else:
        keys = rows.groupby(names, sort=False, dropna=False).ngroup().to_numpy()
    if len(keys) == 0:
        return pd.Series([], index=_key_index(rows, names), dtype=object)
    ranks, _ = pd.factorize(rows[order or column], sort=True, use_na_sentinel=False)
    picked = np.lexsort((ranks, keys))  # stable: equal orders keep the rows' order
    keys = keys[picked]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    values = rows[column].to_numpy(dtype=object)[picked].tolist()
    bounds = [*starts.tolist(), len(values)]
    lists = [values[begin:end] for begin, end in zip(bounds, bounds[1:])]  # slices of one list: no array per group
    return pd.Series(lists, index=_key_index(rows.iloc[picked[starts]], names), dtype=object)


def object_column(values: Iterable, count: int) -> np.ndarray:
    """`count` values as a one-dimensional object array, ready to be a column: lists and tuples stay single values.
    (A Python list of lists assigned to a column is first inspected as a nested sequence, ten times slower.)"""
    import numpy as np

    return np.fromiter(values, dtype=object, count=count)


def empty_lists(count: int) -> np.ndarray:
    """An object array of `count` empty lists, each a list of its own."""
    return object_column(([] for _ in range(count)), count)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates (dates, timestamps or ISO strings) as whole days since the epoch."""
    import numpy as np
    import pandas as pd

    return pd.to_datetime(dates).to_numpy().astype("datetime64[D]").astype(np.int64)


def value_as_of(
    keys: pd.Series, days: np.ndarray, table: pd.DataFrame, key: str, value: str, *, earliest_after: bool = False
) -> np.ndarray:
    """For each (`keys`, `days`) pair, `value` of the `table` row with the same `key` on the latest day on or before
    it (its `game_date`); with `earliest_after`, the earliest row on or after it where none is before; None where
    there is no such row.

    `pd.merge_asof(..., by=key, direction="backward")` (then "forward"), without sorting or joining the pairs: the
    table is ordered by (key, day) once and each pair takes its row by binary search. Rows of the same key and day
    are picked as merge_asof picks them from a table in this order: the last one backward, the first one forward.
    """
    import numpy as np
    import pandas as pd

    picked = np.full(len(keys), None, dtype=object)
    if table.empty:
        return picked
    distinct = pd.Index(table[key].unique())
    table_codes = distinct.get_indexer(table[key]).astype(np.int64)
    table_days = day_numbers(table["game_date"])
    order = np.lexsort((table_days, table_codes))  # stable: equal (key, day) keep their order
    table_keys = table_codes[order] * GROUP_KEY_SPAN + table_days[order]
    table_values = table[value].to_numpy(dtype=object)[order]
    code = distinct.get_indexer(keys).astype(np.int64)
    wanted = code * GROUP_KEY_SPAN + days
    before = np.searchsorted(table_keys, wanted, side="right") - 1
    found = (code >= 0) & (before >= 0) & (table_keys[np.clip(before, 0, None)] // GROUP_KEY_SPAN == code)
    picked[found] = table_values[before[found]]
    if earliest_after:
        after = np.searchsorted(table_keys, wanted, side="left")
        inside = np.clip(after, 0, len(table_keys) - 1)
        later = ~found & (code >= 0) & (after < len(table_keys)) & (table_keys[inside] // GROUP_KEY_SPAN == code)
        picked[later] = table_values[after[later]]
    return picked


def nested_counts(rows: pd.DataFrame, columns: Sequence[str]) -> dict:
    """Rows counted by `columns`, nested in their order ({first: … {last: count}}), keys in sorted order, from one
    grouping."""
    nested: dict = {}
    if rows.empty:
        return nested
    for values, count in rows.groupby(list(columns)).size().items():
        *outer, last = values
        level = nested
        for value in outer:
            level = level.setdefault(value, {})
        level[last] = int(count)
    return nested


def _key_index(rows: pd.DataFrame, names: list[str]) -> pd.Index:
    """The `names` columns of `rows` as an index: plain for one column, a MultiIndex for several."""
    import pandas as pd

    if len(names) == 1:
        return pd.Index(rows[names[0]].to_numpy(), name=names[0])
    return pd.MultiIndex.from_arrays([rows[name].to_numpy() for name in names], names=names)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused inside (a context manager, or a decorator).

    Work that builds hundreds of thousands of per-row lists over frames of many objects makes the collector
    traverse the whole heap again and again (about a fifth of classifying 100,000 failures), though none of those
    lists forms a cycle. Reference counting still frees everything at once; the collector resumes on exit, unless
    it was paused before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
