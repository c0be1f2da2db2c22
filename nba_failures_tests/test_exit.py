"""A process that loaded the code location leaves its objects out of the interpreter's last collections."""

from __future__ import annotations

import subprocess
import sys

# Registered before the package is imported, so it runs after the package's own exit handler (last in, first out).
_REPORT_AT_EXIT = """
import atexit, gc
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count()))
import nba_failures.definitions
print("frozen before exit:", gc.get_freeze_count())
"""


def test_the_package_freezes_the_heap_when_the_process_exits():
    output = subprocess.run([sys.executable, "-c", _REPORT_AT_EXIT], capture_output=True, text=True, check=True).stdout
    before, at_exit = (int(line.split(":")[1]) for line in output.splitlines())
    assert before == 0
    assert at_exit > 0
