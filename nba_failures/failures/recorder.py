"""The one recorder every processor uses to report per-entity failures.

pandas is imported where used: every processor asset declares its ProcessorSpec when the code location loads.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING

from nba_failures.failures.records import DATE_LEVEL_ENTITY_ID, EntityType, FailureCategory, FailureRecord, Phase
from nba_failures.warehouse.schema import TableSpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ProcessorSpec:
    """A processor declares what it is, explicitly: its phase, its entities and its output table.

    The system we replace guessed player-vs-team from substrings of class names; here the entity type
    is data, and classification reads it from the failure rows.
    """

    name: str
    phase: Phase
    entity_type: EntityType
    table: TableSpec


class FailureRecorder:
    """Collects a processor run's failures; entity type defaults to the processor's own."""

    def __init__(self, processor: ProcessorSpec, run_id: str) -> None:
        self.processor = processor
        self.run_id = run_id
        self._records: dict[str, FailureRecord] = {}

    def record(
        self,
        analysis_date: dt.date,
        entity_id: str,
        category: FailureCategory,
        reason: str,
        *,
        entity_type: EntityType | None = None,
        can_retry: bool | None = None,
        expected_count: int | None = None,
        actual_count: int | None = None,
        missing_game_ids: tuple[str, ...] | list[str] = (),
        upstream_table: str | None = None,
        upstream_entity_id: str | None = None,
        source_file: str | None = None,
        source_line: int | None = None,
        cache_age_hours: float | None = None,
    ) -> FailureRecord:
        record = FailureRecord(
            processor_name=self.processor.name,
            run_id=self.run_id,
            analysis_date=analysis_date,
            entity_id=entity_id,
            entity_type=entity_type or self.processor.entity_type,
            failure_category=category,
            failure_reason=reason,
            can_retry=category.retryable if can_retry is None else can_retry,
            expected_count=expected_count,
            actual_count=actual_count,
            missing_game_ids=tuple(missing_game_ids),
            upstream_table=upstream_table,
            upstream_entity_id=upstream_entity_id,
            source_file=source_file,
            source_line=source_line,
            cache_age_hours=cache_age_hours,
        )
        existing = self._records.get(record.failure_key)
        if existing is not None:
            # One row per failure key: a second problem of the same kind for the same entity and day
            # is folded into the first, so the stored row says both.
            merged_reason = f"{existing.failure_reason}; {reason}"
            record = FailureRecord.model_validate(
                {**existing.model_dump(exclude={"failure_key"}), "failure_reason": merged_reason}
            )
        self._records[record.failure_key] = record
        return record

    def record_frame(self, failures: pd.DataFrame, category: FailureCategory | None = None) -> None:
        """Record one failure per row of a frame with `analysis_date`, `entity_id`, `reason` columns.

        Optional columns: `failure_category` (else `category`), `entity_type`, `expected_count`, `actual_count`,
        `missing_game_ids`, `upstream_table`, `upstream_entity_id`, `source_file`, `source_line`, `cache_age_hours`.
        Pure logic returns such frames.
        """
        optional = (
            "expected_count",
            "actual_count",
            "missing_game_ids",
            "upstream_table",
            "upstream_entity_id",
            "source_file",
            "source_line",
            "cache_age_hours",
        )
        present = [name for name in optional if name in failures.columns]
        if "failure_category" in failures.columns:
            categories = failures["failure_category"].map(FailureCategory).tolist()
        elif category is not None or failures.empty:
            categories = [category] * len(failures)
        else:
            raise ValueError("a failure frame needs a failure_category column or a category")
        entity_types = failures["entity_type"].tolist() if "entity_type" in failures.columns else [None] * len(failures)
        # Column by column, not a dict per row: a season's processors record tens of thousands of failures.
        extras = zip(*(_scalars(failures[name]) for name in present)) if present else repeat(())
        rows = zip(failures["analysis_date"].tolist(), failures["entity_id"].tolist(), categories, failures["reason"].tolist(),
                   entity_types, extras)  # fmt: skip
        for analysis_date, entity_id, row_category, reason, entity_type, values in rows:
            given = {name: value for name, value in zip(present, values) if value is not None}
            entity_type = EntityType(entity_type) if entity_type else None
            self.record(analysis_date, entity_id, row_category, reason, entity_type=entity_type, **given)

    def record_missing_dependency(self, analysis_date: dt.date, upstream_table: str) -> FailureRecord:
        return self.record(
            analysis_date,
            DATE_LEVEL_ENTITY_ID,
            FailureCategory.MISSING_DEPENDENCY,
            f"upstream {upstream_table} has no rows for {analysis_date.isoformat()}",
            entity_type=EntityType.DATE,
            upstream_table=upstream_table,
        )

    @property
    def records(self) -> list[FailureRecord]:
        return list(self._records.values())

    def __len__(self) -> int:
        return len(self._records)

    def counts_by_category(self) -> dict[str, int]:
        return dict(sorted(Counter(r.failure_category.value for r in self._records.values()).items()))

    def frame(self) -> pd.DataFrame:
        """The records as rows: enums as their values, game ids as lists (what the store's schema takes)."""
        import pandas as pd

        records = self._records.values()
        columns = {name: [getattr(record, name) for record in records] for name in (*FailureRecord.model_fields, "failure_key")}
        for name in ("entity_type", "failure_category"):
            columns[name] = [member.value for member in columns[name]]
        columns["missing_game_ids"] = [list(game_ids) for game_ids in columns["missing_game_ids"]]
        frame = pd.DataFrame(columns) if records else pd.DataFrame(columns=list(columns), dtype=object)
        frame["phase"] = self.processor.phase.value
        return frame


def _scalars(column: pd.Series) -> list:
    """The column's values as pydantic takes them: None for pandas' missing values, lists as tuples, plain Python
    values (not NumPy's). A typed column's values come out of `tolist` as Python values already."""
    import pandas as pd

    if column.dtype != object:
        return [None if missing else value for value, missing in zip(column.tolist(), column.isna().tolist())]

    def scalar(value):
        if isinstance(value, (list, tuple)):
            return tuple(value)
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        return value.item() if hasattr(value, "item") else value

    return [scalar(value) for value in column.tolist()]
