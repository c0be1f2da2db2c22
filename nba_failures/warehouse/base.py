"""The warehouse interface asset code is written against; backends are chosen in `definitions`."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from dagster import ConfigurableResource

from nba_failures.warehouse.schema import TableSpec

if TYPE_CHECKING:
    import pandas as pd


class Warehouse(ConfigurableResource):
    """Typed reads and partition replacement over `TableSpec` tables. Values are always bound parameters."""

    @property
    def location(self) -> str:
        """Where the tables are, in words for a person (e.g. "DuckDB file /path/warehouse.duckdb")."""
        raise NotImplementedError

    def ensure_tables(self, tables: Sequence[TableSpec]) -> None:
        raise NotImplementedError

    @contextmanager
    def session(self) -> Iterator[None]:
        """Group the reads and writes of one step. A backend that pays per connection (DuckDB) opens one
        for the block instead of one per call; by default nothing changes."""
        yield

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make the writes of the block land together or not at all, where the backend can (DuckDB: one
        transaction). By default each write stays atomic on its own, and a rerun repairs an interrupted block."""
        yield

    def read(
        self,
        table: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        where_in: Mapping[str, Sequence] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Rows with `start <= partition_column < end`, optionally with `column IN values` filters; only `columns`
        (and the partition column) when given, in the schema's types."""
        raise NotImplementedError

    def slice_fingerprint(self, table: TableSpec, start: dt.date, end: dt.date) -> str | None:
        """A value equal for two reads of `[start, end)` only if they return the same rows in the same order: any
        change to the slice changes it. None where the backend cannot tell cheaply (the default)."""
        return None

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


def in_warehouse_session(compute: Callable) -> Callable:
    """Run an asset's body inside `warehouse.session()` (its `warehouse` resource argument), under `@asset`.

    A body that yields its events (a result, then per-partition check evaluations) runs while Dagster
    iterates it, so the session is held until its last event.
    """
    if inspect.isgeneratorfunction(compute):

        @functools.wraps(compute)
        def generator_wrapper(*args, **kwargs):
            warehouse = kwargs.get("warehouse")
            if not isinstance(warehouse, Warehouse):
                yield from compute(*args, **kwargs)
                return
            with warehouse.session():
                yield from compute(*args, **kwargs)

        return generator_wrapper

    @functools.wraps(compute)
    def wrapper(*args, **kwargs):
        warehouse = kwargs.get("warehouse")
        if not isinstance(warehouse, Warehouse):
            return compute(*args, **kwargs)
        with warehouse.session():
            return compute(*args, **kwargs)

    return wrapper
