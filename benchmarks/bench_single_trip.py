"""The service path: one trip per call, ``Engine.trip``, latency over 100,000 calls.

Benchmark 5 of the performance issue; target: p99 under 50 µs. Each call is a different
trip of ``_trips.py`` (seed 17: mode labels as written, Chinese and English, distances in
km). Every call is timed on its own (``perf_counter_ns``), alternating with the reference:
the same arithmetic in plain Python (dictionary lookups for the label and the mode's
savings per km, a multiplication, whole milligrams, integer division, the cap), the least
any Python service could do per trip. Both give the same savings and credits for every
trip; that is checked before timing. Garbage collection stays on, as in a service.

Three engines: the default factor set ``uk-desnz-2025`` (one cell), the same with the
distance given as text (``"1.568 km"``, parsed and unit-checked on each call), and
``cn-nanjing``, whose factors have validity periods (each call looks up today's).

    python benchmarks/bench_single_trip.py [--calls 100000]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _common import record
from _trips import GRAMS_PER_CREDIT, LABELS, engine_with_cap, generate
from carbonfoot import Engine
from carbonfoot.times import today

SEED = 17
CAP = 500  # credits a day; a single trip is capped at it (as its user's only trip)


def reference_for(engine: Engine, cap: int) -> Callable[[str, float], tuple[float, int]]:
    """The same trip in plain Python, from the engine's numbers (data, not code)."""
    if engine.single_cell:
        per_km = engine.savings_g_per_pkm.tolist()
    else:
        interval = int(engine.factor_set.interval_of(np.array([today()]))[0])
        per_km = engine.savings_table[:, 0, interval].tolist()
    labels = [label for label, _, _ in LABELS]
    code_of = dict(zip(labels, engine.mode_codes(labels).tolist(), strict=True))
    allowed = engine.policy.params["eligible"]
    earning = {
        code
        for code, mode in enumerate(engine.modes.modes)
        if mode.id in allowed or mode.category in allowed
    }
    milligrams_per_credit = round(float(GRAMS_PER_CREDIT) * 1000)

    def trip(label: str, km: float) -> tuple[float, int]:
        code = code_of[label]
        savings_g = per_km[code] * km
        credits = round(savings_g * 1000.0) // milligrams_per_credit if code in earning else 0
        return savings_g, min(credits, cap)

    return trip


def latencies(
    calls: list[tuple[Any, ...]],
    ours: Callable[..., Any],
    reference: Callable[..., Any],
    reference_calls: list[tuple[Any, ...]],
) -> tuple[np.ndarray, np.ndarray]:
    """Nanoseconds of each call of ``ours`` and of ``reference``, alternating call by call."""
    clock = time.perf_counter_ns
    mine = np.empty(len(calls), dtype=np.int64)
    theirs = np.empty(len(calls), dtype=np.int64)
    for index, (arguments, reference_arguments) in enumerate(
        zip(calls, reference_calls, strict=True)
    ):
        started = clock()
        ours(*arguments)
        middle = clock()
        reference(*reference_arguments)
        ended = clock()
        mine[index] = middle - started
        theirs[index] = ended - middle
    return mine, theirs


def percentiles_us(nanoseconds: np.ndarray) -> dict[str, float]:
    points = np.percentile(nanoseconds, [50, 90, 99, 99.9]) / 1000
    return {
        "p50_us": round(float(points[0]), 2),
        "p90_us": round(float(points[1]), 2),
        "p99_us": round(float(points[2]), 2),
        "p99_9_us": round(float(points[3]), 2),
        "max_us": round(float(nanoseconds.max()) / 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args()
    default = engine_with_cap(CAP)
    trips = generate(default, args.calls, max(1, args.calls // 10), SEED)
    labels = [trips.label[i] for i in trips.label_index.tolist()]
    distances = trips.distance_km.tolist()
    floats = list(zip(labels, distances, strict=True))
    texts = [(label, f"{km} km") for label, km in floats]
    nanjing = Engine(
        "cn-nanjing",
        policy="green-credit",
        policy_params={"grams_per_credit": GRAMS_PER_CREDIT, "daily_cap": CAP},
    )
    variants = {
        "uk-desnz-2025, distance as a float": (default, floats),
        "uk-desnz-2025, distance as text 'N km'": (default, texts),
        "cn-nanjing (validity periods), distance as a float": (nanjing, floats),
    }
    figures = {}
    print(f"{args.calls:,} calls of Engine.trip, each a different trip")
    for name, (engine, calls) in variants.items():
        reference = reference_for(engine, CAP)
        for (label, km), arguments in zip(floats, calls, strict=True):
            one = engine.trip(*arguments)
            if (one.savings_g, one.credits) != reference(label, km):
                raise SystemExit(
                    f"{name}: {arguments} gives {one}, the reference {reference(label, km)}"
                )
        warm = min(1000, len(calls))
        latencies(calls[:warm], engine.trip, reference, floats[:warm])
        mine, theirs = latencies(calls, engine.trip, reference, floats)
        ours_us, reference_us = percentiles_us(mine), percentiles_us(theirs)
        figures[name] = {
            "carbonfoot": ours_us,
            "plain_python_reference": reference_us,
            "ratio_p50": round(ours_us["p50_us"] / reference_us["p50_us"], 1),
            "ratio_p99": round(ours_us["p99_us"] / reference_us["p99_us"], 1),
            "calls_per_s_at_p50": round(1e6 / ours_us["p50_us"]),
            "target_p99_us": 50,
            "met": ours_us["p99_us"] < 50,
        }
        print(
            f"  {name}: p50 {ours_us['p50_us']} µs, p99 {ours_us['p99_us']} µs "
            f"(reference p50 {reference_us['p50_us']} µs, p99 {reference_us['p99_us']} µs; "
            f"target p99 < 50 µs: {'met' if ours_us['p99_us'] < 50 else 'MISSED'})"
        )
    record(
        "single_trip_latency",
        {
            "command": f"python benchmarks/bench_single_trip.py --calls {args.calls}",
            "calls": args.calls,
            "policy": f"green-credit, grams_per_credit={GRAMS_PER_CREDIT}, daily_cap={CAP}",
            "variants": figures,
        },
    )


if __name__ == "__main__":
    main()
