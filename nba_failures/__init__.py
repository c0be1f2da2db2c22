"""nba_failures: an NBA stats pipeline whose every entity-level failure is typed, stored and retried."""

import atexit
import gc

# A process that loaded the code location holds some 160,000 objects of Dagster, pandas and pydantic, and a run adds
# its own. At exit CPython's last collections walk them all once more only to free memory the OS takes back anyway:
# a third of the time of loading the code location, more after a run. Frozen, they are skipped. Objects freed by
# reference counting still are; only finalizers of unreachable cycles, which Python never promises at exit, do not
# run.
atexit.register(gc.freeze)
