"""One definition of each table, rendered as DuckDB DDL, BigQuery SchemaFields and README docs.

Identifiers in SQL come only from these definitions, never from callers' strings, so a table or column
name can be checked against the schema before it reaches a statement. NumPy, pandas and PyArrow are imported where
frames are converted: loading the code location only defines the tables.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING

from nba_failures.frames import as_dates, object_column

if TYPE_CHECKING:
    import pandas as pd

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class ColumnType(str, Enum):
    STRING = "STRING"
    INT64 = "INT64"
    FLOAT64 = "FLOAT64"
    BOOL = "BOOL"
    DATE = "DATE"
    TIMESTAMP = "TIMESTAMP"


class Mode(str, Enum):
    NULLABLE = "NULLABLE"
    REQUIRED = "REQUIRED"
    REPEATED = "REPEATED"


_DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INT64: "BIGINT",
    ColumnType.FLOAT64: "DOUBLE",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMPTZ",
}


def _arrow_types():
    import pyarrow as pa

    return {
        ColumnType.STRING: pa.string(),
        ColumnType.INT64: pa.int64(),
        ColumnType.FLOAT64: pa.float64(),
        ColumnType.BOOL: pa.bool_(),
        ColumnType.DATE: pa.date32(),
        ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    }


_PANDAS_TYPES = {
    # Plain object strings: pandas' "string" dtype refuses to join with the object columns pure logic makes.
    ColumnType.STRING: "object",
    ColumnType.INT64: "Int64",
    ColumnType.FLOAT64: "Float64",
    ColumnType.BOOL: "boolean",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    mode: Mode = Mode.NULLABLE

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.name):
            raise ValueError(f"invalid column name {self.name!r}")

    @property
    def duckdb_type(self) -> str:
        base = _DUCKDB_TYPES[self.type]
        return f"{base}[]" if self.mode is Mode.REPEATED else base

    def duckdb_definition(self) -> str:
        not_null = " NOT NULL" if self.mode is Mode.REQUIRED else ""
        return f"{self.name} {self.duckdb_type}{not_null}"

    def arrow_field(self):
        import pyarrow as pa

        base = _arrow_types()[self.type]
        return pa.field(self.name, pa.list_(base) if self.mode is Mode.REPEATED else base)

    def bigquery_field(self):
        from google.cloud import bigquery

        return bigquery.SchemaField(self.name, self.type.value, mode=self.mode.value, description=self.description)


def string(name: str, description: str, mode: Mode = Mode.NULLABLE) -> Column:
    return Column(name, ColumnType.STRING, description, mode)


def required_date(name: str, description: str) -> Column:
    return Column(name, ColumnType.DATE, description, Mode.REQUIRED)


def integer(name: str, description: str) -> Column:
    return Column(name, ColumnType.INT64, description)


def number(name: str, description: str) -> Column:
    return Column(name, ColumnType.FLOAT64, description)


def required(column: Column) -> Column:
    return Column(column.name, column.type, column.description, Mode.REQUIRED)


def _as_list(value) -> list:
    """A repeated value as a list; missing (None, NaN) is the empty list. A list is kept as it is (not copied)."""
    if value.__class__ is list:
        return value
    if value is None or (isinstance(value, float) and value != value):
        return []
    import numpy as np  # past the common cases: this runs for every value

    if isinstance(value, np.ndarray):  # how DuckDB and BigQuery hand lists back; tolist gives Python values
        return value.tolist() if value.size else []
    return list(value)


def _to_date(value) -> dt.date:
    """Backends hand DATE list elements back as datetimes, Timestamps or datetime64; Arrow's date32 wants dates."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    import pandas as pd  # past the common case: this runs for every value

    return pd.Timestamp(value).date()


def utc_timestamps(values: pd.Series) -> pd.Series:
    """`values` as UTC timestamps. Zoned ones are converted, not parsed again: `pd.to_datetime` samples a zoned
    column value by value to decide whether to cache its parse (up to 0.1 s for 50,000 rows)."""
    import pandas as pd

    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values, utc=True)


@dataclass(frozen=True)
class TableSpec:
    dataset: str
    name: str
    description: str
    columns: tuple[Column, ...]
    partition_column: str
    cluster_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for identifier in (self.dataset, self.name):
            if not _IDENTIFIER.match(identifier):
                raise ValueError(f"invalid identifier {identifier!r}")
        names = self.column_names
        if len(set(names)) != len(names):
            raise ValueError(f"{self.qualified_name}: duplicate column")
        for name in (self.partition_column, *self.cluster_columns):
            self.column(name)

    @property
    def qualified_name(self) -> str:
        return f"{self.dataset}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        """The column called `name`; raises for anything not in the schema (how identifiers are checked)."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name!r}")

    def subset(self, names: Sequence[str]) -> TableSpec:
        """This table with only the columns `names` (and its partition column), for reads that need a few columns."""
        kept = [self.partition_column, *(name for name in names if name != self.partition_column)]
        return replace(self, columns=tuple(self.column(name) for name in kept), cluster_columns=())

    def duckdb_ddl(self) -> str:
        body = ",\n  ".join(column.duckdb_definition() for column in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.qualified_name} (\n  {body}\n)"

    def bigquery_schema(self) -> list:
        return [column.bigquery_field() for column in self.columns]

    def arrow_table(self, frame: pd.DataFrame, conformed: bool = False):
        """The frame as an Arrow table with exactly this schema: no type is guessed from sample values
        (a sample of empty lists would type a list column as a list of nothing). `conformed`: the frame
        already comes from `conform`, which is then not done twice."""
        import pyarrow as pa

        schema = pa.schema([column.arrow_field() for column in self.columns])
        return pa.Table.from_pandas(frame if conformed else self.conform(frame), schema=schema, preserve_index=False)

    def frame_from_arrow(self, rows) -> pd.DataFrame:
        """Rows a backend hands back as an Arrow table (DuckDB and BigQuery both can), conformed: the same frame
        as `conform(rows.to_pandas())`, made faster. Lists come straight from Arrow as Python lists (pandas would
        make a NumPy array of each, to be turned back into a list), numbers as nullable pandas types."""
        import pandas as pd
        import pyarrow as pa

        nullable = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype(), pa.float64(): pd.Float64Dtype()}
        lists = [column.name for column in self.columns if column.mode is Mode.REPEATED and column.name in rows.column_names]
        frame = rows.drop_columns(lists).to_pandas(types_mapper=nullable.get)
        for name in lists:
            frame[name] = pd.Series([[] if values is None else values for values in rows.column(name).to_pylist()], dtype=object)
        return self.conform(frame)

    def conform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame with exactly this table's columns, in order, with nullable pandas types.

        A missing column is a programming error and raises; extra columns are dropped.
        """
        import pandas as pd

        missing = [name for name in self.column_names if name not in frame.columns]
        if missing:
            raise KeyError(f"{self.qualified_name}: frame lacks columns {missing}")
        columns: dict[str, object] = {}
        for column in self.columns:
            values = frame[column.name]
            if column.mode is Mode.REPEATED:
                if column.type is ColumnType.DATE:
                    lists = [[_to_date(v) for v in items] if (items := _as_list(vs)) else items for vs in values]
                else:
                    lists = [_as_list(vs) for vs in values]
                # An object array holding each list as it is (np.array would make equal-length lists a 2-D array).
                columns[column.name] = object_column(lists, len(lists))
            elif column.type is ColumnType.DATE:
                columns[column.name] = as_dates(values).to_numpy()
            elif column.type is ColumnType.TIMESTAMP:
                columns[column.name] = utc_timestamps(values).array
            else:
                dtype = _PANDAS_TYPES[column.type]
                typed = values if values.dtype == dtype else values.astype(dtype)
                # Object columns as NumPy arrays: pandas scans a wrapped object array for missing values on every copy.
                columns[column.name] = typed.to_numpy() if typed.dtype == object else typed.array
        # One frame made at once from the columns' arrays (copied: the caller's frame is never shared), not set a column
        # at a time; a new index.
        return pd.DataFrame(columns)

    def markdown(self) -> str:
        lines = [
            f"### `{self.qualified_name}`",
            "",
            self.description,
            "",
            f"Partitioned by `{self.partition_column}`"
            + (f"; clustered by {', '.join(f'`{c}`' for c in self.cluster_columns)}" if self.cluster_columns else "")
            + ".",
            "",
            "| column | type | mode | description |",
            "|---|---|---|---|",
        ]
        lines += [f"| `{c.name}` | {c.type.value} | {c.mode.value} | {c.description} |" for c in self.columns]
        return "\n".join(lines)


def check_inside_slice(
    table: TableSpec, frame: pd.DataFrame, start: dt.date, end: dt.date, where_in: Mapping[str, Sequence] | None
) -> None:
    """Rows outside the slice being replaced would survive the next rerun as duplicates: refuse them."""
    dates = frame[table.partition_column]
    outside = frame[(dates < start) | (dates >= end)]
    if not outside.empty:
        raise ValueError(f"{table.qualified_name}: {len(outside)} rows outside [{start}, {end})")
    for name, values in (where_in or {}).items():
        stray = ~frame[name].isin(list(values))
        if stray.any():
            raise ValueError(f"{table.qualified_name}: {int(stray.sum())} rows with {name} outside {list(values)!r}")
