"""The yardstick: the season's core computation as plain DuckDB SQL in one process, from the bundled CSVs.

    python -m benchmarks.yardstick --database out.duckdb [--last-day 2022-10-21]

What the pipeline's core tables hold, without Dagster, pandas or failure records: player game summaries
(players who played, typed, with shooting percentages), team offense (summed box scores, possessions, rating)
and defense (the opponent's offense), per-player averages over his last 5 and 10 games played before every
day he is listed, and the 14-day completeness counts (his team's games in the last 14 league game days
before the day, his team being that of his latest listing on or before each game; and how many of them he
played) for every listed player and day. Tables are written to `--database`; a row count per table is
printed as one JSON line. `--last-day` keeps the game days up to that date (the tiny input of `--quick`).

The benchmarks time this whole process (interpreter start and imports included) against the whole
`nba-failures backfill` command: the ratio is how much the framework, the failure bookkeeping and the
per-step reads and writes cost over the computation itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

BUNDLED_SEASON_DIR = Path(__file__).resolve().parent.parent / "nba_failures" / "data" / "season_2022_23"
AVERAGED_STATS = ("points", "minutes", "rebounds", "assists", "steals", "blocks", "turnovers", "three_made")
TEAM_STATS = (
    "points", "fg_made", "fg_attempted", "three_made", "three_attempted", "ft_made", "ft_attempted",
    "offensive_rebounds", "defensive_rebounds", "assists", "turnovers",
)  # fmt: skip
COMPLETENESS_DAYS = 14


def _averages(games: int) -> str:
    """Averages over the last `games` rows of a player's played games up to and including each one."""
    frame = f"OVER (PARTITION BY player_lookup ORDER BY game_date, game_id ROWS BETWEEN {games - 1} PRECEDING AND CURRENT ROW)"
    return ", ".join(
        [*(f"avg({stat}) {frame} AS l{games}_avg_{stat}" for stat in AVERAGED_STATS), f"count(*) {frame} AS l{games}_games"]
    )


def statements(season_dir: Path, last_day: str | None) -> list[str]:
    kept = f"WHERE game_date <= DATE '{last_day}'" if last_day else ""
    team_sums = ", ".join(f"sum(b.{stat}) AS {stat}" for stat in TEAM_STATS)
    opponent = ", ".join(f"o.{stat} AS opp_{stat}" for stat in (*TEAM_STATS, "possessions", "rating"))
    return [
        f"CREATE TABLE box AS SELECT * FROM read_csv('{season_dir / 'player_boxscores.csv.gz'}', dateformat='%Y-%m-%d') {kept}",
        f"CREATE TABLE schedule AS SELECT * FROM read_csv('{season_dir / 'schedule.csv.gz'}', dateformat='%Y-%m-%d') {kept}",
        """CREATE TABLE team_games AS
           SELECT game_id, game_date, home_abbr AS team_abbr, away_abbr AS opponent_abbr, home_pts AS scheduled_points
           FROM schedule
           UNION ALL
           SELECT game_id, game_date, away_abbr, home_abbr, away_pts FROM schedule""",
        """CREATE TABLE player_game_summary AS
           SELECT game_id, game_date, player_lookup, team_abbr, opponent_abbr, home_away, starter, minutes, points, rebounds,
                  assists, steals, blocks, turnovers, personal_fouls, plus_minus, fg_made, fg_attempted, three_made,
                  three_attempted, ft_made, ft_attempted, offensive_rebounds, defensive_rebounds,
                  fg_made / nullif(fg_attempted, 0) AS fg_pct,
                  three_made / nullif(three_attempted, 0) AS three_pct,
                  ft_made / nullif(ft_attempted, 0) AS ft_pct,
                  points / nullif(2 * (fg_attempted + 0.44 * ft_attempted), 0) AS true_shooting_pct
           FROM box WHERE player_status = 'ACTIVE' AND coalesce(player_lookup, '') <> ''""",
        f"""CREATE TABLE team_offense_game_summary AS
           SELECT *, fg_attempted - offensive_rebounds + turnovers + 0.44 * ft_attempted AS possessions,
                  100 * points / nullif(fg_attempted - offensive_rebounds + turnovers + 0.44 * ft_attempted, 0) AS rating,
                  points <> scheduled_points AS points_mismatch
           FROM (SELECT t.game_id, t.game_date, t.team_abbr, t.opponent_abbr, t.scheduled_points, {team_sums},
                        count(*) AS players_used
                 FROM team_games t
                 JOIN box b ON b.game_id = t.game_id AND b.team_abbr = t.team_abbr AND b.player_status = 'ACTIVE'
                 GROUP BY t.game_id, t.game_date, t.team_abbr, t.opponent_abbr, t.scheduled_points)""",
        f"""CREATE TABLE team_defense_game_summary AS
           SELECT d.game_id, d.game_date, d.team_abbr, d.opponent_abbr, {opponent}
           FROM team_offense_game_summary d
           JOIN team_offense_game_summary o ON o.game_id = d.game_id AND o.team_abbr = d.opponent_abbr""",
        # Every player listed in a game that day, any status: the players the daily figures are for.
        """CREATE TABLE listings AS
           SELECT DISTINCT player_lookup, game_date, game_id, team_abbr FROM box WHERE coalesce(player_lookup, '') <> ''""",
        f"""CREATE TABLE played_windows AS
           SELECT player_lookup, game_date, game_id, {_averages(5)}, {_averages(10)} FROM player_game_summary""",
        # His averages before a day are those up to his latest game strictly before it.
        f"""CREATE TABLE player_rolling_averages AS
           SELECT l.player_lookup, l.game_date AS analysis_date, l.game_id, l.team_abbr,
                  {", ".join(f"w.l{n}_avg_{stat}" for n in (5, 10) for stat in AVERAGED_STATS)},
                  coalesce(w.l5_games, 0) AS l5_games_averaged, coalesce(w.l10_games, 0) AS l10_games_averaged
           FROM listings l
           ASOF LEFT JOIN played_windows w ON w.player_lookup = l.player_lookup AND w.game_date < l.game_date""",
        f"""CREATE TABLE league_days AS
           SELECT game_date,
                  coalesce(lag(game_date, {COMPLETENESS_DAYS}) OVER (ORDER BY game_date), min(game_date) OVER ()) AS window_start
           FROM (SELECT DISTINCT game_date FROM schedule)""",
        # His team at each of its games is that of his latest listing on or before the game.
        """CREATE TABLE his_team_games AS
           SELECT c.player_lookup, c.game_id, c.game_date
           FROM (SELECT p.player_lookup, t.team_abbr, t.game_id, t.game_date
                 FROM (SELECT DISTINCT player_lookup, team_abbr FROM listings) p JOIN team_games t USING (team_abbr)) c
           ASOF JOIN listings l ON l.player_lookup = c.player_lookup AND l.game_date <= c.game_date
           WHERE l.team_abbr = c.team_abbr""",
        """CREATE TABLE player_completeness_l14d AS
           SELECT l.player_lookup, l.game_date AS analysis_date,
                  count(g.game_id) AS expected_games, count(s.game_id) AS actual_games,
                  100 * count(s.game_id) / nullif(count(g.game_id), 0) AS completeness_pct
           FROM listings l
           JOIN league_days d ON d.game_date = l.game_date
           LEFT JOIN his_team_games g
                  ON g.player_lookup = l.player_lookup AND g.game_date >= d.window_start AND g.game_date < l.game_date
           LEFT JOIN player_game_summary s ON s.player_lookup = g.player_lookup AND s.game_id = g.game_id
           GROUP BY ALL""",
    ]


RESULT_TABLES = (
    "player_game_summary",
    "team_offense_game_summary",
    "team_defense_game_summary",
    "player_rolling_averages",
    "player_completeness_l14d",
)


def compute(database: Path, season_dir: Path = BUNDLED_SEASON_DIR, last_day: str | None = None) -> dict[str, int]:
    """Write the yardstick's tables to a new `database`; rows per result table."""
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as connection:
        for statement in statements(season_dir, last_day):
            connection.execute(statement)
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in RESULT_TABLES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.yardstick", description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="DuckDB file to (re)create")
    parser.add_argument("--last-day", help="keep game days up to this date (ISO)")
    args = parser.parse_args(argv)
    print(json.dumps(compute(args.database, last_day=args.last_day)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
