"""Ground truth of a scenario: its faults, and every failure row each should produce (`ground_truth.json`).

What each fault produces is stated here, from the landing contract and the processors' documented behaviour,
not computed by running them: the tests compare the pipeline against it.

- late / missing game file: the raw gamebook fails the GAME, both team summaries fail both TEAMs
  (MISSING_RAW_DATA, a DATA_GAP); nobody of that game gets a player_game_summary row. A late file is fixed by
  delivery, a missing one never.
- registry removal: REGISTRY_LOOKUP_FAILED for the PLAYER on every date he played (a DATA_GAP, fixed when
  delivery adds him back).
- malformed row: PROCESSING_ERROR for the PLAYER on that date, and his team's box score no longer adds up to
  its scheduled score: VALIDATION_ERROR for the TEAM (both BAD_INPUT: no delivery or rerun fixes them).

Side effects on counts-based failures of later days (e.g. `upcoming_player_game_context`'s
INSUFFICIENT_DATA, which depends on how much history a run reads) are not listed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, computed_field

from nba_failures.failures.records import EntityType, FailureCategory, FailureType, failure_key
from nba_failures.scenarios.faults import Fault, FaultCounts, FaultKind, GameFileFault, MalformedRowFault, RegistryRemovalFault

GROUND_TRUTH_FILE = "ground_truth.json"
UNDELIVERED_DIR = ".undelivered"

# Processor (asset) names, as the raw and analytics ProcessorSpecs declare them (a test checks they agree);
# spelled here so building a scenario does not load the Dagster code location.
RAW_GAMEBOOK = "nbac_gamebook_player_stats"
PLAYER_GAME_SUMMARY = "player_game_summary"
TEAM_OFFENSE = "team_offense_game_summary"
TEAM_DEFENSE = "team_defense_game_summary"

# The categories the faults produce: the clean real season has none of them in the raw and analytics processors.
FAULT_CATEGORIES = frozenset(
    {
        FailureCategory.MISSING_RAW_DATA,
        FailureCategory.REGISTRY_LOOKUP_FAILED,
        FailureCategory.PROCESSING_ERROR,
        FailureCategory.VALIDATION_ERROR,
    }
)


class ExpectedFailure(BaseModel):
    """One failure row a fault should produce in the failure store, as classified."""

    model_config = ConfigDict(frozen=True)

    fault_id: str
    fault_kind: FaultKind
    processor_name: str
    analysis_date: dt.date
    entity_type: EntityType
    entity_id: str
    failure_category: FailureCategory
    failure_type: FailureType
    is_correctable: bool
    fixed_by_delivery: bool
    game_id: str | None = None
    player_lookup: str | None = None
    file: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failure_key(self) -> str:
        return failure_key(self.processor_name, self.analysis_date, self.entity_type, self.entity_id, self.failure_category)


class GroundTruth(BaseModel):
    model_config = ConfigDict(frozen=True)

    seed: int
    start: dt.date  # faults are placed in game dates [start, end]
    end: dt.date
    counts: FaultCounts
    faults: tuple[Fault, ...]
    expected_failures: tuple[ExpectedFailure, ...]

    def faults_of(self, kind: FaultKind) -> list[Fault]:
        return [fault for fault in self.faults if fault.fault_kind == kind]

    def expected_between(self, first: dt.date, last: dt.date) -> list[ExpectedFailure]:
        """Expected failures with an analysis date in `[first, last]`."""
        return [row for row in self.expected_failures if first <= row.analysis_date <= last]


def _row(fault: Fault, processor: str, day: dt.date, entity_type: EntityType, entity_id: str, category: FailureCategory,
         failure_type: FailureType, fixed: bool, **details: str | None) -> ExpectedFailure:  # fmt: skip
    return ExpectedFailure(
        fault_id=fault.fault_id,
        fault_kind=fault.fault_kind,
        processor_name=processor,
        analysis_date=day,
        entity_type=entity_type,
        entity_id=entity_id,
        failure_category=category,
        failure_type=failure_type,
        is_correctable=failure_type.correctable,
        fixed_by_delivery=fixed,
        **details,
    )


def expected_failures(fault: Fault) -> list[ExpectedFailure]:
    """Every failure row `fault` should produce."""
    if isinstance(fault, GameFileFault):
        details = dict(game_id=fault.game_id, file=fault.file)
        missing = (FailureCategory.MISSING_RAW_DATA, FailureType.DATA_GAP, fault.fixed_by_delivery)
        rows = [_row(fault, RAW_GAMEBOOK, fault.game_date, EntityType.GAME, fault.game_id, *missing, **details)]
        for processor in (TEAM_OFFENSE, TEAM_DEFENSE):
            for team in sorted((fault.home_abbr, fault.away_abbr)):
                rows.append(_row(fault, processor, fault.game_date, EntityType.TEAM, team, *missing, **details))
        return rows
    if isinstance(fault, RegistryRemovalFault):
        return [
            _row(
                fault,
                PLAYER_GAME_SUMMARY,
                day,
                EntityType.PLAYER,
                fault.player_lookup,
                FailureCategory.REGISTRY_LOOKUP_FAILED,
                FailureType.DATA_GAP,
                True,
                game_id=game_id,
                player_lookup=fault.player_lookup,
            )  # fmt: skip
            for day, game_id in _dates_and_games(fault)
        ]
    if isinstance(fault, MalformedRowFault):
        details = dict(game_id=fault.game_id, file=fault.file)
        return [
            _row(fault, PLAYER_GAME_SUMMARY, fault.game_date, EntityType.PLAYER, fault.player_lookup,
                 FailureCategory.PROCESSING_ERROR, FailureType.BAD_INPUT, False, player_lookup=fault.player_lookup, **details),
            _row(fault, TEAM_OFFENSE, fault.game_date, EntityType.TEAM, fault.team_abbr, FailureCategory.VALIDATION_ERROR,
                 FailureType.BAD_INPUT, False, player_lookup=fault.player_lookup, **details),
        ]  # fmt: skip
    raise TypeError(f"unknown fault {fault!r}")


def _dates_and_games(fault: RegistryRemovalFault) -> list[tuple[dt.date, str]]:
    """(date, game_id) of each date he played: game ids start with the date ('202301150BOS')."""
    by_date = {dt.date(int(g[:4]), int(g[4:6]), int(g[6:8])): g for g in fault.played_game_ids}
    assert sorted(by_date) == list(fault.played_dates), fault.fault_id
    return sorted(by_date.items())


def ground_truth(seed: int, start: dt.date, end: dt.date, counts: FaultCounts, faults: list[Fault]) -> GroundTruth:
    rows = sorted(
        (row for fault in faults for row in expected_failures(fault)),
        key=lambda r: (r.analysis_date, r.processor_name, r.entity_type.value, r.entity_id, r.failure_category.value),
    )
    return GroundTruth(seed=seed, start=start, end=end, counts=counts, faults=tuple(faults), expected_failures=tuple(rows))


def write_ground_truth(landing_dir: Path, truth: GroundTruth) -> Path:
    path = Path(landing_dir) / GROUND_TRUTH_FILE
    path.write_text(json.dumps(truth.model_dump(mode="json"), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_ground_truth(landing_dir: Path) -> GroundTruth:
    return GroundTruth.model_validate_json((Path(landing_dir) / GROUND_TRUTH_FILE).read_text(encoding="utf-8"))
