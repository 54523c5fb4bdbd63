"""Built-in plugin: the ``green-credit`` policy (default).

credits = floor(savings_g / grams_per_credit) per trip, then at most ``daily_cap``
credits per user and local calendar day, paid in trip-time order. The default rate is
one credit per gram of CO2(e) saved, the denomination Wuhan's 碳碳星球 platform uses
(碳积分 convert 1:1 to grams of reduction; 湖北日报, 2022-02-17); by default there is
no cap. A programme sets its own rate and cap with ``--policy-param`` or a config file.
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

POLICY_ID = "green-credit"


class GreenCredit:
    """Whole credits per gram saved, with an optional per-user daily cap."""

    id = POLICY_ID
    unit = "credit"
    decimals = 0

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.grams_per_credit: Decimal = params["grams_per_credit"]
        cap = params["daily_cap"]
        self.daily_cap: int | None = None if cap is None or cap is UNLIMITED else cap
        self.timezone: str = params["timezone"]
        self.eligible_modes: frozenset[str] = params["eligible"]
        self.milligrams_per_credit = int(self.grams_per_credit * MILLIGRAMS_PER_GRAM)

    def award(self, batch: PolicyBatch) -> np.ndarray:
        credits = divide_floor(batch.savings_mg, 1, self.milligrams_per_credit)
        credits[~(batch.eligible & batch.of_modes(self.eligible_modes))] = 0
        if self.daily_cap is None:
            return credits
        return apply_daily_cap(credits, batch, self.daily_cap, in_place=True)

    def award_matrix(self, batch: PolicyBatch, savings_mg: np.ndarray) -> np.ndarray:
        """Awards for a trips x draws matrix of savings (uncertainty analysis), caps included."""
        units = divide_floor(savings_mg, 1, self.milligrams_per_credit)
        units[~(batch.eligible & batch.of_modes(self.eligible_modes))] = 0
        if self.daily_cap is None:
            return units
        return apply_daily_cap_matrix(units, batch, self.daily_cap)

    def award_one(self, savings_mg: int, mode_id: str, category: str) -> int:
        if not mode_allowed(self.eligible_modes, mode_id, category):
            return 0
        credits = savings_mg // self.milligrams_per_credit
        return credits if self.daily_cap is None else min(credits, self.daily_cap)

    def explain_one(self, batch: PolicyBatch) -> tuple[AwardReason, ...]:
        """Why the one trip of ``batch`` earns what :meth:`award` gives it."""
        return rule_reasons(
            batch,
            self,
            eligible=self.eligible_modes,
            milligrams_per_unit=self.milligrams_per_credit,
            units=int(divide_floor(batch.savings_mg, 1, self.milligrams_per_credit)[0]),
            cap=self.daily_cap,
        )

    def describe(self) -> str:
        cap = (
            "no daily cap"
            if self.daily_cap is None
            else f"at most {self.daily_cap} per user per day"
        )
        return (
            f"credits = floor(savings_g / {self.grams_per_credit}), {cap} "
            f"(days in {self.timezone}, paid in trip-time order); earning: {format_param(self.eligible_modes)}; "
            "savings rounded to whole mg first"
        )


SPEC = PolicySpec(
    id=POLICY_ID,
    unit="credit",
    description="whole green credits per gram saved, with an optional per-user daily cap",
    parameters=(
        Parameter(
            "grams_per_credit",
            "grams of CO2(e) saved per credit; up to 3 decimal places (default 1, as Wuhan's 碳碳星球)",
            lambda raw: parse_decimal(raw, minimum=Decimal("0.001"), places=3),
            default="1",
        ),
        Parameter(
            "daily_cap",
            "most credits one user earns per local day, or 'unlimited'; unset (the default) "
            "means no cap in calc, and the ledger refuses to credit without one",
            parse_cap(lambda raw: parse_int(raw, minimum=0)),
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
    build=GreenCredit,
)


@hookimpl
def register_credit_policies(register):  # type: ignore[no-untyped-def]
    register(SPEC, default=True)
