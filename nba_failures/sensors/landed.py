"""`landed_game_files_sensor`: records a new data version of `landed_game_files` for each day whose game files
landed or changed. It launches nothing: the automation conditions run that day's assets (`nba_failures.automation`)."""

import datetime as dt
import json

from dagster import DefaultSensorStatus, SensorEvaluationContext, SensorResult, SkipReason, sensor

from nba_failures import settings
from nba_failures.raw.landed import day_observation, landed_versions
from nba_failures.resources import LandingZone


def changed_days(previous: dict[str, str], current: dict[dt.date, str]) -> dict[dt.date, str]:
    """The days whose version differs from the one last recorded (a day is at most one entry: the cursor
    stays as large as the partitions, however many files land)."""
    return {day: version for day, version in current.items() if previous.get(day.isoformat()) != version}


@sensor(
    name="landed_game_files_sensor",
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    # Running by default: closing the loop without a human is the point of these sensors.
    default_status=DefaultSensorStatus.RUNNING,
    description="Observes landed_game_files: a new data version for each day whose game files landed or changed.",
)
def landed_game_files_sensor(context: SensorEvaluationContext, landing: LandingZone):
    current = landed_versions(landing)
    cursor = json.dumps({day.isoformat(): version for day, version in current.items()})
    if context.cursor is None:
        # First tick: what has landed already is the backfill's business; from now on, changes are arrivals.
        return SensorResult(skip_reason=SkipReason(f"baseline of {len(current)} days with landed game files"), cursor=cursor)
    changed = changed_days(json.loads(context.cursor), current)
    if not changed:
        return SensorResult(skip_reason=SkipReason("no day's game files changed"), cursor=cursor)
    context.log.info(f"game files landed or changed for {len(changed)} days: {', '.join(d.isoformat() for d in changed)}")
    return SensorResult(asset_events=[day_observation(day, version) for day, version in changed.items()], cursor=cursor)
