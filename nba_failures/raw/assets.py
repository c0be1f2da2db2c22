"""Phase 2 assets: what has landed for each partition, copied into `nba_raw`.

The pure logic (and pandas with it) is imported in the asset bodies: loading the code location only defines them.
"""

from dagster import AssetExecutionContext

from nba_failures.failures.recorder import ProcessorSpec
from nba_failures.failures.records import EntityType, Phase
from nba_failures.landing.contract import landed_game_files, read_registry, read_schedule
from nba_failures.partitions import days_in
from nba_failures.processing import AssetEvents, RowAccounting, processor_asset, publish, start_run
from nba_failures.raw.landed import LANDED_GAME_FILES
from nba_failures.resources import LandingZone
from nba_failures.tables.raw import NBAC_GAMEBOOK_PLAYER_STATS, NBAC_SCHEDULE, PLAYER_REGISTRY
from nba_failures.warehouse.base import Warehouse

SCHEDULE = ProcessorSpec("nbac_schedule", Phase.RAW, EntityType.GAME, NBAC_SCHEDULE)
GAMEBOOK = ProcessorSpec("nbac_gamebook_player_stats", Phase.RAW, EntityType.GAME, NBAC_GAMEBOOK_PLAYER_STATS)
REGISTRY = ProcessorSpec("player_registry", Phase.RAW, EntityType.PLAYER, PLAYER_REGISTRY)
PROCESSORS = (SCHEDULE, GAMEBOOK, REGISTRY)


# Every raw asset reads its day when that day's game files land: the schedule's rows and the registry's snapshot too.
@processor_asset(
    SCHEDULE, group="raw", deps=[LANDED_GAME_FILES],
    description="The season schedule, one row per game (nba_raw.nbac_schedule).",
)  # fmt: skip
def nbac_schedule(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse) -> AssetEvents:
    import pandas as pd

    recorder, start, end = start_run(context, SCHEDULE)
    schedule = read_schedule(landing.root)
    rows = schedule[(schedule["game_date"] >= start) & (schedule["game_date"] < end)].copy()
    for column in ("away_pts", "home_pts"):
        rows[column] = pd.to_numeric(rows[column], errors="coerce").astype("Int64")
    yield from publish(context, warehouse, recorder, rows, start, end, RowAccounting(len(rows), 0))


@processor_asset(
    GAMEBOOK, group="raw", deps=[LANDED_GAME_FILES, nbac_schedule],
    description="Every listed player of every landed game file, as text (nba_raw.nbac_gamebook_player_stats).",
)  # fmt: skip
def nbac_gamebook_player_stats(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse) -> AssetEvents:
    from nba_failures.raw.gamebook import extract_games

    recorder, start, end = start_run(context, GAMEBOOK)
    scheduled = warehouse.read(NBAC_SCHEDULE, start, end)
    extraction = extract_games(landing.root, landed_game_files(landing.root, start, end), scheduled, landing.game_file_limits)
    for problem in extraction.problems:
        recorder.record(
            problem.game_date, problem.entity_id, problem.category, problem.reason,
            entity_type=problem.entity_type, source_file=problem.source_file, source_line=problem.source_line,
        )  # fmt: skip
    rejected = sum(problem.rejected_rows for problem in extraction.problems)
    ignored = {"ignored_extra_columns": extraction.extra_columns} if extraction.extra_columns else None
    yield from publish(
        context,
        warehouse,
        recorder,
        extraction.rows,
        start,
        end,
        RowAccounting(extraction.rows_read, rejected),
        window_totals=ignored,
    )


@processor_asset(
    REGISTRY, group="raw", deps=[LANDED_GAME_FILES],
    description="The player registry as it stood when each day was processed (nba_raw.player_registry).",
)  # fmt: skip
def player_registry(context: AssetExecutionContext, landing: LandingZone, warehouse: Warehouse) -> AssetEvents:
    import pandas as pd

    from nba_failures.identity import check_registry

    recorder, start, end = start_run(context, REGISTRY)
    registry = read_registry(landing.root)
    checked = check_registry(registry)
    days = days_in(start, end)
    # Each day's snapshot is as the registry stood, problems included: a rerun of one day replaces that day's.
    for day in days:
        recorder.record_frame(checked.problems.assign(analysis_date=day))
    snapshots = pd.concat([checked.usable.assign(snapshot_date=day) for day in days], ignore_index=True)
    accounting = RowAccounting(len(registry) * len(days), checked.rejected_rows * len(days))
    yield from publish(context, warehouse, recorder, snapshots, start, end, accounting)
