"""`nba-failures` with a clock on Dagster's event storage: `python -m benchmarks.storage_probe backfill [--start D --end D]`.

Events are written in between everything else a run does (planning stores the planned materializations, each
step its start, outputs, materializations and check results), so their share of a command cannot be read off
the run's event timestamps. Here the writes of the instance's storages (the SQLite event log, one file per
run plus the asset index, and the run storage's status updates) are wrapped with a clock, the CLI
runs as `nba-failures` does, and at exit one line on stderr (PROBE_PREFIX + JSON) gives the seconds spent
inside them and the number of writes. The benchmarks run this as an extra, untimed run: the clock itself
adds a little to every event.
"""

from __future__ import annotations

import atexit
import functools
import json
import sys
import time
from collections.abc import Callable
from typing import Any

PROBE_PREFIX = "EVENT_STORAGE "


class StorageClock:
    """Seconds spent in the wrapped storage methods; a call made from inside another wrapped one counts once."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.writes = 0
        self._depth = 0  # the in-process executor runs one step at a time on one thread

    def wrap(self, owner: type, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return original(*args, **kwargs)
            self._depth += 1
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1
                self.seconds += time.perf_counter() - began
                self.writes += 1

        setattr(owner, name, timed)

    def report(self) -> None:
        print(PROBE_PREFIX + json.dumps({"seconds": self.seconds, "writes": self.writes}), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from dagster._core.storage.event_log.base import EventLogStorage
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster._core.storage.runs.sql_run_storage import SqlRunStorage

    from nba_failures import cli
    from nba_failures.event_log import PooledSqliteEventLogStorage

    clock = StorageClock()
    clock.wrap(SqliteEventLogStorage, "store_event")
    # A batch counts as one write: its events are stored inside it.
    clock.wrap(EventLogStorage, "store_event_batch")
    clock.wrap(PooledSqliteEventLogStorage, "store_event_batch")
    clock.wrap(SqlRunStorage, "handle_run_event")
    # At exit, not after main: the CLI may end the process with sys.exit from inside.
    atexit.register(clock.report)
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
