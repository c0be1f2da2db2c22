"""`raw_arrival_sensor`: new or changed game files in the landing directory get their days reprocessed."""

import datetime as dt
import hashlib
import json

from dagster import AssetSelection, DefaultSensorStatus, SensorEvaluationContext, SensorResult, SkipReason, sensor

from nba_failures import settings
from nba_failures.landing.contract import GAMEBOOK_DIR, landed_game_files
from nba_failures.partitions import daily_partitions
from nba_failures.resources import LandingZone
from nba_failures.sensors.runs import window_run_request

# What a landed game file changes: the raw and analytics tables of its day, and that day's failures.
ARRIVAL_ASSETS = AssetSelection.groups("raw", "analytics") | AssetSelection.assets("classified_failures")


def landing_signatures(landing: LandingZone) -> dict[str, str]:
    """Every landed game file with its size and modification time: what 'new or changed' compares."""
    first = daily_partitions.start.date()
    end = daily_partitions.end.date() if daily_partitions.end else dt.date.max
    signatures = {}
    for landed in landed_game_files(landing.root, first, end):
        try:
            stat = landed.path.stat()
        except OSError:
            continue  # a dangling symlink, or gone since the listing: nothing that can be read has arrived
        signatures[landed.relative_to(landing.root)] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return signatures


def arrived_days(previous: dict[str, str], current: dict[str, str]) -> list[dt.date]:
    changed = [path for path, signature in current.items() if previous.get(path) != signature]
    return sorted({dt.date.fromisoformat(path.split("/")[1]) for path in changed if path.startswith(GAMEBOOK_DIR + "/")})


def contiguous_windows(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    windows: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if windows and day - windows[-1][1] <= dt.timedelta(days=1):
            windows[-1] = (windows[-1][0], day)
        else:
            windows.append((day, day))
    return windows


@sensor(
    name="raw_arrival_sensor",
    target=ARRIVAL_ASSETS,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    # Running by default: closing the loop without a human is the point of these sensors.
    default_status=DefaultSensorStatus.RUNNING,
    description="Notices game files that landed late (or were replaced) and reprocesses their days.",
)
def raw_arrival_sensor(context: SensorEvaluationContext, landing: LandingZone):
    current = landing_signatures(landing)
    if context.cursor is None:
        # First tick: what is already there is the backfill's business; from now on, arrivals are ours.
        return SensorResult(
            skip_reason=SkipReason(f"baseline of {len(current)} landed game files recorded"), cursor=json.dumps(current)
        )
    days = arrived_days(json.loads(context.cursor), current)
    if not days:
        return SensorResult(skip_reason=SkipReason("no new game files"), cursor=context.cursor)
    assets = frozenset(key.to_user_string() for key in ARRIVAL_ASSETS.resolve(context.repository_def.asset_graph))
    requests = []
    for first, last in contiguous_windows(days):
        changed = sorted(
            f"{path}={signature}"
            for path, signature in current.items()
            if first.isoformat() <= path.split("/")[1] <= last.isoformat()
        )
        run_key = f"arrival-{first.isoformat()}-{last.isoformat()}-{hashlib.sha256('|'.join(changed).encode()).hexdigest()[:16]}"
        requests.append(window_run_request(run_key, "arrival", assets, first, last))
    context.log.info(f"game files arrived for {len(days)} days: {', '.join(d.isoformat() for d in days)}")
    return SensorResult(run_requests=requests, cursor=json.dumps(current))
