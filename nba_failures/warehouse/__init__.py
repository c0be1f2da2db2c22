"""The warehouse: one schema definition per table, and a backend per environment (DuckDB, BigQuery)."""
