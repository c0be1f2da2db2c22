"""What a benchmark run measures: the full inputs, or the tiny ones of `--quick` that only check it all runs."""

from __future__ import annotations

from benchmarks.seasons import season_frames


class Plan:
    """Inputs and repeat counts of a run."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.label = "quick" if quick else "full"
        self.days = 4 if quick else None  # game days per season copy
        self.day = "2022-10-20" if quick else "2023-01-15"
        self.sizes = [100] if quick else [1000, 10000, 100000]
        self.loop_size = 100 if quick else 1000
        self.seasons = [1, 2] if quick else [1, 3, 10]
        self.repeat = 1 if quick else 3
        self.repeat_backfill = 1 if quick else 2
        self.repeat_command = 1 if quick else 3  # whole commands that run a pipeline
        self.repeat_short = 1 if quick else 5  # whole commands of a few seconds at most
        # The yardstick reads the bundled CSVs: in quick mode it stops where the tiny landing directory does.
        self.last_day: str | None = max(season_frames(1, self.days)[0]["game_date"]) if quick else None
