"""`lists_by_key` is `groupby(key)[column].agg(list)` with the lists in a chosen order, without a call per group;
`value_as_of` is `merge_asof` by key (backward, then forward) without sorting the pairs; object columns keep lists
whole; `collector_paused` pauses the cyclic collector inside and restores what was there."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from nba_failures.frames import collector_paused, day_numbers, empty_lists, lists_by_key, object_column, value_as_of


def test_lists_by_key_equals_a_stable_sort_and_groupby_on_random_rows() -> None:
    generator = np.random.default_rng(7)
    size = 20_000
    rows = pd.DataFrame(
        {
            "failure_key": generator.choice([f"key-{n}" for n in range(3_000)], size),
            "game_id": generator.choice([f"00222{n:05d}" for n in range(400)], size),
            "reason": generator.choice(["DNP", "INACTIVE", None], size),
        }
    )
    expected = rows.sort_values("game_id", kind="stable").groupby("failure_key", sort=False)["reason"].agg(list)
    actual = lists_by_key(rows, "failure_key", "reason", order="game_id")
    assert actual.index.name == "failure_key"
    assert actual.index.is_unique
    assert actual.to_dict() == expected.to_dict()


def test_lists_by_key_orders_by_the_values_themselves_by_default() -> None:
    rows = pd.DataFrame({"failure_key": ["b", "a", "b", "a", "b"], "game_id": ["g3", "g2", "g1", "g1", "g2"]})
    assert lists_by_key(rows, "failure_key", "game_id").to_dict() == {"b": ["g1", "g2", "g3"], "a": ["g1", "g2"]}


def test_lists_by_key_of_no_rows_is_an_empty_series_named_by_the_key() -> None:
    empty = lists_by_key(pd.DataFrame({"failure_key": [], "game_id": []}), "failure_key", "game_id")
    assert empty.empty and empty.index.name == "failure_key"


def test_lists_by_key_of_several_key_columns_equals_a_groupby_on_them() -> None:
    generator = np.random.default_rng(11)
    size = 5_000
    rows = pd.DataFrame(
        {
            "analysis_date": generator.choice(pd.date_range("2023-01-01", periods=30).date, size),
            "player_lookup": generator.choice([f"player{n}" for n in range(200)], size),
            "game_id": generator.choice([f"00222{n:05d}" for n in range(400)], size),
        }
    )
    keys = ["analysis_date", "player_lookup"]
    expected = rows.sort_values("game_id", kind="stable").groupby(keys)["game_id"].agg(list)
    actual = lists_by_key(rows, keys, "game_id")
    assert actual.index.names == keys
    assert actual.index.is_unique
    assert actual.to_dict() == expected.to_dict()
    empty = lists_by_key(rows.iloc[:0], keys, "game_id")
    assert empty.empty and empty.index.names == keys


def _merge_asof_team(pairs: pd.DataFrame, listings: pd.DataFrame, direction: str) -> pd.Series:
    """What `value_as_of` replaces: `merge_asof` of the pairs, sorted by date, in the pairs' own order again."""
    table = listings.assign(_at=pd.to_datetime(listings["game_date"])).loc[:, ["player_lookup", "_at", "team_abbr"]]
    left = pairs.assign(_at=pd.to_datetime(pairs["game_date"]), _row=np.arange(len(pairs))).sort_values("_at")
    merged = pd.merge_asof(left, table, on="_at", by="player_lookup", direction=direction)
    return merged.set_index("_row")["team_abbr"].sort_index()


def test_value_as_of_picks_the_rows_merge_asof_picks_ties_and_unknown_keys_included() -> None:
    generator = np.random.default_rng(5)
    days = pd.date_range("2023-01-01", periods=60).date
    players = [f"player{n}" for n in range(40)]
    # Few days and teams: many players have two listings of one day, with different teams.
    listings = pd.DataFrame(
        {
            "player_lookup": generator.choice(players, 3_000),
            "game_date": generator.choice(days[10:50], 3_000),
            "team_abbr": generator.choice(["BOS", "LAL", "MIA", "NYK"], 3_000),
        }
    ).assign(_at=lambda frame: pd.to_datetime(frame["game_date"]))
    listings = listings.sort_values("_at")  # the table in the order merge_asof is given it
    pairs = pd.DataFrame(
        {
            "player_lookup": generator.choice([*players, "nobody"], 5_000),
            "game_date": generator.choice(days, 5_000),
        }
    )
    pair_days = day_numbers(pairs["game_date"])
    backward = _merge_asof_team(pairs, listings, "backward")
    forward = _merge_asof_team(pairs, listings, "forward")
    expected = backward.where(backward.notna(), forward).to_numpy(dtype=object)
    picked = value_as_of(pairs["player_lookup"], pair_days, listings, "player_lookup", "team_abbr", earliest_after=True)
    assert (pd.isna(expected) == pd.isna(picked)).all()
    assert (expected[pd.notna(expected)] == picked[pd.notna(picked)]).all()
    only_backward = value_as_of(pairs["player_lookup"], pair_days, listings, "player_lookup", "team_abbr")
    assert list(only_backward) == [None if pd.isna(team) else team for team in backward]
    assert (pairs["player_lookup"] == "nobody").any() and all(
        team is None for team in picked[(pairs["player_lookup"] == "nobody").to_numpy()]
    )
    nothing = value_as_of(pairs["player_lookup"], pair_days, listings.iloc[:0], "player_lookup", "team_abbr")
    assert len(nothing) == len(pairs) and all(team is None for team in nothing)


def test_object_columns_keep_lists_and_tuples_whole_and_empty_lists_are_distinct() -> None:
    values = [["a", "b"], (), ("x",), []]
    column = object_column(iter(values), len(values))
    assert column.dtype == object and column.shape == (4,)
    assert list(column) == values
    lists = empty_lists(3)
    assert [value for value in lists] == [[], [], []]
    assert len({id(value) for value in lists}) == 3
    assert list(day_numbers(pd.Series(["1970-01-02", "2023-01-15"]))) == [1, 19372]


def test_collector_paused_inside_resumed_after_even_on_error_and_left_paused_if_it_was() -> None:
    assert gc.isenabled()
    with pytest.raises(ValueError):
        with collector_paused():
            assert not gc.isenabled()
            with collector_paused():
                pass
            assert not gc.isenabled(), "the inner pause does not resume what the outer one paused"
            raise ValueError("a failing body")
    assert gc.isenabled()

    @collector_paused()
    def paused_call() -> bool:
        return gc.isenabled()

    assert paused_call() is False and paused_call() is False and gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled(), "paused before: still paused after"
    finally:
        gc.enable()
