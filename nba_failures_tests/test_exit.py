"""A process that loaded the code location leaves what loading made out of its collections, and all of its heap
out of the interpreter's last ones at exit."""

from __future__ import annotations

import subprocess
import sys

# Registered before the package is imported, so it runs after the package's own exit handler (last in, first out).
_REPORT_AT_EXIT = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))
import nba_failures.definitions
print("frozen once loaded:", gc.get_freeze_count())
made_since = [[day] for day in range(5000)]  # lists: the collector tracks every one
"""


def test_loading_the_code_location_freezes_what_it_made_and_exiting_freezes_the_rest():
    output = subprocess.run([sys.executable, "-c", _REPORT_AT_EXIT], capture_output=True, text=True, check=True).stdout
    loaded, at_exit = (int(line.split(":")[1]) for line in output.splitlines())
    assert loaded > 10_000
    assert at_exit > loaded
