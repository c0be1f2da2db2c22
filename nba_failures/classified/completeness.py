"""The completeness resource: gathers the three sources once per run and classifies every failure.

The classification (and pandas with it) is imported where used: loading the code location only defines the resource.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from dagster import ConfigurableResource
from pydantic import Field

from nba_failures.frames import collector_paused
from nba_failures.landing.contract import LISTING_COLUMNS, game_date_of
from nba_failures.tables.analytics import PLAYER_GAME_SUMMARY
from nba_failures.tables.failures import PROCESSOR_FAILURES
from nba_failures.tables.raw import NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE
from nba_failures.warehouse.base import Warehouse

if TYPE_CHECKING:
    import pandas as pd

    from nba_failures.failures.classification import CompletenessEvidence
    from nba_failures.failures.prerequisites import RootProcessors


def _root_processors() -> RootProcessors:
    """Processors are named after their output tables: the roots of later windows' gaps."""
    from nba_failures.failures.prerequisites import RootProcessors

    return RootProcessors(raw_games=NBAC_GAMEBOOK_PLAYER_STATS.name, player_games=PLAYER_GAME_SUMMARY.name)


class CompletenessChecker(ConfigurableResource):
    """Tells a player who did not play from a data gap, for all failures of a run in five reads."""

    lookback_days: int = Field(default=14, ge=1, description="Days before the analysis date whose games are checked.")
    min_history_games: int = Field(default=5, ge=1, description="Fewer expected games than this → INSUFFICIENT_HISTORY.")

    @collector_paused()
    def evidence(self, warehouse: Warehouse, failures: pd.DataFrame, start: dt.date, end: dt.date) -> CompletenessEvidence:
        """Schedule, summaries, raw box scores (resolved against the registry, as the processors resolved them) and
        the root processors' failures around `[start, end)`: five reads.

        Reads reach twice the lookback back, so a player's team is known even when every game of his
        inside the window is missing, and further where a failure names older missing games.
        """
        from nba_failures.failures.classification import SUMMARY_EVIDENCE_COLUMNS, CompletenessEvidence, needs_completeness_check
        from nba_failures.failures.prerequisites import RECORDED_FAILURE_COLUMNS
        from nba_failures.identity import box_listings, read_player_identities

        checked = failures[needs_completeness_check(failures)]
        players = sorted(set(checked["entity_id"]))
        recorded = [game_date_of(game) for ids in checked["missing_game_ids"] for game in ids]
        # Back far enough for the lookback and for every game a processor recorded as missing.
        reach = min([start - dt.timedelta(days=2 * self.lookback_days), *recorded])
        schedule = warehouse.read(NBAC_SCHEDULE, reach, end)
        player_games = warehouse.read(
            PLAYER_GAME_SUMMARY, reach, end, where_in={"player_lookup": players}, columns=SUMMARY_EVIDENCE_COLUMNS
        )
        listings = warehouse.read(NBAC_GAMEBOOK_PLAYER_STATS, reach, end, columns=LISTING_COLUMNS)
        raw_rows = box_listings(listings, read_player_identities(warehouse, reach, end))
        # The roots of a window's gaps were recorded on the gap games' days: every game examined is inside the reach.
        roots = _root_processors()
        root_processors = {"processor_name": [roots.raw_games, roots.player_games]}
        recorded = warehouse.read(PROCESSOR_FAILURES, reach, start, where_in=root_processors, columns=RECORDED_FAILURE_COLUMNS)
        return CompletenessEvidence(schedule=schedule, player_games=player_games, raw_rows=raw_rows, recorded_failures=recorded)

    @collector_paused()
    def classify_with(self, failures: pd.DataFrame, evidence: CompletenessEvidence) -> pd.DataFrame:
        """Every failure classified, with what its fix needs (prerequisites and the root failures it follows)."""
        from nba_failures.failures.classification import classify_failures
        from nba_failures.failures.prerequisites import attach_prerequisites

        classified = classify_failures(failures, evidence, self.lookback_days, self.min_history_games)
        return attach_prerequisites(classified, evidence.recorded_failures, _root_processors())

    def classify(self, warehouse: Warehouse, failures: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
        return self.classify_with(failures, self.evidence(warehouse, failures, start, end))
