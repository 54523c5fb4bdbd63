"""What the plausibility checks cost on 1 million trips, with the sourced distance limits.

Every built-in mode now has a trip and a daily distance limit (issue 15), so the distance
checks run on every batch instead of being skipped. Measured, on the same prepared arrays
(``read_trips`` once; mode codes, km, start and end times, local days, user codes):

* ``check, default limits``: :meth:`PlausibilityRules.check` with the built-in limits
  (speed, trip distance, daily distance per user, day and mode, near-duplicates, overlap);
* ``check, no distance limits``: the same with the two distance limits unset (what every
  mode had before), so the difference is the price of the distance checks;
* ``prepare, clean`` and ``prepare, 1 % in metres``: the whole :meth:`Engine.prepare` on
  the synthetic table and on the same table with 1 % of its distances multiplied by 1,000
  (a km column typed in metres), so the quarantine and its messages are paid for too.

Timed alternately (``_common.rotated``), medians of ``--runs``.

    python benchmarks/bench_plausibility.py [--trips 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pyarrow as pa

from _common import median, record, rotated, timed
from _trips import Trips, engine_with_cap, generate
from carbonfoot._kernels.hashing import value_codes
from carbonfoot.intake import read_trips, to_arrow_table
from carbonfoot.intake.plausibility import PlausibilityRules
from carbonfoot.statuses import QUARANTINED, STATUSES
from carbonfoot.times import local_days

SEED = 23


def sample(function: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        gc.collect()
        return timed(function)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    users = max(1, args.trips // 10)
    engine = engine_with_cap(None)
    trips: Trips = generate(engine, args.trips, users, args.seed)
    table = trips.table()
    rng = np.random.default_rng(args.seed)
    typed_in_metres = rng.random(args.trips) < 0.01
    distance = np.where(typed_in_metres, trips.distance_km * 1000, trips.distance_km)
    metres_table = table.set_column(
        table.schema.get_field_index("distance"), "distance", pa.array(distance)
    )
    columns = read_trips(
        to_arrow_table(table),
        engine.modes,
        default_unit="km",
        timezone=engine.policy.timezone,
        providers=engine.distance_providers,
        options=engine.distance_options,
    )
    local_day = local_days(columns.started_us, engine.policy.timezone)
    user_codes = value_codes(columns.user_id)
    computed = columns.rejections.ok.copy()
    rules = engine.plausibility
    unlimited = PlausibilityRules(
        tuple(
            attrs.evolve(limit, max_trip_km=math.inf, max_daily_km=math.inf)
            for limit in rules.limits
        ),
        rules.duplicate_window_s,
        rules.check_overlap,
    )

    def check(with_rules: PlausibilityRules) -> np.ndarray:
        return with_rules.check(
            computed=computed,
            codes=columns.mode_code,
            distance_km=columns.distance_km,
            started_us=columns.started_us,
            ended_us=columns.ended_us,
            local_day=local_day,
            users=lambda: user_codes,
        )

    verdict = check(rules)
    flagged_clean = int(np.count_nonzero(verdict))
    if not np.array_equal(verdict, check(unlimited)):
        # The synthetic trips are all plausible distances: the limits must change nothing.
        raise SystemExit("the distance limits flag clean synthetic trips")
    statuses = np.asarray(STATUSES)[engine.prepare(metres_table).columns.status]
    flagged_metres = {
        status: int(np.count_nonzero(statuses == status))
        for status in QUARANTINED
        if (statuses == status).any()
    }
    print(
        f"{args.trips:,} trips, {users:,} users; flagged on the clean trips: {flagged_clean}; "
        f"typed in metres: {int(typed_in_metres.sum()):,}, quarantined {flagged_metres}"
    )
    times = rotated(
        args.runs,
        check_default=sample(lambda: check(rules)),
        check_no_distance_limits=sample(lambda: check(unlimited)),
        prepare_clean=sample(lambda: engine.prepare(table)),
        prepare_metres=sample(lambda: engine.prepare(metres_table)),
    )
    medians = {name: round(median(values), 4) for name, values in times.items()}
    result = {
        "command": f"python benchmarks/bench_plausibility.py --trips {args.trips} --runs {args.runs}",
        "trips": args.trips,
        "users": users,
        "runs": args.runs,
        "median_s": medians,
        "distance_checks_cost_s": round(
            medians["check_default"] - medians["check_no_distance_limits"], 4
        ),
        "flagged_clean": flagged_clean,
        "typed_in_metres": int(typed_in_metres.sum()),
        "quarantined_metres_table": flagged_metres,
        "all_runs_s": {name: [round(t, 4) for t in values] for name, values in times.items()},
    }
    record("plausibility_checks", result)
    for name, value in medians.items():
        print(f"   {name:26s} {value:8.3f} s  {args.trips / value:>12,.0f} trips/s")
    print(f"   distance checks cost {result['distance_checks_cost_s']:.3f} s per {args.trips:,}")


if __name__ == "__main__":
    main()
