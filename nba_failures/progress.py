"""Progress of a long command on stderr: how many of how many, and the time taken at the end."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

# Called with (items done, items in all); 0 of n first, n of n last.
Progress = Callable[[int, int], None]


def stderr_progress(label: str, unit: str) -> Progress:
    """One updating line on a terminal; elsewhere a line per twentieth of the work, so logs stay short."""
    began = time.perf_counter()
    terminal = sys.stderr.isatty()

    def report(done: int, total: int) -> None:
        finished = done == total
        if not (terminal or finished or done % max(1, total // 20) == 0):
            return
        line = f"{label}: {done}/{total} {unit}" + (f" in {time.perf_counter() - began:.1f}s" if finished else "")
        if terminal:
            print(f"\r{line:<90}", end="\n" if finished else "", file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)

    return report
