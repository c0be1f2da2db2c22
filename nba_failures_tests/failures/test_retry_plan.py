"""The retry planner on its own (pure): prerequisites, followers, both ways of giving up, windows, against a clock."""

import datetime as dt

import pandas as pd
import pytest

from nba_failures.failures.records import PermanentCause
from nba_failures.failures.retry_plan import PrerequisiteVersions, RetrySettings, RunState, plan_retries

SEEN = pd.Timestamp("2023-01-16 06:00", tz="UTC")
SETTINGS = RetrySettings(max_attempts=3, backoff_seconds=600, max_wait_hours=72)
GAME = "202301150BOS"
OTHER_GAME = "202301200LAL"
ASSETS = {
    "raw_step": frozenset({"raw"}),
    "cache_step": frozenset({"raw", "cache"}),
    "store_step": frozenset({"raw", "cache", "store"}),
}


def failure(key: str, processor: str = "raw_step", day: dt.date = dt.date(2023, 1, 15), **fields) -> dict:
    return {
        "failure_key": key, "processor_name": processor, "failure_category": "MISSING_RAW_DATA", "entity_id": key,
        "analysis_date": day, "failure_type": "DATA_GAP", "resolution_status": "UNRESOLVED", "retry_attempts": 0,
        "last_retry_run_id": None, "last_retry_at": pd.NaT, "first_seen_at": SEEN, "prerequisite_game_ids": [],
        "prerequisite_players": [], "root_failure_keys": [], "prerequisites_state": None, "permanent_reason": None,
        "permanent_cause": None, "missing_game_ids": [], "gap_game_ids": [], **fields,
    }  # fmt: skip


class Landing:
    """Which game files and registry entries exist, and their versions; changed by the test between ticks."""

    def __init__(self, games: dict[str, str] | None = None, players: dict[str, str] | None = None) -> None:
        self.games = dict(games or {})
        self.players = dict(players or {})

    def versions(self) -> PrerequisiteVersions:
        return PrerequisiteVersions(game_file=self.games.get, registry_entry=self.players.get)


def plan(rows: list[dict], landing: Landing, hours_after_seen: float, runs: dict[str, RunState] | None = None, settings=SETTINGS):
    now = SEEN + pd.Timedelta(hours=hours_after_seen)
    return plan_retries(
        pd.DataFrame(rows),
        now,
        settings,
        landing.versions(),
        ASSETS.__getitem__,
        lambda key: (runs or {}).get(key, RunState.FINISHED),
    )


def apply(rows: list[dict], decision, hours_after_seen: float) -> list[dict]:
    """The store after a tick, as the sensor writes it (attempts and state for the retried, PERMANENT for the given up)."""
    now = SEEN + pd.Timedelta(hours=hours_after_seen)
    retried, permanent = decision.retried, decision.permanent
    updated = []
    for row in rows:
        key = row["failure_key"]
        if key in retried:
            run, attempt = retried[key]
            row = {**row, "resolution_status": "RETRY_REQUESTED", "retry_attempts": attempt, "last_retry_run_id": run.run_key,
                   "last_retry_at": now, "prerequisites_state": run.states[key]}  # fmt: skip
        elif key in permanent:
            give_up = permanent[key]
            row = {**row, "resolution_status": "PERMANENT", "permanent_reason": give_up.reason,
                   "permanent_cause": give_up.cause.value, "prerequisites_state": give_up.state}  # fmt: skip
        updated.append(row)
    return updated


def test_a_failure_whose_game_file_has_not_landed_waits_spending_nothing_until_max_wait():
    rows = [failure("raw-g", prerequisite_game_ids=[GAME])]
    for hours in (0.02, 6, 48, 71.9):
        decision = plan(rows, Landing(), hours)
        assert not decision.runs and not decision.permanent
        assert decision.waiting == {"raw-g": f"raw box score of {GAME}"}
    decision = plan(rows, Landing(), 72.1)
    give_up = decision.permanent["raw-g"]
    assert give_up.cause == PermanentCause.DATA_NEVER_ARRIVED and GAME in give_up.reason and not decision.runs


def test_a_registry_fix_is_waited_for_even_when_every_game_file_has_landed():
    rows = [
        failure(
            "cache-p",
            "cache_step",
            entity_id="kennedychandler",
            prerequisite_game_ids=[GAME],
            prerequisite_players=["kennedychandler"],
        )
    ]
    decision = plan(rows, Landing(games={GAME: "v1"}), 1)
    assert not decision.runs and decision.waiting == {"cache-p": "kennedychandler in the player registry"}
    decision = plan(rows, Landing(games={GAME: "v1"}, players={"kennedychandler": "id:kennedychandler"}), 24)
    [run] = decision.runs
    assert run.attempts == {"cache-p": 1}


def test_followers_wait_for_their_root_and_ride_with_it_without_spending_an_attempt():
    root = failure("raw-g", prerequisite_game_ids=[GAME])
    cache = failure("cache-p", "cache_step", dt.date(2023, 1, 18), prerequisite_game_ids=[GAME], root_failure_keys=["raw-g"])
    store = failure(
        "store-p", "store_step", dt.date(2023, 1, 19), prerequisite_game_ids=[GAME], root_failure_keys=["raw-g", "cache-p"]
    )
    rows = [root, cache, store]
    waiting = plan(rows, Landing(), 6)
    assert not waiting.runs
    assert waiting.waiting["store-p"].startswith("its root failure raw_step MISSING_RAW_DATA raw-g 2023-01-15")
    assert GAME in waiting.waiting["cache-p"]

    landed = plan(rows, Landing(games={GAME: "v1"}), 6.5)
    [run] = landed.runs
    assert run.attempts == {"raw-g": 1}, "only the root spends an attempt"
    assert run.riders == {"cache-p", "store-p"}
    assert (run.first, run.last) == (dt.date(2023, 1, 15), dt.date(2023, 1, 19))
    assert run.assets == ASSETS["store_step"]
    assert not landed.waiting


def test_a_rerun_with_the_same_data_backs_off_then_gives_up_after_max_attempts():
    rows = [failure("bad-row-gap", "cache_step", prerequisite_game_ids=[GAME])]
    landing = Landing(games={GAME: "v1"})
    hours, attempts = 0.0, []
    for _ in range(3):
        decision = plan(rows, landing, hours)
        attempts += [attempt for _, attempt in decision.retried.values()]
        rows = apply(rows, decision, hours)
        hours += 0.05  # 3 minutes a tick: 9 minutes in all, shorter than the backoff after the first rerun
    assert attempts == [1], "the same data is not rerun again before its backoff"

    for step in range(1, 4):
        hours += (SETTINGS.backoff_seconds * 2 ** (step - 1) + 60) / 3600  # a minute past each backoff
        decision = plan(rows, landing, hours)
        attempts += [attempt for _, attempt in decision.retried.values()]
        rows = apply(rows, decision, hours)
    assert attempts == [1, 2, 3]
    give_up = decision.permanent["bad-row-gap"]
    assert give_up.cause == PermanentCause.RETRIES_EXHAUSTED and "3 times with its data present" in give_up.reason


def test_a_changed_prerequisite_rearms_a_failure_even_after_it_was_given_up():
    landing = Landing(games={GAME: "v1"})
    state = plan([failure("gap", "cache_step", prerequisite_game_ids=[GAME])], landing, 0).runs[0].states["gap"]
    rows = [failure("gap", "cache_step", prerequisite_game_ids=[GAME], resolution_status="PERMANENT", retry_attempts=3,
                    permanent_cause="RETRIES_EXHAUSTED", prerequisites_state=state)]  # fmt: skip
    assert plan(rows, landing, 30).runs == [], "nothing changed: it stays given up"
    landing.games[GAME] = "v2"  # a corrected file re-delivered the next day
    [run] = plan(rows, landing, 30).runs
    assert run.attempts == {"gap": 1}, "a new round for new data"


def test_data_that_lands_after_the_wait_still_closes_the_loop():
    rows = [failure("raw-g", prerequisite_game_ids=[GAME])]
    rows = apply(rows, plan(rows, Landing(), 80), 80)
    assert rows[0]["permanent_cause"] == PermanentCause.DATA_NEVER_ARRIVED.value
    [run] = plan(rows, Landing(games={GAME: "v1"}), 96).runs
    assert run.attempts == {"raw-g": 1}


def test_followers_of_a_root_given_up_are_given_up_with_it():
    root = failure("raw-g", prerequisite_game_ids=[GAME], resolution_status="PERMANENT", permanent_cause="DATA_NEVER_ARRIVED",
                   permanent_reason="data never arrived within 72 hours: raw box score of X")  # fmt: skip
    follower = failure("cache-p", "cache_step", prerequisite_game_ids=[GAME], root_failure_keys=["raw-g"])
    decision = plan([root, follower], Landing(), 1)
    give_up = decision.permanent["cache-p"]
    assert give_up.cause == PermanentCause.DATA_NEVER_ARRIVED and give_up.reason.startswith("follows raw_step")
    assert not plan(apply([root, follower], decision, 1), Landing(), 2).permanent, "given up once, not again every tick"


def test_overlapping_and_adjacent_windows_share_a_run_and_distant_ones_do_not():
    landing = Landing(games={GAME: "v1", OTHER_GAME: "v1"})
    rows = [
        failure("a", "cache_step", dt.date(2023, 1, 17), prerequisite_game_ids=[GAME]),
        failure("b", "raw_step", dt.date(2023, 1, 18)),  # starts the day after a's window ends
        failure("c", "store_step", dt.date(2023, 1, 25), prerequisite_game_ids=[OTHER_GAME]),
    ]
    runs = sorted(plan(rows, landing, 1).runs, key=lambda run: run.first)
    assert [(run.first, run.last, set(run.attempts)) for run in runs] == [
        (dt.date(2023, 1, 15), dt.date(2023, 1, 18), {"a", "b"}),
        (dt.date(2023, 1, 20), dt.date(2023, 1, 25), {"c"}),
    ]
    assert len({run.run_key for run in runs}) == 2


def test_a_requested_rerun_blocks_the_failure_until_its_run_finishes_and_a_lost_request_gives_its_attempt_back():
    requested = failure("raw-g", prerequisite_game_ids=[GAME], resolution_status="RETRY_REQUESTED", retry_attempts=1,
                        last_retry_run_id="retry-x", last_retry_at=SEEN)  # fmt: skip
    landing = Landing(games={GAME: "v1"})
    requested["prerequisites_state"] = plan([failure("raw-g", prerequisite_game_ids=[GAME])], landing, 0).runs[0].states["raw-g"]
    assert plan([requested], landing, 1, {"retry-x": RunState.IN_FLIGHT}).in_flight == ["raw-g"]
    assert plan([requested], landing, 0.05, {"retry-x": RunState.NOT_FOUND}).in_flight == ["raw-g"], "not created yet"
    lost = plan([requested], landing, 2, {"retry-x": RunState.NOT_FOUND})
    assert lost.lost == {"raw-g": 0}
    [run] = lost.runs
    assert run.attempts == {"raw-g": 1}, "the attempt that never ran is not counted"


@pytest.mark.parametrize("failure_type", ["PLAYER_DNP", "BAD_INPUT", "INSUFFICIENT_HISTORY"])
def test_failures_a_rerun_cannot_clear_are_never_planned(failure_type):
    decision = plan([failure("x", failure_type=failure_type)], Landing(), 100)
    assert not decision.runs and not decision.permanent and not decision.waiting
