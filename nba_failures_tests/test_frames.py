"""`lists_by_key` is `groupby(key)[column].agg(list)` with the lists in a chosen order, without a call per group;
`collector_paused` pauses the cyclic collector inside and restores what was there."""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from nba_failures.frames import collector_paused, lists_by_key


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
