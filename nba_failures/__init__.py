"""nba_failures: an NBA stats pipeline whose every entity-level failure is typed, stored and retried."""

import atexit
import gc

# A process that loaded the code location holds some 160,000 objects of Dagster, pandas and pydantic, and a run adds
# its own. At exit CPython's last collections walk them all once more only to free memory the OS takes back anyway:
# a third of the time of loading the code location, more after a run. Frozen, they are skipped. Objects freed by
# reference counting still are; only finalizers of unreachable cycles, which Python never promises at exit, do not
# run.
atexit.register(gc.freeze)
# A run makes objects by the hundred thousand (frames, events and their serialized forms), few of them in cycles: at
# Python's default threshold (700) a season backfill still ran 2,200 collections for 1.7-2.0 s, 15 of them full.
# Collecting every 50,000 new objects: 19 collections, 0.4 s, the same peak memory. Set when the package is first
# imported: the CLI imports it before Dagster and pandas, whose imports collected ~300 times (0.3-0.4 s) at the default.
gc.set_threshold(50_000, 20, 100)
