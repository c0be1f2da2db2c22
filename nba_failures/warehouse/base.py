"""The warehouse interface asset code is written against; backends are chosen in `definitions`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

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
        where_eq: Mapping[str, str] | None = None,
    ) -> int:
        """Atomically replace the rows of `[start, end)` (and `where_eq`) with `frame`; returns rows written."""
        raise NotImplementedError
