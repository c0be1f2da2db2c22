"""`nba_analytics` tables."""

from __future__ import annotations

from nba_failures.landing.contract import COUNTING_STATS
from nba_failures.warehouse.schema import Column, ColumnType, TableSpec, integer, number, required, required_date, string

_STAT_COLUMNS = tuple(integer(stat, f"{stat.replace('_', ' ')}.") for stat in COUNTING_STATS)

PLAYER_GAME_SUMMARY = TableSpec(
    dataset="nba_analytics",
    name="player_game_summary",
    description="One row per player per game he played (ACTIVE in the box score). Players who did not play have no row.",
    columns=(
        required_date("game_date", "Game date."),
        required(string("game_id", "Game id.")),
        required(string("player_lookup", "Normalized name key.")),
        required(string("universal_player_id", "Registry id.")),
        string("player_id", "basketball-reference player id."),
        string("player_name", "Name as printed."),
        required(string("team_abbr", "His team in this game.")),
        required(string("opponent_abbr", "Opponent.")),
        string("home_away", "HOME or AWAY."),
        Column("starter", ColumnType.BOOL, "Started the game."),
        number("minutes", "Minutes played."),
        *_STAT_COLUMNS,
        integer("plus_minus", "Plus-minus."),
        required(string("source_file", "Landing file of the row.")),
    ),
    partition_column="game_date",
)

_TEAM_TOTALS = (
    integer("points", "Points."),
    integer("fg_made", "Field goals made."),
    integer("fg_attempted", "Field goals attempted."),
    integer("three_made", "Threes made."),
    integer("three_attempted", "Threes attempted."),
    integer("ft_made", "Free throws made."),
    integer("ft_attempted", "Free throws attempted."),
    integer("offensive_rebounds", "Offensive rebounds."),
    integer("defensive_rebounds", "Defensive rebounds."),
    integer("assists", "Assists."),
    integer("turnovers", "Turnovers."),
    number("possessions", "Estimated possessions: FGA - OREB + TOV + 0.44 FTA."),
)


def _team_table(name: str, description: str, prefix: str) -> TableSpec:
    return TableSpec(
        dataset="nba_analytics",
        name=name,
        description=description,
        columns=(
            required_date("game_date", "Game date."),
            required(string("game_id", "Game id.")),
            required(string("team_abbr", "Team.")),
            required(string("opponent_abbr", "Opponent.")),
            string("home_away", "HOME or AWAY."),
            *(Column(f"{prefix}{c.name}", c.type, f"{'Opponent ' if prefix else ''}{c.description}") for c in _TEAM_TOTALS),
            integer("players_used", "Players who played (for offense) or opponents who played (for defense)."),
            number(f"{prefix}rating", "Points per 100 possessions."),
        ),
        partition_column="game_date",
    )


TEAM_OFFENSE_GAME_SUMMARY = _team_table("team_offense_game_summary", "One row per team per game: what the team scored.", "")
TEAM_DEFENSE_GAME_SUMMARY = _team_table(
    "team_defense_game_summary", "One row per team per game: what its opponent scored.", "opp_"
)

UPCOMING_PLAYER_GAME_CONTEXT = TableSpec(
    dataset="nba_analytics",
    name="upcoming_player_game_context",
    description=(
        "One row per player dressed for a team playing that day (ACTIVE or DNP on the game roster): rest and "
        "recent form from earlier `player_game_summary` rows only."
    ),
    columns=(
        required_date("game_date", "Game date."),
        required(string("game_id", "Game id.")),
        required(string("player_lookup", "Player.")),
        required(string("team_abbr", "His team that day.")),
        required(string("opponent_abbr", "Opponent.")),
        string("home_away", "HOME or AWAY."),
        integer("days_rest", "Days since his previous game played; null if none this season."),
        Column("back_to_back", ColumnType.BOOL, "Played the day before."),
        integer("games_last_7_days", "Games played in the 7 days before."),
        integer("games_played_before", "Games played this season before this day."),
        number("l5_avg_points", "Points per game over his last 5 games played."),
        number("l10_avg_points", "Points per game over his last 10 games played."),
        number("l5_avg_minutes", "Minutes per game over his last 5 games played."),
        number("l10_avg_minutes", "Minutes per game over his last 10 games played."),
        integer("team_games_last_10", "His team's games among its last 10 before this day (expected)."),
        integer("played_of_team_last_10", "Of those, games he has a player_game_summary row for (actual)."),
        number("completeness_l10_pct", "played_of_team_last_10 / team_games_last_10 × 100."),
    ),
    partition_column="game_date",
)
