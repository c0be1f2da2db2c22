"""Resources shared by every domain: where raw files land."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field

from nba_failures.landing.contract import GameFileLimits


class LandingZone(ConfigurableResource):
    """The raw landing directory (layout in `nba_failures.landing.contract`)."""

    path: str = Field(description="Landing directory: schedule.csv.gz, gamebook/<date>/<game_id>.csv[.gz], registry/.")
    max_game_file_bytes: int = Field(
        default=GameFileLimits.max_bytes,
        gt=0,
        description="A game file larger than this, on disk or decompressed, is refused unread.",
    )
    max_game_file_rows: int = Field(
        default=GameFileLimits.max_rows, gt=0, description="A game file with more rows than this is refused."
    )

    def setup_for_execution(self, context: InitResourceContext) -> None:
        # The default landing directory is the bundled season, laid out on first use rather than at load.
        from nba_failures.landing.build import ensure_default_landing

        ensure_default_landing(self.root)

    @property
    def root(self) -> Path:
        return Path(self.path)

    @property
    def game_file_limits(self) -> GameFileLimits:
        return GameFileLimits(max_bytes=self.max_game_file_bytes, max_rows=self.max_game_file_rows)
