"""`landed_game_files`: the landing directory's game files as an observable source of the raw assets, one data
version per day (`day_data_versions`). A new version of a day is what makes that day's assets run (see
`nba_failures.automation`)."""

import datetime as dt

from dagster import AssetKey, AssetObservation, DataVersion, DataVersionsByPartition, observable_source_asset
from dagster._core.definitions.data_version import DATA_VERSION_TAG

from nba_failures.landing.versions import day_data_versions
from nba_failures.partitions import daily_partitions
from nba_failures.resources import LandingZone

LANDED_GAME_FILES = AssetKey("landed_game_files")


def landed_versions(landing: LandingZone) -> dict[dt.date, str]:
    """The data version of every partition day that has game files."""
    end = daily_partitions.end.date() if daily_partitions.end else dt.date.max
    return day_data_versions(landing.root, daily_partitions.start.date(), end)


def day_observation(day: dt.date, version: str) -> AssetObservation:
    return AssetObservation(asset_key=LANDED_GAME_FILES, partition=day.isoformat(), tags={DATA_VERSION_TAG: version})


@observable_source_asset(
    name=LANDED_GAME_FILES.path[-1],
    partitions_def=daily_partitions,
    group_name="raw",
    description="Game files landed in the landing directory, per day: the version hashes their names, sizes and "
    "modification times. Observed by landed_game_files_sensor; observing it here records every day's version.",
)
def landed_game_files(landing: LandingZone) -> DataVersionsByPartition:
    return DataVersionsByPartition({day.isoformat(): DataVersion(version) for day, version in landed_versions(landing).items()})
