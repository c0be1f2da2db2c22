"""Declarative automation: a day whose game files land or change gets that day's partition of every pipeline asset
materialized, by Dagster's automation sensor (one run for the day, or one single-run backfill for several days)."""

from collections.abc import Sequence

from dagster import (
    AssetsDefinition,
    AssetSpec,
    AutomationCondition,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    SourceAsset,
    map_asset_specs,
)

from nba_failures import settings
from nba_failures.sensors.retry import PIPELINE
from nba_failures.sensors.runs import AUTOMATION_TRIGGER, NO_RUN_RETRIES, TRIGGER_TAG


def on_upstream_change() -> AutomationCondition:
    """True for a day partition once one of its dependencies of that day changed (a new data version of the landed
    files, or a materialization) or is requested in the same tick, and nothing it needs is missing or running.

    Unlike `eager()`, every day of the season is considered, not only the latest one: files land late for any day.
    An update made by a retry run does not count: the retry sensor reruns exactly what a failure needs, followers
    with their root, and an automation run behind it would only redo that work.
    """
    updated = (
        AutomationCondition.newly_updated()
        & ~AutomationCondition.executed_with_root_target()
        & ~AutomationCondition.all_new_updates_have_run_tags(tag_values={TRIGGER_TAG: "retry"})
    ).with_label("updated_outside_retry_runs")
    deps_updated = AutomationCondition.any_deps_match(updated | AutomationCondition.will_be_requested())
    return (
        deps_updated.with_label("any_deps_updated").since_last_handled()
        & ~AutomationCondition.any_deps_missing()
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    ).with_label("on_upstream_change")


def automated(assets: Sequence[AssetsDefinition | SourceAsset]) -> list[AssetsDefinition | SourceAsset]:
    """Every daily asset with `on_upstream_change`. The dashboard (unpartitioned) covers the whole store and is rendered
    on request, not per landed day; source assets are observed, not materialized."""
    condition = on_upstream_change()

    def with_condition(spec: AssetSpec) -> AssetSpec:
        return spec.replace_attributes(automation_condition=condition) if spec.partitions_def is not None else spec

    materializable = [asset for asset in assets if isinstance(asset, AssetsDefinition)]
    return [*map_asset_specs(with_condition, materializable), *(asset for asset in assets if isinstance(asset, SourceAsset))]


pipeline_automation_sensor = AutomationConditionSensorDefinition(
    name="pipeline_automation_sensor",
    target=PIPELINE,
    # Running by default: closing the loop without a human is the point of the sensors.
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=settings.sensor_interval_seconds(),
    run_tags={TRIGGER_TAG: AUTOMATION_TRIGGER, **NO_RUN_RETRIES},
    description="Materializes the day partitions whose upstream changed (landed game files first).",
)
