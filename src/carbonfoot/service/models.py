"""The service's request and response bodies: typed pydantic models, the OpenAPI schema.

Money is always a decimal string (``"1.25"``, ``"300"``), never a JSON number, so no
client parses it through a binary float; amounts sent in (a redemption) must be strings
of ASCII digits with at most one point, read by :func:`carbonfoot.money.parse_amount`.
Times are ISO 8601 strings; a trip's times are read by the engine's intake, as ``calc``
reads a file's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AccountOut",
    "BaselineOut",
    "EntriesPage",
    "EntryOut",
    "ExplainOut",
    "FactorOut",
    "FactorSetDetail",
    "FactorSetOut",
    "HealthOut",
    "ModeOut",
    "ParameterOut",
    "PolicyOut",
    "PositionOut",
    "ProblemOut",
    "QuoteOut",
    "QuotesOut",
    "ReceiptOut",
    "RedemptionIn",
    "ReversalIn",
    "ReversalOut",
    "TripIn",
    "TripOut",
    "TripsIn",
    "TripsOut",
    "VerifyOut",
]

Money = Field(pattern=r"^[0-9]+(\.[0-9]+)?$", examples=["1.25"])
Outcome = Literal["credited", "replayed", "rejected", "quarantined", "conflict"]


class TripIn(BaseModel):
    """One trip: the ``calc`` input columns; a distance provider's columns (``from_stop``,
    ``to_stop``, coordinates...) may be added as further fields."""

    model_config = ConfigDict(extra="allow")

    trip_id: str = Field(max_length=200)
    user_id: str = Field(max_length=200)
    mode: str = Field(max_length=100)
    distance: float | str | None = Field(default=None, examples=[5.2, "5.2 km"])
    distance_unit: str | None = None
    started_at: str = Field(max_length=64, examples=["2026-03-02T08:15:00+08:00"])
    ended_at: str | None = Field(default=None, max_length=64)
    district: str | None = Field(default=None, max_length=200)


class TripsIn(BaseModel):
    """A batch of trips, in the order results come back."""

    trips: list[TripIn] = Field(min_length=1)


class TripOut(BaseModel):
    """What the ledger did with one trip."""

    trip_id: str | None
    user_id: str | None
    outcome: Outcome
    status: str
    message: str | None
    savings_g: float | None = Field(description="CO2(e) saved, grams (not money)")
    credits: str | None = Field(description="credited (or replayed) amount, a decimal string")
    entry_id: str | None


class TripsOut(BaseModel):
    account: str
    credited: int
    replayed: int
    quarantined: int
    rejected: int
    conflicts: int
    awarded: str
    results: list[TripOut]


class QuoteOut(BaseModel):
    """What one trip would earn (nothing is credited)."""

    trip_id: str | None
    user_id: str | None
    mode: str | None
    status: str
    message: str | None
    distance_km: float | None
    emissions_g: float | None
    baseline_g: float | None
    savings_g: float | None
    credits: str | None


class QuotesOut(BaseModel):
    factor_set: str
    factor_set_hash: str
    baseline: str
    policy: str
    account: str
    results: list[QuoteOut]


class PositionOut(BaseModel):
    account: str
    balance: str
    owed: str
    position: str


class AccountOut(BaseModel):
    user_id: str
    accounts: list[PositionOut]


class EntryOut(BaseModel):
    entry_id: str
    kind: str
    account: str
    amount: str
    trip_id: str | None = None
    request_id: str | None = None
    item: str | None = None
    corrects: str | None = None
    credit_day: str | None = None
    mode: str | None = None
    distance_km: float | None = None
    started_at: str | None = None
    district: str | None = None
    status: str | None = None
    note: str | None = None


class EntriesPage(BaseModel):
    """Entries newest first; ``next_cursor`` fetches the older ones (None: no more)."""

    user_id: str
    entries: list[EntryOut]
    next_cursor: str | None


class RedemptionIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=200)
    amount: str = Money
    item: str = Field(min_length=1, max_length=500)


class ReceiptOut(BaseModel):
    idempotency_key: str
    entry_id: str
    user_id: str
    account: str
    amount: str
    item: str
    balance_after: str
    replayed: bool


class ReversalIn(BaseModel):
    trip_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=1000)


class ReversalOut(BaseModel):
    entry_id: str
    trip_id: str
    user_id: str
    account: str
    amount: str
    owed: str
    reason: str


class ModeOut(BaseModel):
    id: str
    label: str
    category: str
    aliases: list[str]
    factor_key: str
    g_per_pkm: float | None
    plugin: str


class FactorSetOut(BaseModel):
    name: str
    version: str
    title: str
    content_hash: str
    region: str
    default: bool


class FactorOut(BaseModel):
    key: str
    value: str
    per: str
    g_per_pkm: float | None
    validity: str
    publisher: str
    source_title: str
    year: int
    locator: str
    url: str


class FactorSetDetail(FactorSetOut):
    scope: str
    gas: str
    gwp: str
    baseline: str
    extends: list[str]
    factors: list[FactorOut]


class ParameterOut(BaseModel):
    name: str
    default: str | None
    description: str


class PolicyOut(BaseModel):
    id: str
    unit: str
    description: str
    default: bool
    parameters: list[ParameterOut]


class BaselineOut(BaseModel):
    id: str
    description: str
    citation: str
    parameters: list[ParameterOut]


class ExplainOut(BaseModel):
    """One trip explained: the numbers, and every step with its source as text lines."""

    mode: str
    distance_km: float
    emissions_g: float
    baseline_g: float
    savings_g: float
    credits: str
    factor_set: str
    factor_set_hash: str
    baseline: str
    policy: str
    steps: list[str]


class VerifyOut(BaseModel):
    ok: bool
    entries: int
    blocks: int
    problem: str
    first_bad_entry: str
    head: str


class ProblemOut(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    request_id: str


class HealthOut(BaseModel):
    status: str
    detail: str = ""
