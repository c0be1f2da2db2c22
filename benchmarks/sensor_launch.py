"""A retry run of one day launched as `correctable_failures_sensor` launches it, timed from launch to success.

    python -m benchmarks.sensor_launch --day 2023-01-15 [--repeat 3]   (DAGSTER_HOME and the pipeline's
    NBA_FAILURES_* variables set by the parent, benchmarks/run.py)

As the daemon does: the code location runs in its own gRPC server (loaded from workspace.yaml, once, as the
daemon keeps it); the run request is the sensor's own (`window_run_request` over the assets its retry plan
reruns for a failure of `--processor`); the run is created by the daemon's sensor code from the code
server's job subset and execution plan, then launched on the instance's run launcher (a new process runs
it). Timed from the start of run creation to the run's RUN_SUCCESS event. Not included: the sensor's
evaluation (reading and planning the failures) and the wait in the run queue (the default instance queues
a sensor's run until the daemon's next dequeue; here it is launched at once).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

from benchmarks.scenarios import RESULT_PREFIX

WORKSPACE_FILE = Path(__file__).resolve().parent.parent / "workspace.yaml"
SENSOR_NAME = "correctable_failures_sensor"


def launch_and_wait(instance, workspace, day: dt.date, processor: str, attempt: int) -> dict:
    """Create and launch one retry run of `day`; epoch seconds of each mark, from the run's events."""
    from dagster import DagsterEventType
    from dagster._core.definitions.selector import JobSubsetSelector
    from dagster._core.storage.tags import PARTITION_NAME_TAG
    from dagster._core.utils import make_new_run_id
    from dagster._daemon.sensor import _create_sensor_run

    from nba_failures.sensors.retry import _assets_to_rerun
    from nba_failures.sensors.runs import window_run_request

    context = workspace.create_request_context()
    code_location = context.get_code_location(context.code_location_names[0])
    repository = next(iter(code_location.get_repositories().values()))
    sensor = repository.get_sensor(SENSOR_NAME)
    target = sensor.get_target()
    assets = _assets_to_rerun(repository.asset_graph, processor)
    request = window_run_request(
        f"benchmark-retry-{time.time_ns()}-{attempt}", "retry", assets, day, day, {"nba_failures/retried_failures": "1"}
    )
    # The partition tag the code server adds when it resolves a sensor's partitioned run request.
    request = request.with_replaced_attrs(tags={**request.tags, PARTITION_NAME_TAG: day.isoformat()})

    began = time.time()
    selector = JobSubsetSelector(
        location_name=code_location.name,
        repository_name=repository.name,
        job_name=target.job_name,
        op_selection=target.op_selection,
        asset_selection=request.asset_selection,
        asset_check_selection=request.asset_check_keys,
    )
    remote_job = code_location.get_job(selector)
    run = _create_sensor_run(instance, code_location, sensor, remote_job, make_new_run_id(), request, target)
    created = time.time()
    instance.launch_run(run.run_id, context)
    launched = time.time()
    deadline = launched + 600
    while not instance.get_run_by_id(run.run_id).is_finished:
        if time.time() > deadline:
            raise TimeoutError(f"run {run.run_id} not finished in 600 s")
        time.sleep(0.05)
    finished = instance.get_run_by_id(run.run_id)
    entries = instance.all_logs(run.run_id)
    marks: dict[str, float] = {}
    for entry in entries:
        if entry.dagster_event is not None:
            marks.setdefault(entry.dagster_event.event_type_value, entry.timestamp)
    steps = {
        stats.step_key: stats.end_time - stats.start_time for stats in instance.get_run_step_stats(run.run_id) if stats.end_time
    }
    return {
        "run_id": run.run_id,
        "status": finished.status.value,
        "assets": len(assets),
        "began": began,
        "created": created,
        "launched": launched,
        "run_start": marks.get(DagsterEventType.RUN_START.value),
        "run_end": marks.get(DagsterEventType.RUN_SUCCESS.value) or marks.get(DagsterEventType.RUN_FAILURE.value),
        "steps": steps,
        "events": len(entries),
    }


def main(argv: list[str] | None = None) -> int:
    from dagster import DagsterInstance
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget

    parser = argparse.ArgumentParser(prog="python -m benchmarks.sensor_launch")
    parser.add_argument("--day", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--processor", default="player_daily_cache", help="the failing processor whose retry is launched")
    args = parser.parse_args(argv)
    with (
        DagsterInstance.get() as instance,
        WorkspaceProcessContext(instance, WorkspaceFileTarget([str(WORKSPACE_FILE)])) as workspace,
    ):
        runs = [launch_and_wait(instance, workspace, args.day, args.processor, attempt) for attempt in range(args.repeat)]
    failed = [run["run_id"] for run in runs if run["status"] != "SUCCESS"]
    if failed:
        raise SystemExit(f"retry runs failed: {failed}")
    print(RESULT_PREFIX + json.dumps({"processor": args.processor, "runs": runs}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
