"""`TableSpec`: one definition rendered as DuckDB DDL and BigQuery fields, and frames conformed to it;
`DuckDBWarehouse.replace`: a slice is replaced, never appended to."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from google.cloud import bigquery

from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY
from nba_failures.tables.failures import PROCESSOR_FAILURES
from nba_failures.tables.raw import NBAC_GAMEBOOK_PLAYER_STATS
from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, required, string
from nba_failures_tests import faults

SPEC = TableSpec(
    dataset="nba_test",
    name="things",
    description="Test table.",
    columns=(
        Column("day", ColumnType.DATE, "Day.", Mode.REQUIRED),
        required(string("name", "Name.")),
        Column("count", ColumnType.INT64, "Count."),
        Column("ratio", ColumnType.FLOAT64, "Ratio."),
        Column("flag", ColumnType.BOOL, "Flag."),
        Column("seen_at", ColumnType.TIMESTAMP, "When."),
        Column("tags", ColumnType.STRING, "Tags.", Mode.REPEATED),
    ),
    partition_column="day",
    cluster_columns=("name",),
)
D1, D2, D3 = dt.date(2023, 1, 14), dt.date(2023, 1, 15), dt.date(2023, 1, 16)


def test_duckdb_ddl() -> None:
    assert SPEC.duckdb_ddl() == (
        "CREATE TABLE IF NOT EXISTS nba_test.things (\n"
        "  day DATE NOT NULL,\n"
        "  name VARCHAR NOT NULL,\n"
        "  count BIGINT,\n"
        "  ratio DOUBLE,\n"
        "  flag BOOLEAN,\n"
        "  seen_at TIMESTAMPTZ,\n"
        "  tags VARCHAR[]\n"
        ")"
    )


@pytest.mark.parametrize("table", [SPEC, PROCESSOR_FAILURES, PLAYER_GAME_SUMMARY, NBAC_GAMEBOOK_PLAYER_STATS])
def test_ddl_creates_the_declared_columns_in_duckdb(table: TableSpec, tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "ddl.duckdb")) as connection:
        connection.execute(f"CREATE SCHEMA {table.dataset}")
        connection.execute(table.duckdb_ddl())
        connection.execute(table.duckdb_ddl())  # idempotent
        described = connection.execute(f"DESCRIBE {table.qualified_name}").fetchall()
    assert [(name, kind, null) for name, kind, null, *_ in described] == [
        (c.name, c.duckdb_type.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE"), "NO" if c.mode is Mode.REQUIRED else "YES")
        for c in table.columns
    ]


def test_bigquery_schema_fields() -> None:
    assert SPEC.bigquery_schema() == [
        bigquery.SchemaField("day", "DATE", mode="REQUIRED", description="Day."),
        bigquery.SchemaField("name", "STRING", mode="REQUIRED", description="Name."),
        bigquery.SchemaField("count", "INT64", mode="NULLABLE", description="Count."),
        bigquery.SchemaField("ratio", "FLOAT64", mode="NULLABLE", description="Ratio."),
        bigquery.SchemaField("flag", "BOOL", mode="NULLABLE", description="Flag."),
        bigquery.SchemaField("seen_at", "TIMESTAMP", mode="NULLABLE", description="When."),
        bigquery.SchemaField("tags", "STRING", mode="REPEATED", description="Tags."),
    ]
    fields = PROCESSOR_FAILURES.bigquery_schema()
    assert [f.name for f in fields] == PROCESSOR_FAILURES.column_names
    assert {f.name: f.mode for f in fields}["missing_game_ids"] == "REPEATED"


def test_conform_orders_types_and_drops_extras() -> None:
    frame = pd.DataFrame(
        {
            "extra": [1, 2],
            "tags": [["a"], None],
            "seen_at": ["2023-01-15T10:00:00Z", None],
            "flag": [True, None],
            "ratio": [0.5, None],
            "count": [3, None],
            "name": ["x", "y"],
            "day": ["2023-01-15", "2023-01-16"],
        },
        index=[7, 9],
    )
    conformed = SPEC.conform(frame)
    assert conformed.columns.tolist() == SPEC.column_names
    assert conformed.index.tolist() == [0, 1]
    assert conformed["day"].tolist() == [D2, D3]
    assert str(conformed["count"].dtype) == "Int64" and conformed["count"].tolist()[0] == 3 and pd.isna(conformed["count"][1])
    assert str(conformed["ratio"].dtype) == "Float64"
    assert str(conformed["flag"].dtype) == "boolean"
    assert conformed["name"].tolist() == ["x", "y"]
    assert conformed["seen_at"][0] == pd.Timestamp("2023-01-15T10:00:00Z") and str(conformed["seen_at"].dt.tz) == "UTC"
    assert conformed["tags"].tolist() == [["a"], []]


def test_zoned_timestamps_are_conformed_to_the_same_instants_in_utc() -> None:
    instants = pd.Series(pd.to_datetime(["2023-01-15 10:00", None]).tz_localize("America/New_York"))
    frame = pd.DataFrame({"day": [D2, D2], "name": ["x", "y"], "count": [1, 2], "ratio": [0.5, 1.0], "flag": [True, False],
                          "seen_at": instants, "tags": [[], []]})  # fmt: skip
    seen_at = SPEC.conform(frame)["seen_at"]
    assert str(seen_at.dt.tz) == "UTC"
    assert seen_at[0] == pd.Timestamp("2023-01-15 15:00", tz="UTC") and pd.isna(seen_at[1])


def test_rows_from_arrow_are_the_conformed_frame(tmp_path: Path) -> None:
    """What DuckDB hands back as Arrow becomes the frame `conform` makes of the same rows, nulls and lists included."""
    dated = TableSpec(
        "nba_test", "dated", "Test table.", (*SPEC.columns, Column("dates", ColumnType.DATE, "Dates.", Mode.REPEATED)), "day"
    )
    frame = pd.DataFrame(
        {
            "day": [D1, D2, D3],
            "name": ["x", "y", "z"],
            "count": [3, None, 0],
            "ratio": [0.5, None, 1.0],
            "flag": [True, None, False],
            "seen_at": ["2023-01-15T10:00:00Z", None, "2023-01-16T00:00:00Z"],
            "tags": [["a", "b"], None, []],
            "dates": [[D1, D2], [], None],
        }
    )
    connection = duckdb.connect(str(tmp_path / "rows.duckdb"))
    connection.execute(f"CREATE SCHEMA {dated.dataset}")
    connection.execute(dated.duckdb_ddl())
    connection.register("incoming", dated.arrow_table(frame))
    connection.execute(f"INSERT INTO {dated.qualified_name} SELECT * FROM incoming")
    query = f"SELECT {', '.join(dated.column_names)} FROM {dated.qualified_name} ORDER BY day"
    from_arrow = dated.frame_from_arrow(connection.sql(query).to_arrow_table())
    pd.testing.assert_frame_equal(from_arrow, dated.conform(connection.execute(query).df()))
    assert from_arrow["tags"].tolist() == [["a", "b"], [], []]
    assert from_arrow["dates"].tolist() == [[D1, D2], [], []]
    assert pd.isna(from_arrow["count"][1]) and str(from_arrow["count"].dtype) == "Int64"


def test_conform_refuses_a_frame_missing_a_column() -> None:
    with pytest.raises(KeyError, match="ratio"):
        SPEC.conform(pd.DataFrame({"day": [D2], "name": ["x"], "count": [1], "flag": [True], "seen_at": [None], "tags": [[]]}))


def test_specs_reject_bad_identifiers_duplicates_and_unknown_partition_columns() -> None:
    base = dict(dataset="nba_test", name="t", description="", columns=(string("a", ""),), partition_column="a")
    with pytest.raises(ValueError):
        TableSpec(**{**base, "name": "t; DROP TABLE x"})
    with pytest.raises(ValueError):
        TableSpec(**{**base, "columns": (string("a", ""), string("a", ""))})
    with pytest.raises(KeyError):
        TableSpec(**{**base, "partition_column": "b"})
    with pytest.raises(ValueError):
        string("Bad-Name", "")


def _things(day: dt.date, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {"day": day, "name": names, "count": 1, "ratio": 0.5, "flag": True, "seen_at": None, "tags": [["t"]] * len(names)}
    )


def test_replace_replaces_only_its_slice(warehouse: DuckDBWarehouse) -> None:
    assert warehouse.replace(SPEC, _things(D1, ["a", "b"]), D1, D2) == 2
    assert warehouse.replace(SPEC, _things(D2, ["c", "d", "e"]), D2, D3) == 3
    # Writing day 2 again replaces it, leaves day 1 alone, and never duplicates.
    assert warehouse.replace(SPEC, _things(D2, ["d"]), D2, D3) == 1
    table = faults.read_table(warehouse.path, SPEC.qualified_name)
    assert list(zip(table["day"].map(pd.Timestamp), table["name"])) == [
        (pd.Timestamp(D1), "a"),
        (pd.Timestamp(D1), "b"),
        (pd.Timestamp(D2), "d"),
    ]
    assert warehouse.read(SPEC, D2, D3)["tags"].tolist() == [["t"]]
    # An empty frame clears the slice.
    assert warehouse.replace(SPEC, _things(D2, [])[:0], D2, D3) == 0
    assert warehouse.read(SPEC)["name"].tolist() == ["a", "b"]


def test_a_read_of_some_columns_returns_them_after_the_partition_column(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace(SPEC, _things(D1, ["a", "b"]), D1, D2)
    warehouse.replace(SPEC, _things(D2, ["c"]), D2, D3)
    some = warehouse.read(SPEC, D1, D2, columns=["tags", "name"])
    assert list(some.columns) == ["day", "tags", "name"]
    assert some["name"].tolist() == ["a", "b"] and some["tags"].tolist() == [["t"], ["t"]]
    assert some["day"].tolist() == [D1, D1]
    # Column names are identifiers checked against the schema, never SQL.
    with pytest.raises(KeyError, match="no column"):
        warehouse.read(SPEC, columns=["name FROM nba_test.things; --"])


def test_writes_in_a_transaction_land_together_or_not_at_all(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace(SPEC, _things(D1, ["a"]), D1, D2)
    with pytest.raises(RuntimeError, match="interrupted"), warehouse.transaction():
        warehouse.replace(SPEC, _things(D1, ["b"]), D1, D2)
        with warehouse.transaction():  # nested: part of the outer one
            warehouse.replace(SPEC, _things(D2, ["c"]), D2, D3)
        raise RuntimeError("interrupted")
    assert warehouse.read(SPEC)["name"].tolist() == ["a"]
    with warehouse.transaction():
        warehouse.replace(SPEC, _things(D1, ["b"]), D1, D2)
        warehouse.replace(SPEC, _things(D2, ["c"]), D2, D3)
    assert warehouse.read(SPEC)["name"].tolist() == ["b", "c"]


def test_replace_with_where_in_touches_only_those_rows(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace(SPEC, _things(D1, ["a", "b"]), D1, D2)
    warehouse.replace(SPEC, _things(D1, ["a"]).assign(count=5), D1, D2, where_in={"name": ["a"]})
    table = warehouse.read(SPEC).sort_values("name")
    assert table["name"].tolist() == ["a", "b"] and table["count"].tolist() == [5, 1]


def test_replace_refuses_rows_outside_the_slice(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace(SPEC, _things(D1, ["a"]), D1, D2)
    with pytest.raises(ValueError, match="outside"):
        warehouse.replace(SPEC, _things(D3, ["z"]), D1, D2)
    with pytest.raises(ValueError, match="outside"):
        warehouse.replace(SPEC, _things(D1, ["z"]), D1, D2, where_in={"name": ["a"]})
    assert warehouse.read(SPEC)["name"].tolist() == ["a"]  # nothing was written or deleted


def test_a_table_written_before_a_column_was_added_is_migrated_and_still_written(tmp_path):
    import datetime as dt

    import duckdb
    import pandas as pd

    from nba_failures.warehouse.duckdb_warehouse import DuckDBWarehouse
    from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, string

    day = dt.date(2023, 1, 15)
    old = TableSpec(
        "nba_processing",
        "migrated",
        "old shape",
        (Column("day", ColumnType.DATE, "d", Mode.REQUIRED), string("name", "n")),
        "day",
    )
    new = TableSpec(
        "nba_processing",
        "migrated",
        "new shape",
        (Column("day", ColumnType.DATE, "d", Mode.REQUIRED), string("added", "a"), string("name", "n")),
        "day",
    )
    warehouse = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    warehouse.replace(old, pd.DataFrame({"day": [day], "name": ["before"]}), day, day + dt.timedelta(days=1))
    warehouse.replace(
        new, pd.DataFrame({"day": [day, day], "added": ["x", None], "name": ["after", "again"]}), day, day + dt.timedelta(days=1)
    )
    rows = warehouse.read(new).sort_values("name", ignore_index=True)
    assert rows["name"].tolist() == ["after", "again"] and rows["added"].tolist() == ["x", None]
    with duckdb.connect(str(tmp_path / "w.duckdb")) as connection:
        columns = [row[0] for row in connection.execute("DESCRIBE nba_processing.migrated").fetchall()]
    assert columns == ["day", "name", "added"], "the added column is appended by the migration"
