"""The warehouse interface asset code is written against; backends are chosen in `definitions`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
from dagster import ConfigurableResource

from nba_failures.warehouse.schema import TableSpec


class Warehouse(ConfigurableResource):
    """Typed reads and partition replacement over `TableSpec` tables. Values are always bound parameters."""

    def ensure_tables(self, tables: Sequence[TableSpec]) -> None:
        raise NotImplementedError

    def read(
        self,
        table: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        where_in: Mapping[str, Sequence] | None = None,
    ) -> pd.DataFrame:
        """Rows with `start <= partition_column < end`, optionally with `column IN values` filters."""
        raise NotImplementedError

    def replace(
        self,
        table: TableSpec,
        frame: pd.DataFrame,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None = None,
    ) -> int:
        """Atomically replace the rows of `[start, end)` (and `where_in`) with `frame`; returns rows written."""
        raise NotImplementedError

    def update_slice(
        self,
        table: TableSpec,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None,
        update: Callable[[pd.DataFrame], pd.DataFrame],
    ) -> pd.DataFrame:
        """Replace the slice with `update(current slice)`; returns the new slice.

        The read and the write happen under one lock or transaction where the backend offers it, so two
        writers of the same slice cannot interleave (the failure store's merge relies on it).
        """
        raise NotImplementedError
