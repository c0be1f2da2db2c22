"""Smoke test: the BigQuery features the failure store relies on, against the
local emulator (``local-bigquery``), through the official client.

Needs the emulator installed: ``bash .ci/install_bigquery_emulator.sh``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster import asset, materialize
from google.cloud import bigquery

from nba_failures.warehouse.bigquery_warehouse import EndpointBigQueryResource
from nba_failures_tests.bigquery_emulator import BigQueryEmulator

# The production resource: dagster_gcp's BigQueryResource with an API endpoint (its get_client override
# also serves get_object_to_set_on_execution_context, which delegates to get_client).
EmulatorAwareBigQueryResource = EndpointBigQueryResource


SCHEMA = [
    bigquery.SchemaField("failure_id", "STRING", mode="REQUIRED"),
    bigquery.SchemaField("asset_key", "STRING"),
    bigquery.SchemaField("job_name", "STRING"),
    bigquery.SchemaField("error_class", "STRING"),
    bigquery.SchemaField("attempt", "INT64"),
    bigquery.SchemaField("is_resolved", "BOOL"),
    bigquery.SchemaField("failure_date", "DATE"),
    bigquery.SchemaField("failed_at", "TIMESTAMP"),
    bigquery.SchemaField("duration_seconds", "FLOAT64"),
    bigquery.SchemaField("tags", "STRING", mode="REPEATED"),
]
ARROW_SCHEMA = pa.schema(
    [
        pa.field("failure_id", pa.string()),
        pa.field("asset_key", pa.string()),
        pa.field("job_name", pa.string()),
        pa.field("error_class", pa.string()),
        pa.field("attempt", pa.int64()),
        pa.field("is_resolved", pa.bool_()),
        pa.field("failure_date", pa.date32()),
        pa.field("failed_at", pa.timestamp("us", tz="UTC")),
        pa.field("duration_seconds", pa.float64()),
        pa.field("tags", pa.list_(pa.string())),
    ]
)
CLUSTERING = ["asset_key", "job_name", "error_class"]
D1 = dt.date(2024, 1, 15)
D2 = dt.date(2024, 1, 16)
T1 = dt.datetime(2024, 1, 15, 10, 30, tzinfo=dt.UTC)
T2 = dt.datetime(2024, 1, 16, 11, 0, tzinfo=dt.UTC)


def _rows() -> list[dict]:
    return [
        {
            "failure_id": "f1",
            "asset_key": "games",
            "job_name": "daily",
            "error_class": "HTTPError",
            "attempt": 1,
            "is_resolved": False,
            "failure_date": D1,
            "failed_at": T1,
            "duration_seconds": 1.5,
            "tags": ["nba", "api"],
        },
        {
            "failure_id": "f2",
            "asset_key": "players",
            "job_name": "daily",
            "error_class": "Timeout",
            "attempt": 2,
            "is_resolved": False,
            "failure_date": D1,
            "failed_at": T1,
            "duration_seconds": 30.0,
            "tags": [],
        },
        {
            "failure_id": "f3",
            "asset_key": "games",
            "job_name": "backfill",
            "error_class": "KeyError",
            "attempt": 1,
            "is_resolved": False,
            "failure_date": D2,
            "failed_at": T2,
            "duration_seconds": 0.25,
            "tags": ["parse"],
        },
    ]


def _json_rows() -> list[dict]:
    out = []
    for row in _rows():
        row = dict(row)
        row["failure_date"] = row["failure_date"].isoformat()
        row["failed_at"] = row["failed_at"].isoformat()
        out.append(row)
    return out


@pytest.fixture(scope="module")
def emulator() -> Iterator[BigQueryEmulator]:
    with BigQueryEmulator() as emu:
        print(f"emulator {emu.endpoint} started in {emu.startup_seconds:.2f}s")
        yield emu


@pytest.fixture(scope="module")
def client(emulator: BigQueryEmulator) -> Iterator[bigquery.Client]:
    c = emulator.client()
    yield c
    c.close()


@pytest.fixture
def dataset(client: bigquery.Client) -> Iterator[str]:
    ds = client.create_dataset(f"smoke_{uuid.uuid4().hex[:10]}")
    yield f"{client.project}.{ds.dataset_id}"
    client.delete_dataset(ds, delete_contents=True, not_found_ok=True)


def _create_failures_table(client: bigquery.Client, table_id: str) -> bigquery.Table:
    table = bigquery.Table(table_id, schema=SCHEMA)
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field="failure_date"
    )
    table.clustering_fields = CLUSTERING
    return client.create_table(table)


def _load_json(
    client: bigquery.Client, table_id: str, rows: list[dict], *, multipart: bool = False
) -> None:
    """NDJSON file via load_table_from_file.

    Without ``size`` the client uses a resumable upload; with ``size`` below 5 MiB
    it uses a multipart upload.  The emulator accepts both.
    """
    payload = "\n".join(json.dumps(r) for r in rows).encode()
    size = len(payload) if multipart else None
    job_config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        schema=SCHEMA,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
    )
    client.load_table_from_file(
        io.BytesIO(payload), table_id, job_config=job_config, size=size
    ).result()


def _ids(client: bigquery.Client, table_id: str) -> list[str]:
    return [r.failure_id for r in client.query_and_wait(f"SELECT failure_id FROM `{table_id}` ORDER BY 1")]


# ------------------------------------------------------------------ tests
def test_create_dataset_and_partitioned_clustered_table(
    client: bigquery.Client, dataset: str
) -> None:
    assert client.get_dataset(dataset).dataset_id == dataset.split(".")[1]
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    table = client.get_table(table_id)
    # Like real BigQuery, the API reports legacy type names.
    legacy = {"INT64": "INTEGER", "BOOL": "BOOLEAN", "FLOAT64": "FLOAT"}
    assert [(f.name, f.field_type, f.mode) for f in table.schema] == [
        (f.name, legacy.get(f.field_type, f.field_type), f.mode) for f in SCHEMA
    ]
    assert table.time_partitioning is not None
    assert table.time_partitioning.type_ == "DAY"
    assert table.time_partitioning.field == "failure_date"
    assert table.clustering_fields == CLUSTERING


def test_load_table_from_parquet_file(client: bigquery.Client, dataset: str) -> None:
    """How the warehouse loads a frame: a Parquet file with an explicit Arrow schema, lists inferred as REPEATED."""
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    parquet = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(_rows()), schema=ARROW_SCHEMA, preserve_index=False), parquet)
    parquet.seek(0)
    job_config = bigquery.LoadJobConfig(
        schema=SCHEMA, source_format=bigquery.SourceFormat.PARQUET, write_disposition=bigquery.WriteDisposition.WRITE_APPEND
    )
    job_config.parquet_options = bigquery.ParquetOptions()
    job_config.parquet_options.enable_list_inference = True
    client.load_table_from_file(parquet, table_id, job_config=job_config).result()
    rows = client.query_and_wait(f"SELECT * FROM `{table_id}` ORDER BY failure_id")
    out = rows.to_arrow(create_bqstorage_client=False).to_pylist()
    assert [row["failure_id"] for row in out] == ["f1", "f2", "f3"]
    assert [row["tags"] for row in out] == [["nba", "api"], [], ["parse"]]
    assert [row["failure_date"] for row in out] == [D1, D1, D2]
    assert out[0]["failed_at"] == T1


def test_load_table_from_json(client: bigquery.Client, dataset: str) -> None:
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    job_config = bigquery.LoadJobConfig(schema=SCHEMA)
    client.load_table_from_json(_json_rows(), table_id, job_config=job_config).result()
    assert _ids(client, table_id) == ["f1", "f2", "f3"]


@pytest.mark.parametrize("multipart", [False, True], ids=["resumable", "multipart"])
def test_load_table_from_file_ndjson(
    client: bigquery.Client, dataset: str, multipart: bool
) -> None:
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    _load_json(client, table_id, _json_rows(), multipart=multipart)
    assert _ids(client, table_id) == ["f1", "f2", "f3"]
    assert client.get_table(table_id).num_rows == 3


def test_parameterized_query(client: bigquery.Client, dataset: str) -> None:
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    _load_json(client, table_id, _json_rows())
    job_config = bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("day", "DATE", D1),
            bigquery.ScalarQueryParameter("job", "STRING", "daily"),
            bigquery.ArrayQueryParameter("assets", "STRING", ["games", "players", "x"]),
        ]
    )
    rows = client.query_and_wait(
        f"""
        SELECT failure_id, tags FROM `{table_id}`
        WHERE failure_date = @day AND job_name = @job AND asset_key IN UNNEST(@assets)
        ORDER BY failure_id
        """,
        job_config=job_config,
    )
    assert [(r.failure_id, list(r.tags)) for r in rows] == [
        ("f1", ["nba", "api"]),
        ("f2", []),
    ]


def test_merge_from_staging(client: bigquery.Client, dataset: str) -> None:
    target = f"{dataset}.failures"
    staging = f"{dataset}.failures_staging"
    _create_failures_table(client, target)
    client.create_table(bigquery.Table(staging, schema=SCHEMA))
    _load_json(client, target, _json_rows())
    rows = _json_rows()
    staged = [
        {**rows[0], "attempt": 3, "tags": ["nba", "api", "retried"]},  # matched -> update
        {  # not matched -> insert
            **rows[2],
            "failure_id": "f4",
            "asset_key": "teams",
            "tags": ["new"],
        },
    ]
    _load_json(client, staging, staged)
    # f2 and f3 are not in staging: only those on @day are marked resolved.
    job_config = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("day", "DATE", D1)]
    )
    job = client.query(
        f"""
        MERGE `{target}` T
        USING `{staging}` S
        ON T.failure_id = S.failure_id
        WHEN MATCHED THEN UPDATE SET
            attempt = S.attempt, tags = S.tags, failed_at = S.failed_at,
            is_resolved = S.is_resolved
        WHEN NOT MATCHED THEN INSERT ROW
        WHEN NOT MATCHED BY SOURCE AND T.failure_date = @day THEN UPDATE SET
            is_resolved = TRUE
        """,
        job_config=job_config,
    )
    job.result()
    assert job.num_dml_affected_rows == 3
    got = {
        r.failure_id: (r.attempt, r.is_resolved, list(r.tags))
        for r in client.query_and_wait(f"SELECT * FROM `{target}`")
    }
    assert got == {
        "f1": (3, False, ["nba", "api", "retried"]),
        "f2": (2, True, []),
        "f3": (1, False, ["parse"]),
        "f4": (1, False, ["new"]),
    }


def test_merge_explicit_insert_columns(client: bigquery.Client, dataset: str) -> None:
    target = f"{dataset}.failures"
    staging = f"{dataset}.failures_staging"
    _create_failures_table(client, target)
    client.create_table(bigquery.Table(staging, schema=SCHEMA))
    _load_json(client, staging, _json_rows())
    cols = ", ".join(f.name for f in SCHEMA)
    client.query_and_wait(
        f"""
        MERGE `{target}` T USING `{staging}` S ON T.failure_id = S.failure_id
        WHEN MATCHED THEN UPDATE SET attempt = S.attempt
        WHEN NOT MATCHED THEN INSERT ({cols}) VALUES ({", ".join("S." + c for c in cols.split(", "))})
        """
    )
    assert _ids(client, target) == ["f1", "f2", "f3"]


def test_delete_with_parameter(client: bigquery.Client, dataset: str) -> None:
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    _load_json(client, table_id, _json_rows())
    job = client.query(
        f"DELETE FROM `{table_id}` WHERE failure_date = @day",
        job_config=bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("day", "DATE", D1)]
        ),
    )
    job.result()
    assert job.num_dml_affected_rows == 2
    assert _ids(client, table_id) == ["f3"]


def test_query_to_arrow(client: bigquery.Client, dataset: str) -> None:
    """How the warehouse reads: query results as Arrow over REST pages (no Storage Read API client)."""
    table_id = f"{dataset}.failures"
    _create_failures_table(client, table_id)
    _load_json(client, table_id, _json_rows())
    rows = client.query(f"SELECT * FROM `{table_id}` ORDER BY failure_id").result().to_arrow(create_bqstorage_client=False)
    assert rows.column_names == [f.name for f in SCHEMA]
    columns = rows.to_pydict()
    assert columns["attempt"] == [1, 2, 1]
    assert columns["is_resolved"] == [False, False, False]
    assert columns["duration_seconds"] == [1.5, 30.0, 0.25]
    assert columns["failure_date"] == [D1, D1, D2]
    assert columns["failed_at"] == [T1, T1, T2]
    assert columns["tags"] == [["nba", "api"], [], ["parse"]]


def test_bigquery_resource_subclass(emulator: BigQueryEmulator, dataset: str) -> None:
    resource = EmulatorAwareBigQueryResource(
        project=emulator.project, api_endpoint=emulator.endpoint
    )

    @asset
    def failures_probe(bigquery: EmulatorAwareBigQueryResource) -> int:
        with bigquery.get_client() as client:
            _create_failures_table(client, f"{dataset}.via_resource")
            rows = client.query_and_wait("SELECT 41 + 1 AS answer")
            return next(iter(rows)).answer

    result = materialize([failures_probe], resources={"bigquery": resource})
    assert result.success
    assert result.output_for_node("failures_probe") == 42
    with resource.get_client() as c:
        assert c.get_table(f"{dataset}.via_resource").clustering_fields == CLUSTERING


def test_restart_keeps_data() -> None:
    """Separate emulator so the module-scoped one is not disturbed."""
    with BigQueryEmulator() as emu:
        client = emu.client()
        ds = client.create_dataset("persist")
        table_id = f"{emu.project}.{ds.dataset_id}.failures"
        _create_failures_table(client, table_id)
        _load_json(client, table_id, _json_rows())
        port, data_dir = emu.port, emu.data_dir
        began = time.monotonic()
        emu.restart()
        print(f"restart took {time.monotonic() - began:.2f}s")
        assert (emu.port, emu.data_dir) == (port, data_dir)
        client = emu.client()
        assert _ids(client, table_id) == ["f1", "f2", "f3"]
        table = client.get_table(table_id)
        assert table.clustering_fields == CLUSTERING
        assert table.time_partitioning.field == "failure_date"
