"""Column helpers over pandas frames."""

from __future__ import annotations

from collections.abc import Callable

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
