"""The data version of each day's landed game files: what Dagster compares to tell that a day's files changed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from pathlib import Path

from nba_failures.landing.contract import landed_game_files


def day_data_versions(landing_dir: Path, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """Per day of `[start, end)` with game files, a hash of its files' names, sizes and modification times.

    A file landing, changing (a re-delivery rewrites it) or going away gives its day a new version; a day
    without files has none, so it is not observed until something lands for it.
    """
    signatures: dict[dt.date, list[str]] = defaultdict(list)
    for landed in landed_game_files(landing_dir, start, end):
        try:
            stat = landed.path.stat()
        except OSError:
            continue  # a dangling symlink, or gone since the listing: nothing that can be read has arrived
        signatures[landed.game_date].append(f"{landed.path.name}\0{stat.st_size}\0{stat.st_mtime_ns}")
    return {day: hashlib.sha256("\n".join(sorted(files)).encode()).hexdigest()[:24] for day, files in sorted(signatures.items())}
