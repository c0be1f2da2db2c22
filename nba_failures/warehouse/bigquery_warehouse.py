"""The BigQuery backend: the same `Warehouse` operations, through `dagster_gcp.BigQueryResource`.

Writes never stream: rows are loaded into a staging table by a load job, then one MERGE replaces the slice
atomically (streaming inserts sit in a buffer that blocks DML; the system we replace lost DELETEs to it).
The staging table is dropped after the MERGE, whether it succeeded or not; one that could not be dropped (the
service went away mid-write) is named after its slice, and the next write of that slice drops it.

Frames cross as Arrow: a Parquet file written with the table's own Arrow schema is loaded with
`load_table_from_file`, and query results are fetched with `to_arrow`. The client's DataFrame helpers
(`load_table_from_dataframe`, `to_dataframe`) are deprecated in favour of pandas-gbq, which cannot be used
here: `to_gbq` creates a missing table through a client of its own on the public endpoint (ignoring the
client it is given, so it hangs against an emulator or any other endpoint), and neither call takes the
bounded retry below (they retry for the client's default 10 minutes and re-raise service errors as their
own exception type).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import requests
from dagster_gcp import BigQueryResource
from google.api_core import exceptions as api_exceptions
from google.api_core.client_options import ClientOptions
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY
from pydantic import Field, PrivateAttr

from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import TableSpec, check_inside_slice

# The service, or the way to it, failed (as opposed to a request that is wrong, a bug, which raises as is).
_UNAVAILABLE = (
    api_exceptions.RetryError,
    api_exceptions.ServerError,
    api_exceptions.TooManyRequests,
    api_exceptions.Unauthorized,
    api_exceptions.Forbidden,
    auth_exceptions.GoogleAuthError,
    requests.exceptions.RequestException,
    ConnectionError,
    TimeoutError,
)


_T = TypeVar("_T")


class WarehouseUnavailable(RuntimeError):
    """BigQuery could not be reached or failed: names the operation and table, never credentials."""


_PARAMETER_TYPES = {
    "STRING": "STRING",
    "INT64": "INT64",
    "FLOAT64": "FLOAT64",
    "BOOL": "BOOL",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
}


class EndpointBigQueryResource(BigQueryResource):
    """`BigQueryResource` with an optional API endpoint, for a local emulator (anonymous credentials)."""

    api_endpoint: str | None = Field(
        default=None, description="BigQuery REST endpoint, e.g. http://127.0.0.1:9050 for an emulator."
    )

    @contextmanager
    def get_client(self) -> Iterator[bigquery.Client]:
        if not self.api_endpoint:
            with super().get_client() as client:
                yield client
            return
        client = bigquery.Client(
            project=self.project,
            location=self.location,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.api_endpoint),
        )
        try:
            yield client
        finally:
            client.close()


class BigQueryWarehouse(Warehouse):
    """Datasets `nba_raw`, `nba_analytics`, `nba_precompute`, `nba_processing` in one project."""

    bigquery: EndpointBigQueryResource
    retry_deadline_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How long one call retries an unreachable or failing BigQuery before the run fails (client default: 10 minutes)."
        ),
    )

    # Tables this object has created or found: each costs a dataset and a table call (four requests), so it is
    # made once, not before every read and write; one dropped since is made again on its NotFound.
    _ensured: set[str] = PrivateAttr(default_factory=set)

    @property
    def location(self) -> str:
        endpoint = f" at {self.bigquery.api_endpoint}" if self.bigquery.api_endpoint else ""
        return f"BigQuery project {self.bigquery.project}{endpoint}"

    @property
    def _retry(self):
        return bigquery.DEFAULT_RETRY.with_timeout(self.retry_deadline_seconds)

    # `client.query(job_retry=...)` wraps the insert in the client's own 10-minute retry whatever object is
    # passed; `job_retry=None` there and this bounded one on `result()` keep every call within the deadline.
    @property
    def _job_retry(self):
        return DEFAULT_JOB_RETRY.with_timeout(self.retry_deadline_seconds)

    @contextmanager
    def _operation(self, operation: str, table: TableSpec | None) -> Iterator[None]:
        """Service failures become `WarehouseUnavailable` naming what failed, credentials redacted, chain dropped
        (a cause's text is not ours to vouch for)."""
        try:
            yield
        except _UNAVAILABLE as error:
            target = table.qualified_name if table is not None else "tables"
            detail = _redact(f"{type(error).__name__}: {error}", _secrets(self.bigquery.gcp_credentials))
            raise WarehouseUnavailable(
                f"BigQuery {operation} of {target} in project {self.bigquery.project} failed: {detail[:500]}"
            ) from None

    def _table_id(self, table: TableSpec) -> str:
        return f"{self.bigquery.project}.{table.dataset}.{table.name}"

    def _ensure_table(self, client: bigquery.Client, table: TableSpec) -> None:
        client.create_dataset(f"{self.bigquery.project}.{table.dataset}", exists_ok=True, retry=self._retry)
        definition = bigquery.Table(self._table_id(table), schema=table.bigquery_schema())
        definition.time_partitioning = bigquery.TimePartitioning(
            type_=bigquery.TimePartitioningType.DAY, field=table.partition_column
        )
        if table.cluster_columns:
            definition.clustering_fields = list(table.cluster_columns)
        definition.description = table.description
        client.create_table(definition, exists_ok=True, retry=self._retry)
        self._ensured.add(table.qualified_name)

    def _on_table(self, client: bigquery.Client, table: TableSpec, work: Callable[[], _T]) -> _T:
        """`work()` on `table`, created first if this object has not made sure of it, or again if it has gone."""
        if table.qualified_name not in self._ensured:
            self._ensure_table(client, table)
            return work()
        try:
            return work()
        except api_exceptions.NotFound:
            self._ensured.discard(table.qualified_name)
            self._ensure_table(client, table)
            return work()

    def ensure_tables(self, tables: Sequence[TableSpec]) -> None:
        with self._operation("table creation", None), self.bigquery.get_client() as client:
            for table in tables:
                self._ensure_table(client, table)

    def read(
        self,
        table: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        where_in: Mapping[str, Sequence] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        clauses, params = _slice_clauses(table, start, end, where_in, alias=None)
        selected = table.subset(columns) if columns is not None else table
        sql = f"SELECT {', '.join(selected.column_names)} FROM `{self._table_id(table)}`"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)

        def query() -> pa.Table:
            job = client.query(
                sql, job_config=bigquery.QueryJobConfig(query_parameters=params), retry=self._retry, job_retry=None
            )
            # REST pages only: the Storage Read API needs a gRPC service the emulator has and a real project may not grant.
            return job.result(retry=self._retry, job_retry=self._job_retry).to_arrow(create_bqstorage_client=False)

        with self._operation("read", table), self.bigquery.get_client() as client:
            rows = self._on_table(client, table, query)
        return selected.frame_from_arrow(rows)

    def replace(
        self,
        table: TableSpec,
        frame: pd.DataFrame,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None = None,
    ) -> int:
        conformed = table.conform(frame)
        check_inside_slice(table, conformed, start, end, where_in)
        slice_prefix = staging_prefix(table, start, end, where_in)
        staging_id = f"{self.bigquery.project}.{table.dataset}.{slice_prefix}{uuid.uuid4().hex[:12]}"
        clauses, params = _slice_clauses(table, start, end, where_in, alias="target")
        merge = (
            f"MERGE `{self._table_id(table)}` AS target USING `{staging_id}` AS source ON FALSE "
            f"WHEN NOT MATCHED BY SOURCE AND {' AND '.join(clauses)} THEN DELETE "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(table.column_names)}) VALUES ({', '.join(table.column_names)})"
        )

        def load_and_merge() -> None:
            self._drop_staging_tables(client, table, slice_prefix)
            load = bigquery.LoadJobConfig(
                schema=table.bigquery_schema(),
                source_format=bigquery.SourceFormat.PARQUET,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            )
            # Parquet writes a list column as a nested group; list inference loads it as the REPEATED column it is.
            load.parquet_options = bigquery.ParquetOptions()
            load.parquet_options.enable_list_inference = True
            try:
                parquet = _parquet_file(table.arrow_table(conformed, conformed=True))
                loading = client.load_table_from_file(parquet, staging_id, job_config=load, timeout=self.retry_deadline_seconds)
                loading.result(retry=self._retry)
                # The one statement that changes the target: it applies whole or not at all.
                merging = client.query(
                    merge, job_config=bigquery.QueryJobConfig(query_parameters=params), retry=self._retry, job_retry=None
                )
                merging.result(retry=self._retry, job_retry=self._job_retry)
            finally:
                try:
                    client.delete_table(staging_id, not_found_ok=True, retry=self._retry)
                except _UNAVAILABLE:
                    pass  # the next write of this slice drops it; the error that matters is the one above (if any)

        with self._operation("replace", table), self.bigquery.get_client() as client:
            self._on_table(client, table, load_and_merge)
        return len(conformed)

    def _drop_staging_tables(self, client: bigquery.Client, table: TableSpec, slice_prefix: str) -> None:
        """Drop what an interrupted write of this slice left behind. Writes of one slice do not overlap (one run
        per partition), so every staging table with the slice's prefix is a leftover."""
        for listed in client.list_tables(f"{self.bigquery.project}.{table.dataset}", retry=self._retry):
            if listed.table_id.startswith(slice_prefix):
                client.delete_table(listed.reference, not_found_ok=True, retry=self._retry)

    def update_slice(
        self,
        table: TableSpec,
        start: dt.date,
        end: dt.date,
        where_in: Mapping[str, Sequence] | None,
        update: Callable[[pd.DataFrame], pd.DataFrame],
    ) -> pd.DataFrame:
        # BigQuery has no lock to hold across a read and a MERGE; the slice's writers are serialized by
        # partition (one classification run per analysis date), and each write is one atomic MERGE.
        updated = update(self.read(table, start, end, where_in))
        self.replace(table, updated, start, end, where_in)
        return updated


def staging_prefix(table: TableSpec, start: dt.date, end: dt.date, where_in: Mapping[str, Sequence] | None) -> str:
    """The name prefix of the staging tables of one slice of `table`: the slice itself, hashed."""
    filters = sorted((name, sorted(map(str, values))) for name, values in (where_in or {}).items())
    slice_key = json.dumps([start.isoformat(), end.isoformat(), filters])
    return f"_staging_{table.name}_{hashlib.sha256(slice_key.encode()).hexdigest()[:12]}_"


# Arrow's integers, booleans and floats become pandas' nullable types: a NULL must not turn an INT64 column into floats.


def _parquet_file(rows: pa.Table) -> io.BytesIO:
    parquet = io.BytesIO()
    pq.write_table(rows, parquet)
    parquet.seek(0)
    return parquet


def _slice_clauses(
    table: TableSpec, start: dt.date | None, end: dt.date | None, where_in: Mapping[str, Sequence] | None, alias: str | None
) -> tuple[list[str], list]:
    prefix = f"{alias}." if alias else ""
    clauses: list[str] = []
    params: list = []
    if start is not None:
        clauses.append(f"{prefix}{table.partition_column} >= @slice_start")
        params.append(bigquery.ScalarQueryParameter("slice_start", "DATE", start))
    if end is not None:
        clauses.append(f"{prefix}{table.partition_column} < @slice_end")
        params.append(bigquery.ScalarQueryParameter("slice_end", "DATE", end))
    for position, (name, values) in enumerate((where_in or {}).items()):
        column = table.column(name)  # raises for a name not in the schema
        clauses.append(f"{prefix}{column.name} IN UNNEST(@in_{position})")
        params.append(bigquery.ArrayQueryParameter(f"in_{position}", _PARAMETER_TYPES[column.type.value], list(values)))
    return clauses, params


def _secrets(credentials: str | None) -> list[str]:
    """The configured credentials (base64 key) and every string in the decoded key, to scrub from messages."""
    if not credentials:
        return []
    secrets = [credentials]
    try:
        decoded = base64.b64decode(credentials).decode("utf-8")
    except ValueError:
        return secrets
    secrets.append(decoded)
    try:
        key = json.loads(decoded)
    except ValueError:
        return secrets
    if isinstance(key, dict):
        secrets += [value for value in key.values() if isinstance(value, str) and len(value) >= 8]
    return secrets


def _redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text
