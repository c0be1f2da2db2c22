"""`add_metadata_by_day` puts each day's own metadata on that day's materialization of a range run, on partitions
with the off-season excluded (two seasons), and refuses a day the run does not target."""

import datetime as dt

from dagster import AssetExecutionContext, BackfillPolicy, DagsterInstance, MaterializeResult, asset, materialize

from nba_failures.partitions import season_partitions
from nba_failures.processing import add_metadata_by_day

# The last days of one season and the first of the next: the months between are off-season, excluded.
FIRST_DAYS = (dt.date(2023, 4, 5), dt.date(2023, 10, 24))
SEASONS = season_partitions([first + dt.timedelta(days=n) for first in FIRST_DAYS for n in range(5)])
RANGE = ("2023-04-08", "2023-10-25")  # across the off-season: 4 partition days


def _day_asset(extra_day: dt.date | None = None):
    @asset(partitions_def=SEASONS, backfill_policy=BackfillPolicy.single_run())
    def days(context: AssetExecutionContext) -> MaterializeResult:
        days_run = [dt.date.fromisoformat(key) for key in context.partition_keys]
        chosen = [*days_run, extra_day] if extra_day else days_run
        metadata = {day: {"day": day.isoformat(), "weekday": day.weekday()} for day in chosen}
        add_metadata_by_day(context, metadata)
        return MaterializeResult(metadata={"days": len(metadata)})

    return days


def _run(assets_def):
    tags = {"dagster/asset_partition_range_start": RANGE[0], "dagster/asset_partition_range_end": RANGE[1]}
    with DagsterInstance.ephemeral() as instance:
        return materialize([assets_def], instance=instance, tags=tags, raise_on_error=False)


def test_each_day_of_a_range_run_across_the_off_season_has_its_own_metadata() -> None:
    result = _run(_day_asset())
    assert result.success
    materializations = result.asset_materializations_for_node("days")
    by_partition = {event.partition: event.metadata for event in materializations}
    assert sorted(by_partition) == ["2023-04-08", "2023-04-09", "2023-10-24", "2023-10-25"]
    for partition, metadata in by_partition.items():
        assert metadata["day"].value == partition
        assert metadata["weekday"].value == dt.date.fromisoformat(partition).weekday()
        assert metadata["days"].value == 4  # the range's own figure, on every day


def test_metadata_for_a_day_the_run_does_not_target_fails_the_step() -> None:
    result = _run(_day_asset(extra_day=dt.date(2023, 7, 1)))  # off-season: no partition
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    assert "untargeted days ['2023-07-01']" in failure.step_failure_data.error.message
