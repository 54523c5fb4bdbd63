"""carbonfoot: turn low-carbon trips into CO2 savings, and savings into credits or coins.

The public API. Plugins are loaded lazily, the first time an :class:`Engine` or the
default :class:`Catalog` is built, never when this package is imported::

    import carbonfoot

    engine = carbonfoot.Engine("uk-desnz-2025")
    results = engine.compute(trips_table)      # a batch: one row out per row in
    one = engine.trip("bus", "5.2 km")         # one trip, same numbers

The map, in the data's order (ARCHITECTURE.md has the whole of it):

1. :mod:`carbonfoot.intake`: a table in; columns checked, ids trimmed, kilometres from the
   distance and its unit or a distance provider, times in UTC, modes as codes; every row
   a status (:mod:`carbonfoot.statuses`) and, if not ok, a message;
2. :mod:`carbonfoot.engine`: factor and baseline tables laid out once; savings per trip;
   suspect trips quarantined (:mod:`carbonfoot.intake.plausibility`);
3. :mod:`carbonfoot.policies`: savings in whole milligrams to awards in integer minor
   units, caps per user and local day;
4. :mod:`carbonfoot.results`: the result table, the run's provenance, the summary;
5. sinks: files (:mod:`carbonfoot.io`, :mod:`carbonfoot.calc`, :mod:`carbonfoot.streaming`,
   :mod:`carbonfoot.dask`) or the credit ledger (:mod:`carbonfoot.ledger`).

What plugins contribute, one public module per hook (:mod:`carbonfoot.hookspecs`,
:mod:`carbonfoot.plugins`): :mod:`~carbonfoot.modes`, :mod:`~carbonfoot.factors`,
:mod:`~carbonfoot.baselines`, :mod:`~carbonfoot.distances`, :mod:`~carbonfoot.policies`,
with :mod:`~carbonfoot.parameters`. The vocabularies every stage shares:
:mod:`~carbonfoot.statuses`, :mod:`~carbonfoot.units`, :mod:`~carbonfoot.times`,
:mod:`~carbonfoot.money`, :mod:`~carbonfoot.errors`. Tools over the library:
:mod:`carbonfoot.research` (explain, uncertainty, sensitivity, compare),
:mod:`carbonfoot.demo`. The two faces over the library, each one call per request and no
rule of its own: the command line, :mod:`carbonfoot.cli`, and the HTTP service,
:mod:`carbonfoot.service` (``carbonfoot serve``, the ``serve`` extra).
"""

from carbonfoot.baselines import Baseline, BaselineContext, BaselineSpec
from carbonfoot.distances import DistanceAnswer, DistanceProvider, DistanceRequest
from carbonfoot.engine import Engine, TripResult
from carbonfoot.errors import (
    BaselineError,
    CarbonfootError,
    FactorError,
    InputError,
    InsufficientBalanceError,
    LedgerError,
    PluginError,
    PolicyError,
    RequestConflictError,
    TripConflictError,
    UnitMismatchError,
    UnknownFactorSetError,
    UnknownModeError,
    UnknownPolicyError,
    UnknownTripError,
)
from carbonfoot.factors import Factor, FactorSet, Source, Uncertainty, Validity, load_factor_set
from carbonfoot.hookspecs import hookimpl
from carbonfoot.modes import Mode, SpeedRange
from carbonfoot.parameters import Parameter
from carbonfoot.plugins import Catalog, default_catalog
from carbonfoot.policies import CreditPolicy, PolicyBatch, PolicySpec
from carbonfoot.results import Results, RunInfo, Summary
from carbonfoot.statuses import STATUSES

__version__ = "0.1.0"

__all__ = [
    "STATUSES",
    "Baseline",
    "BaselineContext",
    "BaselineError",
    "BaselineSpec",
    "CarbonfootError",
    "Catalog",
    "CreditPolicy",
    "DistanceAnswer",
    "DistanceProvider",
    "DistanceRequest",
    "Engine",
    "Factor",
    "FactorError",
    "FactorSet",
    "InputError",
    "InsufficientBalanceError",
    "LedgerError",
    "Mode",
    "Parameter",
    "PluginError",
    "PolicyBatch",
    "PolicyError",
    "PolicySpec",
    "RequestConflictError",
    "Results",
    "RunInfo",
    "Source",
    "SpeedRange",
    "Summary",
    "TripConflictError",
    "TripResult",
    "Uncertainty",
    "UnitMismatchError",
    "UnknownFactorSetError",
    "UnknownModeError",
    "UnknownPolicyError",
    "UnknownTripError",
    "Validity",
    "__version__",
    "default_catalog",
    "hookimpl",
    "load_factor_set",
]
