"""Where processors put the failures of each run, before classification."""

from __future__ import annotations

from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, required, string

PROCESSOR_FAILURES = TableSpec(
    dataset="nba_processing",
    name="processor_failures",
    description=(
        "Failures recorded by each processor run, one row per failure key and analysis date. A run replaces "
        "its processor's rows for its dates; `classified_failures` reads them and keeps the history."
    ),
    columns=(
        required(string("failure_key", "Stable id: hash of processor, date, entity type, entity id, category.")),
        required(string("processor_name", "Processor (asset) that recorded the failure.")),
        required(string("phase", "RAW, ANALYTICS, PRECOMPUTE or PREDICTION.")),
        required(string("run_id", "Dagster run that recorded it.")),
        Column("analysis_date", ColumnType.DATE, "Date the processor was working on.", Mode.REQUIRED),
        required(string("entity_id", "player_lookup, team_abbr, game_id or DATE_LEVEL.")),
        required(string("entity_type", "PLAYER, TEAM, GAME or DATE.")),
        required(string("failure_category", "FailureCategory value.")),
        required(string("failure_reason", "Why, in words (at most 1000 characters).")),
        Column("can_retry", ColumnType.BOOL, "Whether a rerun after new data can clear it.", Mode.REQUIRED),
        Column("expected_count", ColumnType.INT64, "Games or rows expected."),
        Column("actual_count", ColumnType.INT64, "Games or rows found."),
        Column("missing_game_ids", ColumnType.STRING, "Games expected and not found.", Mode.REPEATED),
        string("upstream_table", "Upstream table the failure is about, if any."),
        string("source_file", "Landing file the failing input came from, if any."),
        Column("source_line", ColumnType.INT64, "Line of that file (1 = header), if any."),
    ),
    partition_column="analysis_date",
    cluster_columns=("processor_name", "failure_category", "can_retry"),
    replace_key_columns=("processor_name",),
)
