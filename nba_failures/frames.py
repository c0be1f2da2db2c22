"""Column helpers over pandas frames."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def by_distinct_value(column: pd.Series, transform: Callable[[pd.Series], pd.Series | pd.DataFrame]) -> pd.Series | pd.DataFrame:
    """`transform(column)`, computed once per distinct value: a box-score column repeats few values.

    A column with missing values is transformed whole, so a None stays exactly what the transform makes of it.
    """
    if column.isna().any():
        return transform(column)
    codes, distinct = pd.factorize(column)
    result = transform(pd.Series(distinct, dtype=column.dtype, name=column.name))
    if isinstance(result, pd.DataFrame):
        return result.iloc[codes].set_axis(column.index)
    return pd.Series(result.to_numpy()[codes], index=column.index, name=result.name)


def lists_by_key(rows: pd.DataFrame, key: str, column: str, order: str | None = None) -> pd.Series:
    """`column` values of each `key` as a list, in `order` (default: the values' own order), indexed by `key`:
    `groupby(key)[column].agg(list)` without a call per group (tens of thousands of groups here). Keys and orders
    are sorted as integer codes, not as strings."""
    keys, distinct_keys = pd.factorize(rows[key])
    if len(keys) == 0:
        return pd.Series([], index=pd.Index([], name=key), dtype=object)
    ranks, _ = pd.factorize(rows[order or column], sort=True, use_na_sentinel=False)
    picked = np.lexsort((ranks, keys))  # stable: equal orders keep the rows' order
    keys = keys[picked]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    values = rows[column].to_numpy(dtype=object)[picked].tolist()
    bounds = [*starts.tolist(), len(values)]
    lists = [values[begin:end] for begin, end in zip(bounds, bounds[1:])]  # slices of one list: no array per group
    return pd.Series(lists, index=pd.Index(distinct_keys[keys[starts]], name=key), dtype=object)
