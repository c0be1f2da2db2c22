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
        string("upstream_entity_id", "Entity of the missing upstream row when not this one (e.g. the opponent team)."),
        string("source_file", "Landing file the failing input came from, if any."),
        Column("source_line", ColumnType.INT64, "Line of that file (1 = header), if any."),
        Column("cache_age_hours", ColumnType.FLOAT64, "Age of the cached input a prediction used, if any."),
    ),
    partition_column="analysis_date",
    cluster_columns=("processor_name", "failure_category", "can_retry"),
)

PROCESSOR_RUNS = TableSpec(
    dataset="nba_processing",
    name="processor_runs",
    description=(
        "One row per processor and analysis date it has run for: tells a processor that ran clean (no "
        "failures) from one that has not run, so classification resolves only what was really rerun."
    ),
    columns=(
        required(string("processor_name", "Processor (asset).")),
        required(string("phase", "RAW, ANALYTICS, PRECOMPUTE or PREDICTION.")),
        Column("analysis_date", ColumnType.DATE, "Date processed.", Mode.REQUIRED),
        required(string("run_id", "Dagster run.")),
        Column("rows_written", ColumnType.INT64, "Output rows for this date.", Mode.REQUIRED),
        Column("failures", ColumnType.INT64, "Failures recorded for this date.", Mode.REQUIRED),
        Column("finished_at", ColumnType.TIMESTAMP, "When the run wrote this date.", Mode.REQUIRED),
    ),
    partition_column="analysis_date",
    cluster_columns=("processor_name",),
)


def _failure_store_table(
    name: str, description: str, date_column: str, count_names: tuple[str, str], extras: tuple[Column, ...]
) -> TableSpec:
    """The three failure tables share one column set; the original's names are kept per table."""
    expected_name, actual_name = count_names
    return TableSpec(
        dataset="nba_processing",
        name=name,
        description=description,
        columns=(
            required(string("failure_key", "Stable id: same failure on a rerun, same key.")),
            required(string("processor_name", "Processor (asset) that recorded the failure.")),
            required(string("phase", "RAW, ANALYTICS, PRECOMPUTE or PREDICTION.")),
            required(string("run_id", "Dagster run of the processor that last recorded it.")),
            string("dagster_run_id", "Dagster run of the classification that last wrote the row."),
            Column(date_column, ColumnType.DATE, "Date the processor was working on.", Mode.REQUIRED),
            required(string("entity_id", "player_lookup, team_abbr, game_id or DATE_LEVEL.")),
            required(string("entity_type", "PLAYER, TEAM, GAME or DATE.")),
            required(string("failure_category", "FailureCategory value.")),
            required(string("failure_reason", "Why, in words (at most 1000 characters).")),
            required(
                string("failure_type", "PLAYER_DNP, DATA_GAP, MIXED, INSUFFICIENT_HISTORY, COMPLETE, BAD_INPUT or UNKNOWN.")
            ),
            string("classification_reason", "How the failure_type was decided (or why it could not be)."),
            Column(
                "is_correctable", ColumnType.BOOL, "DATA_GAP or MIXED: a rerun after the data is fixed clears it.", Mode.REQUIRED
            ),
            Column(expected_name, ColumnType.INT64, "Games or rows expected."),
            Column(actual_name, ColumnType.INT64, "Games or rows found."),
            Column("missing_game_ids", ColumnType.STRING, "Games expected and not found.", Mode.REPEATED),
            Column("gap_game_ids", ColumnType.STRING, "Missing games the player played (data gaps).", Mode.REPEATED),
            Column("gap_game_dates", ColumnType.DATE, "Dates of those games.", Mode.REPEATED),
            Column("dnp_reasons", ColumnType.STRING, "'game_id: reason' for missing games he did not play.", Mode.REPEATED),
            Column("can_retry", ColumnType.BOOL, "Whether a rerun after new data can clear it.", Mode.REQUIRED),
            string("upstream_table", "Upstream table the failure is about, if any."),
            string("upstream_entity_id", "Entity of the missing upstream row when not this one (e.g. the opponent team)."),
            string("source_file", "Landing file of the failing input, if any."),
            Column("source_line", ColumnType.INT64, "Line of that file, if any."),
            required(string("resolution_status", "UNRESOLVED, RETRY_REQUESTED, RESOLVED, PERMANENT or EXPECTED.")),
            Column("resolved_at", ColumnType.TIMESTAMP, "When a rerun stopped producing it."),
            Column("created_at", ColumnType.TIMESTAMP, "First written.", Mode.REQUIRED),
            Column("first_seen_at", ColumnType.TIMESTAMP, "First classified.", Mode.REQUIRED),
            Column("last_seen_at", ColumnType.TIMESTAMP, "Last classified while still failing.", Mode.REQUIRED),
            Column("occurrences", ColumnType.INT64, "Classification runs that saw it failing.", Mode.REQUIRED),
            Column("retry_attempts", ColumnType.INT64, "Retries requested for it.", Mode.REQUIRED),
            string("last_retry_run_id", "Run key of the last retry requested."),
            Column("last_retry_at", ColumnType.TIMESTAMP, "When the last retry was requested."),
            string("permanent_reason", "Why it was given up on (PERMANENT)."),
            string("permanent_cause", "RETRIES_EXHAUSTED (reruns with its data present kept failing) or DATA_NEVER_ARRIVED."),
            Column("prerequisite_game_ids", ColumnType.STRING, "Games whose raw box score its fix needs landed.", Mode.REPEATED),
            Column("prerequisite_players", ColumnType.STRING, "Players its fix needs the registry to know.", Mode.REPEATED),
            Column(
                "root_failure_keys",
                ColumnType.STRING,
                "Failures it follows (it is rerun with them, spending no attempt).",
                Mode.REPEATED,
            ),
            string("waiting_for", "What its fix still waits for, as of the retry sensor's last look."),
            string("prerequisites_state", "Versions of its prerequisites when last retried or given up: a change re-arms it."),
            *extras,
        ),
        partition_column=date_column,
        cluster_columns=("processor_name", "failure_category", "can_retry"),
    )


ANALYTICS_FAILURES = _failure_store_table(
    "analytics_failures",
    "Classified failures of the raw (Phase 2) and analytics (Phase 3) processors, one row per failure key.",
    "analysis_date",
    ("expected_record_count", "actual_record_count"),
    (),
)
PRECOMPUTE_FAILURES = _failure_store_table(
    "precompute_failures",
    "Classified failures of the precompute (Phase 4) processors, one row per failure key.",
    "analysis_date",
    ("expected_game_count", "actual_game_count"),
    (
        Column("missing_game_dates", ColumnType.DATE, "Dates of the missing games.", Mode.REPEATED),
        Column("raw_data_checked", ColumnType.BOOL, "Whether the raw box scores were checked to classify it."),
    ),
)
PREDICTION_FAILURES = _failure_store_table(
    "prediction_failures",
    "Classified failures of the prediction (Phase 5) processors, one row per failure key.",
    "prediction_date",
    ("expected_count", "actual_count"),
    (
        string("missing_upstream_tables", "Upstream tables whose rows were missing."),
        Column("cache_age_hours", ColumnType.FLOAT64, "Age of the cached features used."),
    ),
)
