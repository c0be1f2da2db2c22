"""Resources shared by every domain: where raw files land."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field


class LandingZone(ConfigurableResource):
    """The raw landing directory (layout in `nba_failures.landing.contract`)."""

    path: str = Field(description="Landing directory: schedule.csv.gz, gamebook/<date>/<game_id>.csv[.gz], registry/.")

    @property
    def root(self) -> Path:
        return Path(self.path)
