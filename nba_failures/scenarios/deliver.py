"""`deliver_scenario`: what a scenario held back arrives, and the registry fixes are applied."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from nba_failures.landing.contract import REGISTRY_COLUMNS, read_registry
from nba_failures.scenarios.faults import FaultKind, GameFileFault, RegistryRemovalFault
from nba_failures.scenarios.make import write_registry
from nba_failures.scenarios.truth import UNDELIVERED_DIR, load_ground_truth


@dataclass
class Delivery:
    landed_files: list[str] = field(default_factory=list)
    registry_fixes: list[str] = field(default_factory=list)
    already_delivered: list[str] = field(default_factory=list)  # from an earlier `deliver`
    never_arriving: list[str] = field(default_factory=list)
    not_yet_due: list[str] = field(default_factory=list)  # due after `until_hours`


def deliver_scenario(landing_dir: Path, until_hours: float | None = None) -> Delivery:
    """Apply the registry fixes, then land the late files (moved into `gamebook/`, modification time now).

    `until_hours`: deliver only the fixes due by then (each fault's `delivery_delay_hours`); None: all of them.
    Registry first, so a run triggered by a file's arrival already sees the fixed registry. Idempotent: a
    second delivery finds everything in place and changes nothing.
    """
    landing_dir = Path(landing_dir)
    truth = load_ground_truth(landing_dir)
    delivery = Delivery()

    def due(fault: GameFileFault | RegistryRemovalFault) -> bool:
        if until_hours is None or fault.delivery_delay_hours is None or fault.delivery_delay_hours <= until_hours:
            return True
        delivery.not_yet_due.append(fault.fault_id)
        return False

    fixes = [fault for fault in truth.faults if isinstance(fault, RegistryRemovalFault) and due(fault)]
    delivery.registry_fixes = restore_registry_rows(landing_dir, fixes)
    already = [fault.player_lookup for fault in fixes if fault.player_lookup not in delivery.registry_fixes]
    delivery.already_delivered += [f"registry:{lookup}" for lookup in already]

    for fault in truth.faults:
        if not isinstance(fault, GameFileFault):
            continue
        if fault.fault_kind == FaultKind.MISSING_GAME_FILE:
            delivery.never_arriving.append(fault.file)
            continue
        if not due(fault):
            continue
        if land_held_file(landing_dir, fault):
            delivery.landed_files.append(fault.file)
        else:
            delivery.already_delivered.append(fault.file)
    _remove_empty_dirs(landing_dir / UNDELIVERED_DIR)
    return delivery


def restore_registry_rows(landing_dir: Path, fixes: list[RegistryRemovalFault]) -> list[str]:
    """Add back, with their fixed aliases, the players of `fixes` the registry does not know; the ones added."""
    registry = read_registry(landing_dir)
    known = set(registry["player_lookup"])
    added = [fault.registry_row(fault.fixed_aliases) for fault in fixes if fault.player_lookup not in known]
    if added:
        write_registry(landing_dir, pd.concat([registry, pd.DataFrame(added, columns=list(REGISTRY_COLUMNS))], ignore_index=True))
    return [row["player_lookup"] for row in added]


def land_held_file(landing_dir: Path, fault: GameFileFault) -> bool:
    """Move a held-back game file into place, arriving now; False when it had landed already."""
    held, landed = landing_dir / UNDELIVERED_DIR / fault.file, landing_dir / fault.file
    if held.exists():
        landed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(held, landed)
        os.utime(landed)  # it arrives now
        return True
    if landed.exists():
        return False
    raise FileNotFoundError(f"{fault.fault_id}: {fault.file} is neither held back in {UNDELIVERED_DIR}/ nor landed")


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    if not any(root.iterdir()):
        root.rmdir()
