"""Monte Carlo uncertainty: 10,000 draws over 100,000 trips, one core, bounded memory.

Trips: synthetic (seed 5), 100,000 trips of 40,000 users on one day. Factor set cn-nanjing
(seven uncertain factors). Two policies: green-credit without a cap, and with a daily cap of
1,500 credits (some user-days over it; the share is reported). Reported: wall time, draws x trips per second,
and peak resident memory of the process; the issue's target is under a minute.

    python benchmarks/bench_uncertainty.py [--draws 10000] [--trips 100000]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from _common import record
from carbonfoot import Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.research import BatchEvaluator, run_monte_carlo


def share_over_cap(evaluator: BatchEvaluator, cap: int) -> float:
    """Share of user-days whose uncapped credits exceed ``cap`` at the point estimate."""
    savings_mg = np.rint(evaluator.savings_per_trip()[:, 0] * 1000).astype(np.int64)
    uncapped = savings_mg // 1000  # green-credit: 1 g per credit
    batch = evaluator.batch
    _, group = np.unique(batch.user * 1_000_000 + batch.local_day, return_inverse=True)
    return round(float((np.bincount(group, weights=uncapped) > cap).mean()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--trips", type=int, default=100_000)
    args = parser.parse_args()
    trips = generate_trips(args.trips, users=max(1, args.trips * 2 // 5), seed=5)
    results = {}
    for label, params in (("no cap", {}), ("daily cap 1500", {"daily_cap": "1500"})):
        engine = Engine("cn-nanjing", policy_params=params)
        evaluator = BatchEvaluator(engine, engine.prepare(trips))
        capped_share = share_over_cap(evaluator, 1500) if "daily_cap" in params else None
        started = time.perf_counter()
        report = run_monte_carlo(evaluator, draws=args.draws, seed=1)
        elapsed = time.perf_counter() - started
        results[label] = {
            "seconds": round(elapsed, 2),
            "draw_trips_per_s": round(args.draws * evaluator.rows.size / elapsed),
            "share_of_user_days_over_cap": capped_share,
            "total_savings_kg_mean": round(report.savings_kg["total"].mean, 3),
            "total_savings_kg_p2_5": round(report.savings_kg["total"].p2_5, 3),
            "total_savings_kg_p97_5": round(report.savings_kg["total"].p97_5, 3),
        }
        print(f"{label}: {args.draws:,} draws x {evaluator.rows.size:,} trips in {elapsed:.1f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record(
        "uncertainty_monte_carlo",
        {
            "command": f"python benchmarks/bench_uncertainty.py --draws {args.draws} --trips {args.trips}",
            "draws": args.draws,
            "trips": args.trips,
            "factor_set": "cn-nanjing",
            "results": results,
            "peak_rss_mb": round(peak_mb, 1),
            "target_seconds": 60,
        },
    )
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
