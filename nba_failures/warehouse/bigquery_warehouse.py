"""The BigQuery backend: the same `Warehouse` operations, through `dagster_gcp.BigQueryResource`.

Writes never stream: rows are loaded into a staging table by a load job, then one MERGE replaces the slice
atomically (streaming inserts sit in a buffer that blocks DML; the system we replace lost DELETEs to it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager

import pandas as pd
from dagster_gcp import BigQueryResource
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from pydantic import Field

from nba_failures.warehouse.base import Warehouse
from nba_failures.warehouse.schema import Mode, TableSpec, check_inside_slice

_PARAMETER_TYPES = {"STRING": "STRING", "INT64": "INT64", "FLOAT64": "FLOAT64", "BOOL": "BOOL", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP"}


class EndpointBigQueryResource(BigQueryResource):
    """`BigQueryResource` with an optional API endpoint, for a local emulator (anonymous credentials)."""

    api_endpoint: str | None = Field(default=None, description="BigQuery REST endpoint, e.g. http://127.0.0.1:9050 for an emulator.")

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

    def _table_id(self, table: TableSpec) -> str:
        return f"{self.bigquery.project}.{table.dataset}.{table.name}"

    def _ensure_table(self, client: bigquery.Client, table: TableSpec) -> None:
        client.create_dataset(f"{self.bigquery.project}.{table.dataset}", exists_ok=True)
        definition = bigquery.Table(self._table_id(table), schema=table.bigquery_schema())
        definition.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=table.partition_column)
        if table.cluster_columns:
            definition.clustering_fields = list(table.cluster_columns)
        definition.description = table.description
        client.create_table(definition, exists_ok=True)

    def ensure_tables(self, tables: Sequence[TableSpec]) -> None:
        with self.bigquery.get_client() as client:
            for table in tables:
                self._ensure_table(client, table)

    def read(
        self,
        table: TableSpec,
        start: dt.date | None = None,
        end: dt.date | None = None,
        where_in: Mapping[str, Sequence] | None = None,
    ) -> pd.DataFrame:
        clauses, params = _slice_clauses(table, start, end, where_in, alias=None)
        sql = f"SELECT {', '.join(table.column_names)} FROM `{self._table_id(table)}`"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        with self.bigquery.get_client() as client:
            self._ensure_table(client, table)
            frame = client.query(sql, job_config=bigquery.QueryJobConfig(query_parameters=params)).to_dataframe(create_bqstorage_client=False)
        for column in table.columns:
            if column.mode is Mode.REPEATED:
                frame[column.name] = frame[column.name].map(lambda v: [] if v is None else list(v))
        return table.conform(frame)

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
        staging_id = f"{self.bigquery.project}.{table.dataset}._staging_{table.name}_{uuid.uuid4().hex[:12]}"
        clauses, params = _slice_clauses(table, start, end, where_in, alias="target")
        merge = (
            f"MERGE `{self._table_id(table)}` AS target USING `{staging_id}` AS source ON FALSE "
            f"WHEN NOT MATCHED BY SOURCE AND {' AND '.join(clauses)} THEN DELETE "
            f"WHEN NOT MATCHED THEN INSERT ({', '.join(table.column_names)}) VALUES ({', '.join(table.column_names)})"
        )
        with self.bigquery.get_client() as client:
            self._ensure_table(client, table)
            load = bigquery.LoadJobConfig(schema=table.bigquery_schema(), write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
            try:
                client.load_table_from_dataframe(conformed, staging_id, job_config=load).result()
                client.query(merge, job_config=bigquery.QueryJobConfig(query_parameters=params)).result()
            finally:
                client.delete_table(staging_id, not_found_ok=True)
        return len(conformed)

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
        column = table.column(name)
        clauses.append(f"{prefix}{name} IN UNNEST(@in_{position})")
        params.append(bigquery.ArrayQueryParameter(f"in_{position}", _PARAMETER_TYPES[column.type.value], list(values)))
    return clauses, params
