"""`make_scenario`: the bundled season as a landing directory, with seeded faults and their ground truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from nba_failures.landing.build import build_in_place, lay_out_bundle, load_bundled_boxscores, write_game_files
from nba_failures.landing.contract import REGISTRY_FILE, read_registry, read_schedule
from nba_failures.progress import Progress
from nba_failures.scenarios.faults import (
    FaultCounts,
    FaultKind,
    GameFileFault,
    MalformedRowFault,
    RegistryRemovalFault,
    apply_malformed,
    choose_faults,
)
from nba_failures.scenarios.truth import UNDELIVERED_DIR, GroundTruth, ground_truth, write_ground_truth
from nba_failures.settings import BUNDLED_SEASON_DIR


def make_scenario(
    out_dir: Path,
    seed: int,
    counts: FaultCounts | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Progress | None = None,
) -> GroundTruth:
    """Write the scenario to `out_dir` (replacing it) and return its ground truth.

    The clean landing is laid out by `lay_out_bundle`, then damaged: malformed rows rewritten into their game
    files (same writer, gzip mtime 0), removed players dropped from the registry, late files moved to
    `.undelivered/`, missing files deleted. Built in place (`build_in_place`), so a reader never sees a
    half-made scenario. The same seed gives the same bytes.
    """
    out_dir = Path(out_dir)
    counts = counts or FaultCounts()
    boxscores = load_bundled_boxscores()
    schedule = read_schedule(BUNDLED_SEASON_DIR)  # the bundle keeps the landing's schedule file as is
    faults = choose_faults(boxscores, schedule, seed, counts, start, end)  # before writing anything: a bad range fails fast
    truth = ground_truth(seed, start or min(schedule["game_date"]), end or max(schedule["game_date"]), counts, faults)

    def build(staging: Path) -> None:
        lay_out_bundle(staging, boxscores, progress)
        _inject(staging, boxscores, truth)

    build_in_place(out_dir, build)
    return truth


def _inject(landing_dir: Path, boxscores: pd.DataFrame, truth: GroundTruth) -> None:
    """Damage a clean landing directory as the faults say, and write the ground truth into it."""
    for fault in truth.faults:
        if isinstance(fault, MalformedRowFault):
            write_game_files(landing_dir, apply_malformed(boxscores[boxscores["game_id"] == fault.game_id], fault))
    removed = {fault.player_lookup for fault in truth.faults if isinstance(fault, RegistryRemovalFault)}
    if removed:
        registry = read_registry(landing_dir)
        write_registry(landing_dir, registry[~registry["player_lookup"].isin(removed)])
    for fault in truth.faults:
        if isinstance(fault, GameFileFault):
            landed = landing_dir / fault.file
            if fault.fault_kind == FaultKind.LATE_GAME_FILE:
                held = landing_dir / UNDELIVERED_DIR / fault.file
                held.parent.mkdir(parents=True, exist_ok=True)
                landed.rename(held)
            else:
                landed.unlink()
    write_ground_truth(landing_dir, truth)


def write_registry(landing_dir: Path, registry: pd.DataFrame) -> None:
    """Replace the registry file in one step (written aside, then renamed over it), rows in key order."""
    path = Path(landing_dir) / REGISTRY_FILE
    partial = path.with_name(path.name + ".partial")
    registry.sort_values("player_lookup", kind="mergesort").to_csv(partial, index=False)
    partial.replace(path)
