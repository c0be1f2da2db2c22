"""The failure record every processor emits, with its enums. One vocabulary, no spelling variants."""

from __future__ import annotations

import datetime as dt
import hashlib
from enum import Enum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from nba_failures.names import PLACEHOLDER_IDS

MAX_REASON_CHARS = 1000
DATE_LEVEL_ENTITY_ID = "DATE_LEVEL"


def usable_entity_id(entity_id: str) -> bool:
    """Whether a failure record accepts `entity_id`: something other than blanks or a placeholder word."""
    return entity_id.strip().lower() not in (*PLACEHOLDER_IDS, "")


class EntityType(str, Enum):
    PLAYER = "PLAYER"
    TEAM = "TEAM"
    GAME = "GAME"
    DATE = "DATE"


class Phase(str, Enum):
    RAW = "RAW"
    ANALYTICS = "ANALYTICS"
    PRECOMPUTE = "PRECOMPUTE"
    PREDICTION = "PREDICTION"


class FailureCategory(str, Enum):
    """The original system's categories (one spelling each) plus the raw-extraction ones it lacked."""

    INCOMPLETE_DATA = "INCOMPLETE_DATA"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    STALE_DATA = "STALE_DATA"
    PROCESSING_ERROR = "PROCESSING_ERROR"
    REGISTRY_LOOKUP_FAILED = "REGISTRY_LOOKUP_FAILED"
    MISSING_DEPENDENCY = "MISSING_DEPENDENCY"
    MISSING_UPSTREAM_IN_BACKFILL = "MISSING_UPSTREAM_IN_BACKFILL"
    EXPECTED_INCOMPLETE = "EXPECTED_INCOMPLETE"
    UPSTREAM_INCOMPLETE = "UPSTREAM_INCOMPLETE"
    MISSING_DATA = "MISSING_DATA"
    CALCULATION_ERROR = "CALCULATION_ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    FEATURE_VALIDATION_ERROR = "FEATURE_VALIDATION_ERROR"
    MISSING_RAW_DATA = "MISSING_RAW_DATA"
    EXTRACTION_FAILED = "EXTRACTION_FAILED"
    SCHEMA_DRIFT = "SCHEMA_DRIFT"
    MODEL_ERROR = "MODEL_ERROR"
    STALE_CACHE = "STALE_CACHE"
    UNKNOWN = "UNKNOWN"

    @property
    def retryable(self) -> bool:
        """Whether rerunning the pipeline (after late data or a registry fix lands) can clear it.

        Bad rows, early-season history and model errors do not change on a rerun of the same input.
        """
        return self in _RETRYABLE


_RETRYABLE = frozenset(
    {
        FailureCategory.INCOMPLETE_DATA,
        FailureCategory.REGISTRY_LOOKUP_FAILED,
        FailureCategory.MISSING_DEPENDENCY,
        FailureCategory.MISSING_UPSTREAM_IN_BACKFILL,
        FailureCategory.UPSTREAM_INCOMPLETE,
        FailureCategory.MISSING_DATA,
        FailureCategory.MISSING_RAW_DATA,
        FailureCategory.STALE_CACHE,
    }
)


class FailureType(str, Enum):
    """What classification concluded about a failure (the original's failure_type, plus BAD_INPUT)."""

    PLAYER_DNP = "PLAYER_DNP"  # the player did not play: nothing to correct
    DATA_GAP = "DATA_GAP"  # the data exists or will: our pipeline lost it, a rerun can fix it
    MIXED = "MIXED"  # some missing games are DNPs, some are gaps
    INSUFFICIENT_HISTORY = "INSUFFICIENT_HISTORY"  # too few expected games to judge (early season)
    COMPLETE = "COMPLETE"  # nothing is missing any more: the failure is stale, a rerun clears it
    BAD_INPUT = "BAD_INPUT"  # delivered input is wrong: needs a corrected delivery, not a rerun
    UNKNOWN = "UNKNOWN"  # the check could not run; the row says why

    @property
    def correctable(self) -> bool:
        return self in (FailureType.DATA_GAP, FailureType.MIXED)

    @property
    def retried(self) -> bool:
        """Whether the retry sensor reruns it: a correctable failure, or a stale one (COMPLETE: the data is
        there now, and a rerun of its processor clears it)."""
        return self.correctable or self == FailureType.COMPLETE

    @property
    def expected(self) -> bool:
        """Failures that describe reality rather than a fault: nothing will or should fix them."""
        return self in (FailureType.PLAYER_DNP, FailureType.INSUFFICIENT_HISTORY)


class ResolutionStatus(str, Enum):
    UNRESOLVED = "UNRESOLVED"
    RETRY_REQUESTED = "RETRY_REQUESTED"
    RESOLVED = "RESOLVED"
    PERMANENT = "PERMANENT"
    EXPECTED = "EXPECTED"


# Failures still being worked on: waiting for their data, or with a rerun requested.
OPEN_STATUSES = (ResolutionStatus.UNRESOLVED.value, ResolutionStatus.RETRY_REQUESTED.value)
RETRIED_TYPES = tuple(failure_type.value for failure_type in FailureType if failure_type.retried)


class PermanentCause(str, Enum):
    """The two ways of giving up on a failure, never mixed."""

    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"  # reruns with every prerequisite present kept failing
    DATA_NEVER_ARRIVED = "DATA_NEVER_ARRIVED"  # a prerequisite did not arrive within the wait


def failure_key(
    processor_name: str, analysis_date: dt.date, entity_type: EntityType, entity_id: str, category: FailureCategory
) -> str:
    """Stable identity of a failure: the same failure on a rerun gets the same key."""
    # The enums are str enums: joined as the text of their values, without a `.value` lookup for each of the
    # tens of thousands of failures a season records.
    raw = "|".join((processor_name, analysis_date.isoformat(), entity_type, entity_id, category))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


class FailureRecord(BaseModel):
    """One entity that one processor could not (fully) process on one analysis date."""

    model_config = ConfigDict(frozen=True, use_enum_values=False)

    processor_name: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    analysis_date: dt.date
    entity_id: str = Field(min_length=1)
    entity_type: EntityType
    failure_category: FailureCategory
    failure_reason: str = Field(min_length=1)
    can_retry: bool
    expected_count: int | None = Field(default=None, ge=0)
    actual_count: int | None = Field(default=None, ge=0)
    missing_game_ids: tuple[str, ...] = ()
    upstream_table: str | None = None
    # The upstream row's own entity when it is not this one (a player's composite needs his opponent's
    # defense row): classification looks the upstream failure up under this id.
    upstream_entity_id: str | None = None
    source_file: str | None = None
    source_line: int | None = None
    cache_age_hours: float | None = Field(default=None, ge=0)

    @field_validator("failure_reason")
    @classmethod
    def _truncate_reason(cls, reason: str) -> str:
        return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"

    @field_validator("entity_id")
    @classmethod
    def _no_placeholder_ids(cls, entity_id: str) -> str:
        if not usable_entity_id(entity_id):
            raise ValueError(f"entity_id {entity_id!r} is blank or a placeholder; use the input's own id")
        return entity_id

    @computed_field  # type: ignore[prop-decorator]
    @cached_property
    def failure_key(self) -> str:
        return failure_key(self.processor_name, self.analysis_date, self.entity_type, self.entity_id, self.failure_category)
