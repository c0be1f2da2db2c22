"""What a seeded scenario's faults should leave in the failure store once the sensors have done their work.

Which failure each fault explains is worked out from the scenario's faults and the games each failure names
(the processors' own records: entity, missing and gap games), never from the classifier's verdict or the
sensor's bookkeeping, so the checks hold the sensors to the scenario, not to themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nba_failures.failures.store import read_failures
from nba_failures.scenarios import FaultKind, GroundTruth
from nba_failures.warehouse.base import Warehouse

RETRIED_TYPES = ("DATA_GAP", "MIXED", "COMPLETE")  # what the README says the sensor reruns
NEVER_RETRIED_TYPES = ("BAD_INPUT", "PLAYER_DNP", "INSUFFICIENT_HISTORY")
FOLLOWING_CATEGORIES = ("UPSTREAM_INCOMPLETE", "MISSING_DATA")


def stored(warehouse: Warehouse) -> pd.DataFrame:
    return read_failures(warehouse).set_index("failure_key")


def named_games(store: pd.DataFrame) -> pd.Series:
    """The games each failure is about: its entity, its missing and gap games, and, for a failure that only says an
    upstream row is missing, those of the same entity's other failures that day."""
    own = pd.Series(
        [
            {entity, *missing, *gaps}
            for entity, missing, gaps in zip(store["entity_id"], store["missing_game_ids"], store["gap_game_ids"])
        ],
        index=store.index,
    )
    by_entity_day = own.groupby([store["entity_id"], store["analysis_date"]]).agg(lambda sets: set().union(*sets))
    day_games = [by_entity_day[(entity, day)] for entity, day in zip(store["entity_id"], store["analysis_date"])]
    following = store["failure_category"].isin(FOLLOWING_CATEGORIES)
    return pd.Series([o | d if f else o for o, d, f in zip(own, day_games, following)], index=store.index)


@dataclass(frozen=True)
class Faults:
    never: frozenset[str]  # games whose file never lands
    late: dict[str, float]  # game -> hours after the failures until its file lands
    removed: dict[str, float]  # player -> hours until the registry knows him again
    malformed: frozenset[tuple[str, str]]  # (player, game) of a corrupted row

    @classmethod
    def of(cls, truth: GroundTruth) -> Faults:
        return cls(
            frozenset(fault.game_id for fault in truth.faults_of(FaultKind.MISSING_GAME_FILE)),
            {fault.game_id: fault.delivery_delay_hours for fault in truth.faults_of(FaultKind.LATE_GAME_FILE)},
            {fault.player_lookup: fault.delivery_delay_hours for fault in truth.faults_of(FaultKind.REGISTRY_REMOVAL)},
            frozenset((fault.player_lookup, fault.game_id) for fault in truth.faults_of(FaultKind.MALFORMED_ROW)),
        )

    def undelivered(self, store: pd.DataFrame, hours: float | None) -> pd.Series:
        """Failures about a game or a player whose fix is not delivered by `hours` (None: before any delivery)."""
        pending_games = set(self.never) | {game for game, delay in self.late.items() if hours is None or delay > hours}
        pending_players = {player for player, delay in self.removed.items() if hours is None or delay > hours}
        games = named_games(store)
        return pd.Series([bool(g & pending_games) for g in games], index=store.index) | store["entity_id"].isin(pending_players)


@dataclass(frozen=True)
class Outcome:
    never_arrived: pd.DataFrame  # failures about a file that never lands
    malformed: pd.DataFrame  # failures about a corrupted row: its data is present, no rerun can fix it
    delivered: pd.DataFrame  # every other failure the sensor reruns: its fix was delivered


def outcome(before: pd.DataFrame, after: pd.DataFrame, faults: Faults) -> Outcome:
    """Every failure the sensor reruns (then or now), split by what its fix depends on."""
    was_retried = before.reindex(after.index)["failure_type"].isin(RETRIED_TYPES)
    final = after[after["failure_type"].isin(RETRIED_TYPES) | was_retried]
    games = named_games(after).loc[final.index]
    never = pd.Series([bool(g & faults.never) for g in games], index=final.index)
    malformed = pd.Series(
        [any((e, g) in faults.malformed for g in gs) for e, gs in zip(final["entity_id"], games)], index=final.index
    )
    malformed &= ~never
    return Outcome(final[never], final[malformed], final[~never & ~malformed])


def assert_healed(result: Outcome, after: pd.DataFrame, max_attempts: int, never_arrived_status: str) -> None:
    """Delivered fixes healed; data that never came waited (attempts unspent); malformed rows given up after exactly
    `max_attempts` reruns with their data present, their followers with them."""
    unhealed = result.delivered[~result.delivered["resolution_status"].isin(["RESOLVED", "EXPECTED"])]
    assert unhealed.empty, f"delivered but not healed:\n{unhealed[['processor_name', 'entity_id', 'resolution_status']]}"
    assert (result.never_arrived["resolution_status"] == never_arrived_status).all()
    assert (result.never_arrived["retry_attempts"] == 0).all(), "attempts spent on data that never arrived"
    bad = result.malformed
    assert len(bad) and (bad["resolution_status"] == "PERMANENT").all() and (bad["permanent_cause"] == "RETRIES_EXHAUSTED").all()
    on_their_own = bad[bad["root_failure_keys"].map(lambda roots: not set(roots) & set(bad.index))]
    assert (on_their_own["retry_attempts"] == max_attempts).all(), "given up after exactly max_attempts reruns"
    assert (bad.drop(on_their_own.index)["retry_attempts"] == 0).all(), "followers spend no attempt"
    # A gap whose delivered box score shows he did not play is rerun once its data is there, and that rerun finds it
    # EXPECTED: only then does its type say it cannot clear. Nothing else of such a type is ever rerun.
    found_expected = result.delivered.index[result.delivered["resolution_status"] == "EXPECTED"]
    assert (after.loc[found_expected, "retry_attempts"] <= 1).all(), "one rerun with its data settles a delivered gap"
    cannot_clear = after.drop(found_expected)
    assert (cannot_clear.loc[cannot_clear["failure_type"].isin(NEVER_RETRIED_TYPES), "retry_attempts"] == 0).all(), (
        "never rerun what cannot clear"
    )


def lifecycle(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Failures by resolution status, before and after."""
    counts = {"before": before.groupby("resolution_status").size(), "after": after.groupby("resolution_status").size()}
    return pd.DataFrame(counts).fillna(0).astype(int)
