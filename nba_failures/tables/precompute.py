"""`nba_precompute` tables: one row per entity playing on the analysis date, from games strictly before it."""

from __future__ import annotations

from nba_failures.warehouse.schema import Column, ColumnType, TableSpec, integer, number, required, required_date, string

# Box scores carry made/attempted by shot type, not court location: the zones are named for what they are.
ZONES = ("two_point", "three_point", "free_throw")
GAME_WINDOWS = {"l5": 5, "l10": 10}
DAY_WINDOWS = {"l7d": 7, "l14d": 14}
WINDOWS = (*GAME_WINDOWS, *DAY_WINDOWS)
AVERAGED_STATS = ("points", "minutes", "rebounds", "assists", "steals", "blocks", "turnovers", "three_made")


_ANALYSIS_DATE = required_date("analysis_date", "Day the player or team plays; every figure uses games strictly before it.")
_PLAYER_KEYS = (
    _ANALYSIS_DATE,
    required(string("player_lookup", "Player.")),
    required(string("game_id", "His game that day.")),
    required(string("team_abbr", "His team that day.")),
    required(string("opponent_abbr", "Opponent that day.")),
)


def _zone_columns(whose: str) -> tuple[Column, ...]:
    """Made, attempted, points, share of points and efficiency for each zone, summed over the sample."""
    columns: list[Column] = []
    for zone in ZONES:
        label = zone.replace("_", "-")
        columns += [
            integer(f"{zone}_made", f"{label} shots made by {whose}."),
            integer(f"{zone}_attempted", f"{label} shots attempted by {whose}."),
            integer(f"{zone}_points", f"Points {whose} scored on {label} shots."),
            number(f"{zone}_point_share", f"{label} points / all points of {whose} (null when no points)."),
            number(f"{zone}_pct", f"{label} made / attempted of {whose} (null when none attempted)."),
        ]
    return tuple(columns)


def _window_columns() -> tuple[Column, ...]:
    columns: list[Column] = []
    for window in WINDOWS:
        size = GAME_WINDOWS.get(window) or DAY_WINDOWS[window]
        span = (
            f"his team's last {size} games" if window in GAME_WINDOWS else f"his team's games in the last {size} league game days"
        )
        columns += [
            integer(f"{window}_expected_games", f"Expected: {span} before the day (team at each game's date)."),
            integer(f"{window}_actual_games", "Actual: of those, games he has a player_game_summary row for."),
            number(f"{window}_completeness_pct", "actual / expected × 100 (null when nothing was expected)."),
        ]
    return tuple(columns)


PLAYER_DAILY_CACHE = TableSpec(
    dataset="nba_precompute",
    name="player_daily_cache",
    description=(
        "One row per production-ready player dressed that day: completeness of his L5/L10 game and L7d/L14d "
        "day windows, and his averages over his last 5/10 games played. Players below the threshold, with too "
        "little history or stale are failures in nba_processing.processor_failures instead of rows."
    ),
    columns=(
        *_PLAYER_KEYS,
        required_date(
            "l7d_window_start", "First day of the L7d window: 7 league game days back, so no-game breaks do not count."
        ),
        required_date("l14d_window_start", "First day of the L14d window: 14 league game days back."),
        *_window_columns(),
        integer("games_played_season", "Games he played this season before the day."),
        integer("days_since_last_game", "Days since his last game played (null if none this season)."),
        integer("l5_games_averaged", "Games played averaged in the l5_avg_* columns (at most 5)."),
        integer("l10_games_averaged", "Games played averaged in the l10_avg_* columns (at most 10)."),
        *(
            number(f"l{n}_avg_{stat}", f"{stat.replace('_', ' ').capitalize()} per game over his last {n} games played.")
            for n in (5, 10)
            for stat in AVERAGED_STATS
        ),
    ),
    partition_column="analysis_date",
)

PLAYER_SHOT_ZONE_ANALYSIS = TableSpec(
    dataset="nba_precompute",
    name="player_shot_zone_analysis",
    description=(
        "One row per player dressed that day with at least 3 games played: his scoring by zone over his last 10 games played."
    ),
    columns=(
        *_PLAYER_KEYS,
        integer("games_in_sample", "Games played in the sample (at most 10)."),
        integer("total_points", "Points over the sample."),
        *_zone_columns("him"),
    ),
    partition_column="analysis_date",
)

TEAM_DEFENSE_ZONE_ANALYSIS = TableSpec(
    dataset="nba_precompute",
    name="team_defense_zone_analysis",
    description=(
        "One row per team playing that day with at least 3 games: what its opponents scored by zone over its last 15 games."
    ),
    columns=(
        _ANALYSIS_DATE,
        required(string("team_abbr", "Team.")),
        required(string("opponent_abbr", "Opponent that day.")),
        integer("games_in_sample", "Games in the sample (at most 15)."),
        integer("total_points", "Points its opponents scored over the sample."),
        number("opp_points_per_game", "Opponents' points per game."),
        number("possessions_per_game", "Opponents' possessions per game: the pace of its games."),
        number("defensive_rating", "Opponents' points per 100 possessions."),
        *_zone_columns("its opponents"),
    ),
    partition_column="analysis_date",
)

PLAYER_COMPOSITE_FACTORS = TableSpec(
    dataset="nba_precompute",
    name="player_composite_factors",
    description=(
        "One row per player dressed that day with every input: fatigue, shot-zone matchup against the opponent's defense, pace."
    ),
    columns=(
        *_PLAYER_KEYS,
        integer("days_rest", "Days since his previous game played (null if none)."),
        Column("back_to_back", ColumnType.BOOL, "Played the day before."),
        integer("games_last_7_days", "Games played in the 7 days before."),
        number(
            "fatigue_score",
            "0 (rested) .. 100 (tired): 40 × back-to-back + 30 × min(games last 7 days, 4)/4 + 30 × (1 − min(rest, 4)/4).",
        ),
        *(
            number(
                f"{zone}_matchup", f"His {zone.replace('_', '-')} point share × the share of points the opponent concedes there."
            )
            for zone in ZONES
        ),
        number("shot_zone_mismatch", "Sum of the zone matchups, 0..1: how much his scoring lies where the opponent concedes."),
        number("team_pace", "Possessions per game in his team's last 15 games."),
        number("opponent_pace", "Possessions per game in the opponent's last 15 games."),
        number("expected_pace", "Mean of team_pace and opponent_pace."),
        number("pace_differential", "expected_pace − team_pace: positive when the game should run faster than his usual."),
    ),
    partition_column="analysis_date",
)

# Feature name → (description, lowest valid value, highest valid value). Ranges are what a real NBA game
# allows (minutes: 48 plus four overtimes); anything outside is a computation or data error.
FEATURES: dict[str, tuple[str, float, float]] = {
    **{f"l{n}_avg_points": (f"Points per game, last {n} games played.", 0, 100) for n in (5, 10)},
    **{f"l{n}_avg_minutes": (f"Minutes per game, last {n} games played.", 0, 68) for n in (5, 10)},
    "l10_avg_rebounds": ("Rebounds per game, last 10 games played.", 0, 40),
    "l10_avg_assists": ("Assists per game, last 10 games played.", 0, 30),
    "l10_avg_steals": ("Steals per game, last 10 games played.", 0, 15),
    "l10_avg_blocks": ("Blocks per game, last 10 games played.", 0, 15),
    "l10_avg_turnovers": ("Turnovers per game, last 10 games played.", 0, 15),
    "l10_avg_three_made": ("Threes made per game, last 10 games played.", 0, 20),
    "l10_completeness_pct": ("Games played of his team's last 10, %.", 0, 100),
    "l14d_completeness_pct": ("Games played of his team's games in the last 14 league days, %.", 0, 100),
    **{
        f"{zone}_point_share": (f"Share of his points on {zone.replace('_', '-')} shots, last 10 games played.", 0, 1)
        for zone in ZONES
    },
    "two_point_attempts_per_game": ("Two-point attempts per game, last 10 games played.", 0, 40),
    "three_point_attempts_per_game": ("Three-point attempts per game, last 10 games played.", 0, 30),
    "free_throw_attempts_per_game": ("Free-throw attempts per game, last 10 games played.", 0, 30),
    "days_rest": ("Days since his previous game played.", 1, 200),
    "back_to_back": ("1 if he played the day before, else 0.", 0, 1),
    "games_last_7_days": ("Games played in the 7 days before.", 0, 7),
    "fatigue_score": ("player_composite_factors.fatigue_score.", 0, 100),
    "shot_zone_mismatch": ("player_composite_factors.shot_zone_mismatch.", 0, 1),
    "team_pace": ("Possessions per game in his team's last 15 games.", 60, 130),
    "opponent_pace": ("Possessions per game in the opponent's last 15 games.", 60, 130),
    "pace_differential": ("expected_pace − team_pace.", -35, 35),
}
FEATURE_VERSION = "v1"

ML_FEATURE_STORE = TableSpec(
    dataset="nba_precompute",
    name="ml_feature_store",
    description=(
        "One feature vector per player dressed that day whose every input row exists and whose every feature is "
        "finite and in range; the others are UPSTREAM_INCOMPLETE or FEATURE_VALIDATION_ERROR failures."
    ),
    columns=(
        *_PLAYER_KEYS,
        required(string("feature_version", "Version of the feature definitions.")),
        *(number(name, f"{description} Valid range {low:g}..{high:g}.") for name, (description, low, high) in FEATURES.items()),
    ),
    partition_column="analysis_date",
)
