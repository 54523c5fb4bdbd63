"""Built-in plugin: the ``carbon-coin`` policy.

coins = savings_g / grams_per_coin, rounded toward zero to ``decimals`` places, exact
(integer arithmetic on whole milligrams; never binary floats). Coins carry their
decimals: in CSV they are written as decimal text ("1.25"), in Parquet as a decimal
type. An optional ``daily_cap`` (in coins) holds per user and local day, in trip-time
order. The default rate, one coin per kilogram of CO2(e) saved, is a choice of unit,
not a published exchange rate: no Nanjing coin rate was found, so a programme sets its
own with ``--policy-param grams_per_coin=...``.
"""

from decimal import Decimal
from typing import Any

import numpy as np

from carbonfoot import Parameter, PolicyBatch, PolicySpec, hookimpl
from carbonfoot.parameters import (
    UNLIMITED,
    format_param,
    parse_cap,
    parse_decimal,
    parse_int,
    parse_modes,
    parse_timezone,
)
from carbonfoot.policies import (
    MILLIGRAMS_PER_GRAM,
    AwardReason,
    apply_daily_cap,
    apply_daily_cap_matrix,
    divide_floor,
    mode_allowed,
    rule_reasons,
)
from carbonfoot_builtins._eligibility import DEFAULT_ELIGIBLE

POLICY_ID = "carbon-coin"


class CarbonCoin:
    """Coins with a fixed number of decimal places, rounded toward zero."""

    id = POLICY_ID
    unit = "coin"

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.grams_per_coin: Decimal = params["grams_per_coin"]
        self.decimals: int = params["decimals"]
        self.timezone: str = params["timezone"]
        self.eligible_modes: frozenset[str] = params["eligible"]
        self.scale = 10**self.decimals
        self.milligrams_per_coin = int(self.grams_per_coin * MILLIGRAMS_PER_GRAM)
        given = params["daily_cap"]
        cap: Decimal | None = None if given is None or given is UNLIMITED else given
        if cap is not None and -cap.as_tuple().exponent > self.decimals:  # type: ignore[operator]
            raise ValueError(f"daily_cap {cap} has more places than decimals={self.decimals}")
        self.daily_cap_units = None if cap is None else int(cap * self.scale)

    def award(self, batch: PolicyBatch) -> np.ndarray:
        units = divide_floor(batch.savings_mg, self.scale, self.milligrams_per_coin)
        units[~(batch.eligible & batch.of_modes(self.eligible_modes))] = 0
        if self.daily_cap_units is None:
            return units
        return apply_daily_cap(units, batch, self.daily_cap_units, in_place=True)

    def award_matrix(self, batch: PolicyBatch, savings_mg: np.ndarray) -> np.ndarray:
        """Awards for a trips x draws matrix of savings (uncertainty analysis), caps included."""
        units = divide_floor(savings_mg, self.scale, self.milligrams_per_coin)
        units[~(batch.eligible & batch.of_modes(self.eligible_modes))] = 0
        if self.daily_cap_units is None:
            return units
        return apply_daily_cap_matrix(units, batch, self.daily_cap_units)

    def award_one(self, savings_mg: int, mode_id: str, category: str) -> int:
        if not mode_allowed(self.eligible_modes, mode_id, category):
            return 0
        units = savings_mg * self.scale // self.milligrams_per_coin
        return units if self.daily_cap_units is None else min(units, self.daily_cap_units)

    def explain_one(self, batch: PolicyBatch) -> tuple[AwardReason, ...]:
        """Why the one trip of ``batch`` earns what :meth:`award` gives it."""
        return rule_reasons(
            batch,
            self,
            eligible=self.eligible_modes,
            milligrams_per_unit=self.milligrams_per_coin,
            units=int(divide_floor(batch.savings_mg, self.scale, self.milligrams_per_coin)[0]),
            cap=self.daily_cap_units,
        )

    def describe(self) -> str:
        cap = (
            "no daily cap"
            if self.daily_cap_units is None
            else f"at most {Decimal(self.daily_cap_units).scaleb(-self.decimals)} per user per day"
        )
        return (
            f"coins = savings_g / {self.grams_per_coin}, rounded toward zero to {self.decimals} "
            f"places, {cap} (days in {self.timezone}); earning: {format_param(self.eligible_modes)}; "
            "savings rounded to whole mg first"
        )


SPEC = PolicySpec(
    id=POLICY_ID,
    unit="coin",
    description="exact decimal carbon coins per gram saved, rounded toward zero",
    parameters=(
        Parameter(
            "grams_per_coin",
            "grams of CO2(e) saved per coin; up to 3 decimal places (default 1000: 1 coin per kg)",
            lambda raw: parse_decimal(raw, minimum=Decimal("0.001"), places=3),
            default="1000",
        ),
        Parameter(
            "decimals",
            "decimal places coins are kept to, 0 to 6 (default 2)",
            lambda raw: parse_int(raw, minimum=0, maximum=6),
            default=2,
        ),
        Parameter(
            "daily_cap",
            "most coins one user earns per local day, or 'unlimited'; unset (the default) "
            "means no cap in calc, and the ledger refuses to credit without one",
            parse_cap(lambda raw: parse_decimal(raw, minimum=Decimal(0))),
            default=None,
        ),
        Parameter(
            "eligible",
            "modes or categories that earn: 'all' or a comma list "
            f"(default {DEFAULT_ELIGIBLE}: private cars and motorbikes earn nothing)",
            parse_modes,
            default=DEFAULT_ELIGIBLE,
        ),
        Parameter(
            "timezone",
            "IANA time zone of the calendar day caps count in (default Asia/Shanghai)",
            parse_timezone,
            default="Asia/Shanghai",
        ),
    ),
    build=CarbonCoin,
)


@hookimpl
def register_credit_policies(register):  # type: ignore[no-untyped-def]
    register(SPEC)
