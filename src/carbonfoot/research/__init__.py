"""Research tools: explain one trip, Monte Carlo uncertainty, one-at-a-time sensitivity,
comparisons.

:func:`explain_trip` shows every step of one trip with each factor's source. The others prepare a batch once (checks, statuses, each trip's factor cell) and then
evaluate totals by mode many times with other factor values, vectorized over trips and
draws. Savings totals are exact sums of per-trip savings; credits go through the
policy's own arithmetic, caps included.
"""

from carbonfoot.research.compare import Comparison, compare
from carbonfoot.research.evaluate import BatchEvaluator, Totals
from carbonfoot.research.explain import TripExplanation, explain, explain_trip
from carbonfoot.research.montecarlo import UncertaintyReport, run_monte_carlo, sample_factor
from carbonfoot.research.provenance import RunProvenance
from carbonfoot.research.sensitivity import SensitivityReport, Skipped, Swing, run_sensitivity

__all__ = [
    "BatchEvaluator",
    "Comparison",
    "RunProvenance",
    "SensitivityReport",
    "Skipped",
    "Swing",
    "Totals",
    "TripExplanation",
    "UncertaintyReport",
    "compare",
    "explain",
    "explain_trip",
    "run_monte_carlo",
    "run_sensitivity",
    "sample_factor",
]
