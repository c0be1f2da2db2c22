"""`scenario make` / `scenario deliver` on disk: reproducible bytes, and a delivery that restores the clean
landing except for what never arrives and the registry's alias fixes."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pandas as pd
import pytest

from nba_failures.cli import main
from nba_failures.scenarios import FaultKind, load_ground_truth
from nba_failures.scenarios.deliver import deliver_scenario
from nba_failures.scenarios.faults import FaultCounts
from nba_failures.scenarios.make import make_scenario

FIRST, LAST = dt.date(2023, 1, 9), dt.date(2023, 1, 18)
REGISTRY = "registry/player_registry.csv"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (hidden ones included), by relative path, with its bytes."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def read_csv(payload: bytes, name: str) -> pd.DataFrame:
    data = gzip.decompress(payload) if name.endswith(".gz") else payload
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A scenario with faults in FIRST..LAST, made through the CLI (read-only: copy it to deliver)."""
    out = tmp_path_factory.mktemp("scenario") / "seed7"
    assert (
        main(["scenario", "make", "--seed", "7", "--out", str(out), "--start", FIRST.isoformat(), "--end", LAST.isoformat()]) == 0
    )
    return out


def test_same_seed_gives_the_same_tree_and_bytes_another_seed_does_not(made: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    make_scenario(again, 7, start=FIRST, end=LAST)
    assert tree(again) == tree(made)
    assert not list(tmp_path.glob("again.partial*"))

    other = tmp_path / "other"
    make_scenario(other, 8, start=FIRST, end=LAST)
    assert load_ground_truth(other).faults != load_ground_truth(made).faults
    assert tree(other) != tree(made)


def test_held_back_files_are_not_landed_and_removed_players_are_not_registered(made: Path, season_landing: Path) -> None:
    truth = load_ground_truth(made)
    assert (truth.seed, truth.start, truth.end) == (7, FIRST, LAST)
    for fault in truth.faults_of(FaultKind.LATE_GAME_FILE):
        assert (
            not (made / fault.file).exists()
            and (made / ".undelivered" / fault.file).read_bytes() == (season_landing / fault.file).read_bytes()
        )
    for fault in truth.faults_of(FaultKind.MISSING_GAME_FILE):
        assert not (made / fault.file).exists() and not (made / ".undelivered" / fault.file).exists()
    registry = pd.read_csv(made / REGISTRY, dtype=str, keep_default_na=False)
    removed = {fault.player_lookup for fault in truth.faults_of(FaultKind.REGISTRY_REMOVAL)}
    assert len(removed) == FaultCounts().registry_removal and not removed & set(registry["player_lookup"])


def test_make_then_deliver_is_the_clean_landing_but_for_missing_files_malformed_rows_and_alias_fixes(
    made: Path, season_landing: Path, tmp_path: Path
) -> None:
    scenario = tmp_path / "scenario"
    make_scenario(scenario, 7, start=FIRST, end=LAST)
    truth = load_ground_truth(scenario)
    assert main(["scenario", "deliver", str(scenario)]) == 0

    delivered, clean = tree(scenario), tree(season_landing)
    never = {fault.file for fault in truth.faults_of(FaultKind.MISSING_GAME_FILE)}
    assert set(delivered) == (set(clean) - never) | {"ground_truth.json"}
    differing = {name for name in set(delivered) & set(clean) if delivered[name] != clean[name]}
    malformed = {fault.file: fault for fault in truth.faults_of(FaultKind.MALFORMED_ROW)}
    assert differing == set(malformed) | {REGISTRY}

    # A malformed file differs from the clean one in exactly its corrupted cell.
    for name, fault in malformed.items():
        landed, original = read_csv(delivered[name], name), read_csv(clean[name], name)
        changed = (landed != original).stack()
        assert changed[changed].index.tolist() == [(fault.source_line - 2, fault.column)]
        assert landed.loc[fault.source_line - 2, fault.column] == fault.corrupted_value

    # The registry differs in the aliases of the re-added players only: their printed name is now an alias.
    registry, original = read_csv(delivered[REGISTRY], REGISTRY), read_csv(clean[REGISTRY], REGISTRY)
    assert registry.drop(columns="aliases").equals(original.drop(columns="aliases"))
    fixes = {fault.player_lookup: fault for fault in truth.faults_of(FaultKind.REGISTRY_REMOVAL)}
    changed = registry.loc[registry["aliases"] != original["aliases"]].set_index("player_lookup")
    assert set(changed.index) == set(fixes)
    for lookup, row in changed.iterrows():
        assert row["aliases"] == fixes[lookup].fixed_aliases and row["player_name"] in row["aliases"].split("|")

    # Delivering again changes nothing.
    report = deliver_scenario(scenario)
    assert (report.landed_files, report.registry_fixes) == ([], [])
    assert tree(scenario) == delivered


def test_alias_fix_resolves_through_the_registry_index(made: Path, tmp_path: Path) -> None:
    """A re-added player is found by the lookup Phase 3 uses, also under his printed name alone."""
    from nba_failures.identity import registry_index
    from nba_failures.names import player_lookup

    scenario = tmp_path / "scenario"
    make_scenario(scenario, 7, counts=FaultCounts(late_game_file=0, missing_game_file=0, malformed_row=0), start=FIRST, end=LAST)
    deliver_scenario(scenario)
    registry = pd.read_csv(scenario / REGISTRY, dtype=str, keep_default_na=False)
    for fault in load_ground_truth(scenario).faults_of(FaultKind.REGISTRY_REMOVAL):
        aliased = registry.assign(snapshot_date=FIRST)
        aliased.loc[aliased["player_lookup"] == fault.player_lookup, "player_lookup"] = "renamed" + fault.player_lookup
        index = registry_index(aliased).set_index("player_lookup")
        assert index.loc[player_lookup(fault.player_name), "universal_player_id"] == fault.universal_player_id
