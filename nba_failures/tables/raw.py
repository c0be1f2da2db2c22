"""`nba_raw` tables. The gamebook table keeps every landed value as text: parsing is Phase 3's job,
so a malformed value is reported there against its player instead of failing the whole file here."""

from __future__ import annotations

from nba_failures.landing.contract import GAMEBOOK_COLUMNS
from nba_failures.warehouse.schema import Column, ColumnType, Mode, TableSpec, required, string

NBAC_SCHEDULE = TableSpec(
    dataset="nba_raw",
    name="nbac_schedule",
    description="The season schedule, one row per game.",
    columns=(
        Column("game_date", ColumnType.DATE, "Game date.", Mode.REQUIRED),
        required(string("game_id", "basketball-reference game id (YYYYMMDD0 + home team).")),
        string("start_time_et", "Tip-off, Eastern time."),
        required(string("away_abbr", "Away team, NBA.com code.")),
        required(string("home_abbr", "Home team, NBA.com code.")),
        string("away_team_name", "Away team name."),
        string("home_team_name", "Home team name."),
        Column("away_pts", ColumnType.INT64, "Away team final score."),
        Column("home_pts", ColumnType.INT64, "Home team final score."),
        string("overtimes", "OT, 2OT… or empty."),
        string("arena", "Arena."),
        string("season", "Season, e.g. 2022-23."),
        string("season_type", "Regular Season."),
    ),
    partition_column="game_date",
)

NBAC_GAMEBOOK_PLAYER_STATS = TableSpec(
    dataset="nba_raw",
    name="nbac_gamebook_player_stats",
    description="Every listed player of every landed game file, values as landed (text).",
    columns=(
        Column("landing_date", ColumnType.DATE, "Date folder the game file landed in.", Mode.REQUIRED),
        *(string(name, f"`{name}` as landed.") for name in GAMEBOOK_COLUMNS),
        required(string("source_file", "Landing file, relative to the landing directory.")),
        Column("source_line", ColumnType.INT64, "Line in that file (1 = header).", Mode.REQUIRED),
    ),
    partition_column="landing_date",
)

PLAYER_REGISTRY = TableSpec(
    dataset="nba_raw",
    name="player_registry",
    description="The player registry as it stood when each day was processed (a snapshot per day).",
    columns=(
        Column("snapshot_date", ColumnType.DATE, "Day this snapshot was taken for.", Mode.REQUIRED),
        required(string("player_lookup", "Normalized name key.")),
        required(string("universal_player_id", "Our stable player id.")),
        string("player_name", "Display name."),
        string("aliases", "Other spellings of the name, separated by '|'."),
    ),
    partition_column="snapshot_date",
)
