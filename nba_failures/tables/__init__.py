"""Every table's one schema (TableSpec), by phase: the DuckDB DDL, the BigQuery schema and the docs are made from these."""
