"""The production instance's storage (deploy/dagster.yaml): dagster-postgres, its event log's connections kept open.

dagster-postgres opens a new connection (TCP and authentication) for every event it stores, so that an instance
holds no connection while idle. Only the webserver gets a pool (`optimize_for_webserver`). A season backfill stores
about 7,900 events: on a local server the whole command took 142 s that way and 55 s with a pool. Here every process
of the instance (run workers, CLI backfills, the daemon) keeps one connection for its events, and opens a few more
only while its threads write at once.

Needs the `deploy` extra (dagster-postgres); nothing imports this module but Dagster, when dagster.yaml names it.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

# A kept connection is replaced after an hour, so a long-lived daemon survives a server's idle-connection limits.
POOL_RECYCLE_SECONDS = 3600
# Connections beyond the kept one while several threads of a process write events at once.
MAX_OVERFLOW = 4


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` (runs, events, schedules in PostgreSQL) whose event log keeps a pool of one connection."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider=None,
    ) -> None:
        super().__init__(postgres_url, should_autocreate_tables, inst_data=inst_data, token_provider=token_provider)
        # The pooled engine Dagster gives the webserver, with no statement timeout: a run's writes must not be cut off.
        self._event_log_storage.optimize_for_webserver(
            statement_timeout=0, pool_recycle=POOL_RECYCLE_SECONDS, max_overflow=MAX_OVERFLOW
        )

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping) -> PooledPostgresStorage:
        return cls(
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            inst_data=inst_data,
            token_provider=get_token_provider_from_config(config_value),
        )
