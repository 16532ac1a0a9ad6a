"""What the API accepts and returns; the OpenAPI schema is generated from these."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import BaseModel, BeforeValidator

from portfolio.models import FlagKind, Phase, Status

MAX_NOTE_CHARS = 2000
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    # pydantic would also read 1700000000 or "2026-11-16T10:00" as a date; a feed
    # sending those has a bug worth hearing about.
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("Use a date written YYYY-MM-DD.")
    return value


def _number_only(value: Any) -> Any:
    # A JSON number, not true/false or "12.5" in quotes.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("Use a JSON number, such as 12.5.")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
Number = Annotated[float, BeforeValidator(_number_only), Field(allow_inf_nan=False)]


# -- errors -------------------------------------------------------------------------------------


class Error(Schema):
    detail: str


class ItemError(Schema):
    index: int | None = Field(None, description="Position of the item in `readings`, from 0; null for the request.")
    field: str
    message: str


class InvalidError(Schema):
    detail: str
    errors: list[ItemError]


class Conflict(Schema):
    index: int
    kpi: str
    on: dt.date
    existing_value: float
    value: float


class ConflictError(Schema):
    detail: str
    conflicts: list[Conflict]


# -- people, pilots, KPIs, flags -----------------------------------------------------------------


class Person(Schema):
    username: str
    name: str


class FlagOut(Schema):
    id: int
    pilot: str = Field(description="The pilot's key.")
    kind: FlagKind
    label: str
    severity: str
    subject: str | None = Field(description="The KPI or kill criterion key the flag is about, if any.")
    detail: str
    raised_at: dt.datetime
    last_seen_at: dt.datetime


class PilotOut(Schema):
    key: str
    name: str
    url: str
    business_unit: str
    phase: Phase
    status: Status
    owner: Person | None
    sponsor: Person | None
    started_on: dt.date
    phase_entered_on: dt.date
    days_in_phase: int
    next_review_on: dt.date | None
    open_flags: list[str] = Field(description="Kinds of the pilot's open flags, critical first.")


class PilotPage(Schema):
    count: int
    page: int
    pages: int
    per_page: int
    results: list[PilotOut]


class ReadingOut(Schema):
    on: dt.date
    value: float
    note: str
    source: str
    recorded_at: dt.datetime


class KpiOut(Schema):
    key: str
    name: str
    unit: str
    direction: str
    baseline: float | None
    baseline_on: dt.date | None
    target: float
    target_on: dt.date | None
    latest_readings: list[ReadingOut] = Field(description="The latest readings, newest first.")


class KillCriterionOut(Schema):
    key: str
    description: str
    kpi: str | None
    comparator: str | None
    threshold: float | None
    evaluate_on: dt.date | None


class PilotDetailOut(PilotOut):
    problem: str
    outcome: str
    budget: float | None
    spent: float | None
    kpis: list[KpiOut]
    kill_criteria: list[KillCriterionOut]
    flags: list[FlagOut] = Field(description="Open flags, critical first.")


class FlagPage(Schema):
    count: int
    page: int
    pages: int
    per_page: int
    results: list[FlagOut]


# -- the dashboard's figures ---------------------------------------------------------------------


class FunnelStageOut(Schema):
    phase: Phase
    label: str
    entered: int
    went_on: int
    killed: int
    active: int
    on_hold: int
    conversion: float | None


class PhaseTimeOut(Schema):
    phase: Phase
    pilots: int
    median_days: float | None
    longest_days: int | None
    limit_days: int | None
    past_limit: int


class FlagTallyOut(Schema):
    kind: str
    label: str
    severity: str
    pilots: int


class ValueOut(Schema):
    reached_production: int
    delivering: int
    shown_by_system: int
    self_reported_only: int


class ScanOut(Schema):
    finished_at: dt.datetime | None
    overdue: bool


class SummaryOut(Schema):
    as_of: dt.date
    pilots: int
    funnel: list[FunnelStageOut]
    phase_times: list[PhaseTimeOut]
    open_flags: int
    critical_flags: int
    flagged_pilots: int
    flags_by_kind: list[FlagTallyOut]
    value: ValueOut
    budget: float
    spent: float
    last_scan: ScanOut


# -- writing readings ----------------------------------------------------------------------------
# Plain pydantic models: ninja's Schema adds a per-object validator that costs ~50 ms a batch of 1,000.


class ReadingIn(BaseModel):
    on: IsoDate = Field(description="The date measured, YYYY-MM-DD; not in the future nor before the pilot started.")
    value: Number
    note: str = Field("", max_length=MAX_NOTE_CHARS)


class ReadingBatchIn(BaseModel):
    readings: list[ReadingIn] = Field(
        min_length=1, description="One reading or up to 1,000, one per date. Larger batches are refused (413)."
    )
    replace: bool = Field(False, description="Overwrite dates that already have a different value.")


class PilotReadingIn(ReadingIn):
    kpi: str = Field(description="The key of one of the pilot's KPIs.", max_length=64)


class PilotReadingBatchIn(BaseModel):
    readings: list[PilotReadingIn] = Field(
        min_length=1, description="Up to 1,000 readings of the pilot's KPIs, one per KPI and date."
    )
    replace: bool = Field(False, description="Overwrite dates that already have a different value.")


class BatchOut(Schema):
    pilot: str
    created: int
    replaced: int
    unchanged: int
