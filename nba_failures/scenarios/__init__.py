"""Seeded fault scenarios on the real season: a landing directory with known faults, and their ground truth.

`make_scenario` lays the bundled season out (the same writer as `nba-failures landing build`), injects faults
chosen by `choose_faults` from the box scores and a seed, and writes `ground_truth.json`: every injected fault
and every failure row it should produce. `deliver_scenario` lands what was held back and applies the fixes.
"""

from nba_failures.scenarios.faults import Corruption, FaultCounts, FaultKind, choose_faults
from nba_failures.scenarios.truth import GROUND_TRUTH_FILE, ExpectedFailure, GroundTruth, load_ground_truth

__all__ = [
    "GROUND_TRUTH_FILE",
    "Corruption",
    "ExpectedFailure",
    "FaultCounts",
    "FaultKind",
    "GroundTruth",
    "choose_faults",
    "load_ground_truth",
]
