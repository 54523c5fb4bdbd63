"""Built-in plugin: baseline methodologies of Chinese carbon-inclusion (碳普惠) programmes.

* ``city-average``: the mean method. Baseline factor = the city's total passenger-transport
  emissions / its total passenger-km (Huang Ying et al. 2017, Guangzhou metro, who
  recommend it; Aliyun's city green-travel index white paper), given either as those two
  totals or as passenger-km shares of modes in the factor set.
* ``published-savings``: savings per passenger-km given directly by a methodology, with
  the baseline built in (Shenzhen's low-carbon public-travel methodology: 26.9 g CO2/pkm
  for an electric bus, 46.7 g/pkm for the metro). Modes it gives no factor for get the
  status ``no_baseline``.
* ``db11-3043``: the structure of DB11/T 3043-2024 (Beijing-Tianjin-Hebei, low-carbon
  travel): ER = BE - PE with BE = EF_baseline x distance and PE = EF_mode x distance,
  never below zero (conservativeness). No double claiming is the ledger's job: a trip id
  is credited once. The standard's own default factors were not read, so the factors
  come from the active set.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from carbonfoot import Baseline, BaselineContext, BaselineError, BaselineSpec, Parameter, hookimpl
from carbonfoot.baselines import mix_baseline, mix_weights, resolve_baseline
from carbonfoot.factors import load_factor_set
from carbonfoot.parameters import parse_decimal

DATA = Path(__file__).parent / "data"
PUBLISHED = {"shenzhen-2022": DATA / "shenzhen-public-transport-savings.toml"}

GUANGZHOU_2017 = (
    "Huang Ying, Guo Hongxu, Xie Pengcheng et al., 碳普惠制下市民乘坐地铁出行减碳量核算方法研究——以广州为例, "
    "气候变化研究进展 13(3):284-291 (2017), DOI 10.12006/j.issn.1673-1719.2016.176 (mean method); "
    "Aliyun, city green-travel index white paper (baseline = total urban transport emissions / total person-km)"
)
SHENZHEN_2022 = "深圳市低碳公共出行碳普惠方法学(试行), Shenzhen, 2022 (savings 26.9 g/pkm e-bus, 46.7 g/pkm metro)"
DB11_3043 = (
    "DB11/T 3043-2024, 碳普惠项目减排量核算技术规范 低碳出行, in force 2024-10-01 (ER = BE - PE)"
)


def build_city_average(context: BaselineContext, params: dict[str, Any]) -> Baseline:
    emissions_t, passenger_km, shares = (
        params["emissions_t"],
        params["passenger_km"],
        params["shares"],
    )
    if shares is not None and (emissions_t is not None or passenger_km is not None):
        raise BaselineError(
            "city-average: give either shares, or emissions_t and passenger_km, not both"
        )
    if shares is not None:
        baseline = mix_baseline(
            mix_weights(shares),
            context,
            description="the city's average: modes weighted by passenger-km share",
        )
        return Baseline(
            spec=f"city-average({baseline.spec})",
            description=baseline.description,
            per_mode=baseline.per_mode,
            components=baseline.components,
            citation=GUANGZHOU_2017,
            params={"shares": shares},
        )
    if emissions_t is None or passenger_km is None:
        raise BaselineError(
            "city-average needs the city's totals (emissions_t=..., passenger_km=...) or "
            "passenger-km shares (shares='car:0.5,bus:0.3,metro:0.2')"
        )
    if passenger_km <= 0:
        raise BaselineError("city-average: passenger_km must be above 0")
    g_per_pkm = float(emissions_t * 1_000_000 / passenger_km)
    return Baseline(
        spec=f"city-average({emissions_t} t / {passenger_km} pkm)",
        description="the city's total passenger-transport emissions over its total passenger-km",
        per_mode=np.full(context.factors.shape, g_per_pkm),
        citation=GUANGZHOU_2017,
        params={"emissions_t": str(emissions_t), "passenger_km": str(passenger_km)},
    )


def build_published_savings(context: BaselineContext, params: dict[str, Any]) -> Baseline:
    name = params["source"]
    if name not in PUBLISHED:
        raise BaselineError(
            f"published-savings: unknown source {name!r}; known: {', '.join(PUBLISHED)}"
        )
    savings_set = load_factor_set(PUBLISHED[name])
    per_mode = np.full(context.factors.shape, math.nan)
    for code, mode in enumerate(context.modes.modes):
        savings = (
            savings_set.g_per_pkm(mode.factor_key)
            if mode.factor_key in savings_set.factors
            else None
        )
        if savings is not None:
            per_mode[code] = context.factors[code] + savings
    return Baseline(
        spec=f"published-savings({name})",
        description=f"savings per passenger-km as published ({savings_set.title}); other modes: none",
        per_mode=per_mode,
        citation=SHENZHEN_2022,
        params={"source": name, "content_hash": savings_set.content_hash},
    )


def build_db11_3043(context: BaselineContext, params: dict[str, Any]) -> Baseline:
    inner = resolve_baseline(params["baseline"], context)
    return Baseline(
        spec=f"db11-3043({inner.spec})",
        description="ER = BE - PE: baseline emissions of the same distance minus the trip's own, never below zero",
        per_mode=inner.per_mode,
        components=inner.components,
        citation=DB11_3043,
        params={"baseline": inner.spec},
    )


def _optional_decimal(raw: Any) -> Decimal | None:
    return None if str(raw).strip() in ("", "none") else parse_decimal(raw, minimum=Decimal(0))


SPECS = (
    BaselineSpec(
        id="city-average",
        description="the mean method: a city's passenger-transport emissions over its passenger-km",
        citation=GUANGZHOU_2017,
        parameters=(
            Parameter(
                "emissions_t",
                "the city's total passenger-transport emissions, tonnes CO2(e) (default: none)",
                _optional_decimal,
            ),
            Parameter(
                "passenger_km",
                "the city's total passenger-km in the same period (default: none)",
                _optional_decimal,
            ),
            Parameter(
                "shares",
                "or passenger-km shares of modes, 'car:0.4,bus:0.3,metro:0.3' (default: none)",
                str,
            ),
        ),
        build=build_city_average,
    ),
    BaselineSpec(
        id="published-savings",
        description="savings per passenger-km published by a methodology (baseline built in)",
        citation=SHENZHEN_2022,
        parameters=(
            Parameter(
                "source",
                "which published table (default shenzhen-2022)",
                str,
                default="shenzhen-2022",
            ),
        ),
        build=build_published_savings,
    ),
    BaselineSpec(
        id="db11-3043",
        description="DB11/T 3043-2024 structure: ER = BE - PE, never below zero",
        citation=DB11_3043,
        parameters=(
            Parameter(
                "baseline", "the baseline mode or mix for BE (default: the set's)", str, default=""
            ),
        ),
        build=build_db11_3043,
    ),
)


@hookimpl
def register_baselines(register):  # type: ignore[no-untyped-def]
    for spec in SPECS:
        register(spec)
