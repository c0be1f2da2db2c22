"""`make_scenario`: the bundled season as a landing directory, with seeded faults and their ground truth."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd

from nba_failures.landing.build import Progress, build_landing_from_bundle, load_bundled_boxscores, write_game_files
from nba_failures.landing.contract import REGISTRY_FILE, read_registry, read_schedule
from nba_failures.scenarios.faults import FaultCounts, FaultKind, GameFileFault, MalformedRowFault, RegistryRemovalFault, apply_malformed, choose_faults
from nba_failures.scenarios.truth import UNDELIVERED_DIR, GroundTruth, ground_truth, write_ground_truth


def make_scenario(
    out_dir: Path,
    seed: int,
    counts: FaultCounts | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    progress: Progress | None = None,
) -> GroundTruth:
    """Write the scenario to `out_dir` (replacing it) and return its ground truth.

    The clean landing is built by `build_landing_from_bundle`, then damaged: malformed rows rewritten into
    their game files (same writer, gzip mtime 0), removed players dropped from the registry, late files moved
    to `.undelivered/`, missing files deleted. Built in a sibling staging directory and renamed into place,
    so a reader never sees a half-made scenario. The same seed gives the same bytes.
    """
    out_dir = Path(out_dir)
    counts = counts or FaultCounts()
    staging = out_dir.with_name(out_dir.name + ".scenario-partial")
    shutil.rmtree(staging, ignore_errors=True)
    build_landing_from_bundle(staging, progress)

    boxscores = load_bundled_boxscores()
    schedule = read_schedule(staging)
    first, last = min(schedule["game_date"]), max(schedule["game_date"])
    faults = choose_faults(boxscores, schedule, seed, counts, start, end)

    for fault in faults:
        if isinstance(fault, MalformedRowFault):
            rows = boxscores[boxscores["game_id"] == fault.game_id]
            write_game_files(staging, apply_malformed(rows, fault))
    removed = {fault.player_lookup for fault in faults if isinstance(fault, RegistryRemovalFault)}
    if removed:
        registry = read_registry(staging)
        write_registry(staging, registry[~registry["player_lookup"].isin(removed)])
    for fault in faults:
        if isinstance(fault, GameFileFault):
            landed = staging / fault.file
            if fault.fault_kind == FaultKind.LATE_GAME_FILE:
                held = staging / UNDELIVERED_DIR / fault.file
                held.parent.mkdir(parents=True, exist_ok=True)
                landed.rename(held)
            else:
                landed.unlink()

    truth = ground_truth(seed, start or first, end or last, counts, faults)
    write_ground_truth(staging, truth)
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return truth


def write_registry(landing_dir: Path, registry: pd.DataFrame) -> None:
    """Replace the registry file in one step (written aside, then renamed over it), rows in key order."""
    path = Path(landing_dir) / REGISTRY_FILE
    partial = path.with_name(path.name + ".partial")
    registry.sort_values("player_lookup", kind="mergesort").to_csv(partial, index=False)
    partial.replace(path)
