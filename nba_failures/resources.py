"""Resources shared by every domain: where raw files land, where the dashboard page is written."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field

from nba_failures import settings
from nba_failures.landing.contract import GameFileLimits

# Rows of the dashboard's drill-down table when its resource does not say.
DEFAULT_TABLE_LIMIT = 2000


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


class DashboardOutput(ConfigurableResource):
    """Where the dashboard page is written (default: `NBA_FAILURES_DASHBOARD_PATH` or .local/failure_dashboard.html)."""

    path: str = Field(default_factory=lambda: str(settings.dashboard_path()), description="Path of the HTML file to write.")
    table_limit: int = Field(default=DEFAULT_TABLE_LIMIT, ge=1, description="Most rows in the drill-down table (newest first).")
