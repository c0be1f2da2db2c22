"""What the completeness check must conclude about a player's missing games in a seeded scenario, derived
independently of the pipeline: from the bundled box scores and schedule (the CSV files) and the scenario's
faults, as they stand before delivery (late files still held back, removed players still unregistered).

Nothing of the pipeline's classification, analytics or precompute code is used, so a test comparing stored
verdicts with this oracle checks them against the source data rather than against the code's own reading.

Per examined game of a failure (the games the processor recorded as missing, else his team's games in the
lookback window):

- he has a player_game_summary row when the CSV lists him ACTIVE, the game's file landed, his row is not the
  malformed one and the registry still knows him; such a game is not missing;
- otherwise the game is missing, and a gap when its file had not landed or the CSV lists him ACTIVE (our data
  lost a game he played), else a game he did not play (listed DNP / INACTIVE / OUT, or not listed at all).

Verdict: gaps and no DNPs → DATA_GAP; both → MIXED; no gaps and fewer than MIN_HISTORY_GAMES expected team
games in the lookback window → INSUFFICIENT_HISTORY; else DNPs → PLAYER_DNP; nothing missing → COMPLETE.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from nba_failures.scenarios.faults import GameFileFault, MalformedRowFault, RegistryRemovalFault
from nba_failures.scenarios.truth import GroundTruth

# The completeness check's documented defaults (README, "Failures: recorded, classified, stored, retried").
LOOKBACK_DAYS = 14
MIN_HISTORY_GAMES = 5
PLAYED_STATUS = "ACTIVE"

DATA_GAP = "DATA_GAP"
MIXED = "MIXED"
PLAYER_DNP = "PLAYER_DNP"
INSUFFICIENT_HISTORY = "INSUFFICIENT_HISTORY"
COMPLETE = "COMPLETE"


@dataclass(frozen=True)
class OracleVerdict:
    failure_type: str
    gap_game_ids: tuple[str, ...]  # missing games he played, or whose file had not landed
    dnp_game_ids: tuple[str, ...]  # missing games he did not play
    expected_games: int  # his team's games in the lookback window

    @property
    def pure_dnp(self) -> bool:
        """Every missing game is one he did not play: nothing a rerun could fix."""
        return not self.gap_game_ids and bool(self.dnp_game_ids)


class CompletenessOracle:
    """Verdicts for (player, analysis date, recorded missing games), from `boxscores` and `schedule` as read
    from the bundled CSVs (text columns, `game_date` a date) and the faults of `truth`."""

    def __init__(self, truth: GroundTruth, boxscores: pd.DataFrame, schedule: pd.DataFrame) -> None:
        self.unlanded_games = frozenset(fault.game_id for fault in truth.faults if isinstance(fault, GameFileFault))
        unregistered = {fault.player_lookup for fault in truth.faults if isinstance(fault, RegistryRemovalFault)}
        malformed = {(fault.game_id, fault.player_lookup) for fault in truth.faults if isinstance(fault, MalformedRowFault)}

        named = boxscores[boxscores["player_lookup"] != ""]
        self._status = dict(zip(zip(named["game_id"], named["player_lookup"]), named["player_status"]))
        played = named[named["player_status"] == PLAYED_STATUS]
        self.lost_summary_rows = frozenset(
            (game_id, player)
            for game_id, player in zip(played["game_id"], played["player_lookup"])
            if game_id in self.unlanded_games or player in unregistered or (game_id, player) in malformed
        )

        # Per player: his listing dates in order, and the teams he is listed with on each.
        teams_on: dict[str, dict[dt.date, set[str]]] = defaultdict(lambda: defaultdict(set))
        for player, day, team in zip(named["player_lookup"], named["game_date"], named["team_abbr"]):
            teams_on[player][day].add(team)
        self._listing_days = {player: sorted(days) for player, days in teams_on.items()}
        self._teams_on = {player: dict(days) for player, days in teams_on.items()}

        # Per team: its scheduled (date, game_id) in order.
        games: dict[str, list[tuple[dt.date, str]]] = defaultdict(list)
        for game_id, day, home, away in zip(
            schedule["game_id"], schedule["game_date"], schedule["home_abbr"], schedule["away_abbr"]
        ):
            games[home].append((day, game_id))
            games[away].append((day, game_id))
        self._team_games = {team: sorted(rows) for team, rows in games.items()}

    def has_summary_row(self, player: str, game_id: str) -> bool:
        return self._status.get((game_id, player)) == PLAYED_STATUS and (game_id, player) not in self.lost_summary_rows

    def team_at(self, player: str, day: dt.date) -> str | None:
        """His team at `day`: that of his latest listing on or before it, else of his earliest after it.

        He is on one team at a time: on a day both teams list him (traded on a game day, inactive for one of
        the two games), the team he went to, the one of his next single-team listing.
        """
        days = self._listing_days.get(player)
        if not days:
            return None
        position = bisect.bisect_right(days, day)
        listed = days[position - 1 if position else 0 :]
        teams = self._teams_on[player]
        return next((next(iter(teams[later])) for later in listed if len(teams[later]) == 1), min(teams[listed[0]]))

    def expected_games(self, player: str, analysis_date: dt.date) -> list[str]:
        """His team's games with analysis_date - LOOKBACK_DAYS <= game date < analysis_date, his team at each
        game's date (so a traded player is expected in each team's games only while on it)."""
        start = analysis_date - dt.timedelta(days=LOOKBACK_DAYS)
        expected = []
        for team in sorted({team for teams in self._teams_on.get(player, {}).values() for team in teams}):
            games = self._team_games.get(team, [])
            first = bisect.bisect_left(games, (start, ""))
            last = bisect.bisect_left(games, (analysis_date, ""))
            expected += [game_id for day, game_id in games[first:last] if self.team_at(player, day) == team]
        return sorted(expected)

    def verdict(self, player: str, analysis_date: dt.date, recorded_missing: Iterable[str] = ()) -> OracleVerdict:
        expected = self.expected_games(player, analysis_date)
        examined = sorted(set(recorded_missing)) or expected
        missing = [game_id for game_id in examined if not self.has_summary_row(player, game_id)]
        gaps = tuple(g for g in missing if g in self.unlanded_games or self._status.get((g, player)) == PLAYED_STATUS)
        dnps = tuple(g for g in missing if g not in gaps)
        if gaps:
            failure_type = MIXED if dnps else DATA_GAP
        elif len(expected) < MIN_HISTORY_GAMES:
            failure_type = INSUFFICIENT_HISTORY
        else:
            failure_type = PLAYER_DNP if dnps else COMPLETE
        return OracleVerdict(failure_type, gaps, dnps, len(expected))
