"""Every hook a carbonfoot plugin can implement: the one page a plugin author reads.

A plugin is a module (or any object) with functions marked ``@carbonfoot.hookimpl``
and named after the hooks below, registered through the ``carbonfoot`` entry-point
group of its distribution::

    # pyproject.toml of a district's plugin
    [project.entry-points.carbonfoot]
    waterbus = "carbonfoot_waterbus"

Each hook is a *registration* hook: it is called once per process, when the engine's
catalog is first built (never per trip, never at import time), and receives a
``register`` callable. Call ``register`` once for each thing the plugin contributes;
the catalog checks each value and raises :class:`carbonfoot.PluginError` naming the
plugin if one is malformed. A plugin implements only the hooks it needs.

The built-in modes, factor sets and policies are plugins too, registered through
the same entry-point group, so this is the path they take as well.

Each hook names the public module a plugin of its kind imports from (besides
``carbonfoot`` itself): :mod:`carbonfoot.modes`, :mod:`carbonfoot.factors`,
:mod:`carbonfoot.baselines`, :mod:`carbonfoot.distances`, :mod:`carbonfoot.policies`, and
:mod:`carbonfoot.parameters` for documented parameters. Nothing under an underscore.
The ``register`` callbacks are typed below (``Register*`` protocols), so a plugin author's
editor and type checker know what each takes.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    from carbonfoot.baselines import BaselineSpec
    from carbonfoot.distances import DistanceProvider
    from carbonfoot.modes import Mode
    from carbonfoot.policies import PolicySpec

__all__ = [
    "RegisterBaseline",
    "RegisterCreditPolicy",
    "RegisterDistanceProvider",
    "RegisterFactorSet",
    "RegisterMode",
    "hookimpl",
    "hookspec",
]

#: Marks the hook specifications below. Plugin authors do not need it.
hookspec = pluggy.HookspecMarker("carbonfoot")
#: Marks a plugin's hook implementations: ``@carbonfoot.hookimpl``.
hookimpl = pluggy.HookimplMarker("carbonfoot")


# -- the register callbacks a hook receives -----------------------------------------


class RegisterMode(Protocol):
    """``register(mode)``: one :class:`carbonfoot.Mode`."""

    def __call__(self, mode: Mode, /) -> None: ...


class RegisterFactorSet(Protocol):
    """``register(name, path, default=False)``: a factor-set TOML file and its name."""

    def __call__(
        self, name: str, path: str | os.PathLike[str], /, *, default: bool = False
    ) -> None: ...


class RegisterBaseline(Protocol):
    """``register(spec)``: one :class:`carbonfoot.BaselineSpec`."""

    def __call__(self, spec: BaselineSpec, /) -> None: ...


class RegisterDistanceProvider(Protocol):
    """``register(provider)``: one :class:`carbonfoot.DistanceProvider`."""

    def __call__(self, provider: DistanceProvider, /) -> None: ...


class RegisterCreditPolicy(Protocol):
    """``register(spec, default=False)``: one :class:`carbonfoot.PolicySpec`."""

    def __call__(self, spec: PolicySpec, /, *, default: bool = False) -> None: ...


# -- what can be computed: modes and factor sets ----------------------------------


@hookspec
def register_modes(register: RegisterMode) -> None:
    """Contribute transport modes.

    Called once, when the catalog is built. ``register(mode)`` takes a
    :class:`carbonfoot.Mode`; call it once per mode. A mode's id and each alias must
    be unique across all installed plugins (compared case-insensitively, with ``_`` and
    spaces read as ``-``); a clash is a :class:`PluginError` naming both plugins.

    The mode's emission factor comes from the active factor set, under the key
    ``mode.factor`` (default: the mode id). A factor set without that key leaves the
    mode's trips with status ``no_factor``; a district adding a mode therefore also
    adds its factor, in its own factor set or an overrides file.

    Helpers: :mod:`carbonfoot.modes` (``Mode``, ``SpeedRange``).

    Returns nothing.

    Example::

        @hookimpl
        def register_modes(register):
            register(Mode(id="water-bus", label="Water bus", aliases=("水上巴士",),
                          factor="ferry", category="public",
                          speed=SpeedRange(5, 40, basis="operator timetable")))
    """


@hookspec
def register_factor_sets(register: RegisterFactorSet) -> None:
    """Contribute factor sets, as TOML files in the format of ``factors/README.md``.

    Called once, when the catalog is built. ``register(name, path, default=False)``
    takes the set's name (it must equal ``[set].name`` inside the file) and the path of
    the TOML file; ``default=True`` offers it as the set used when none is named (when
    several plugins offer one, the user must name a set).
    Files are read and validated lazily, the first time a set is used; a set that
    fails validation raises :class:`carbonfoot.FactorError` naming the file and key.
    A name registered twice is a :class:`PluginError`.

    Helpers: :mod:`carbonfoot.factors` (``load_factor_set`` to check a file in a test).

    Returns nothing.

    Example::

        @hookimpl
        def register_factor_sets(register):
            register("jiangbei-2025", Path(__file__).parent / "jiangbei-2025.toml")
    """


@hookspec
def register_baselines(register: RegisterBaseline) -> None:
    """Contribute baseline methodologies: what a trip is compared against.

    Called once, when the catalog is built. ``register(spec)`` takes a
    :class:`carbonfoot.BaselineSpec`: an id (what ``--baseline ID`` selects), a
    description, the citation of the methodology, documented parameters, and a
    ``build(context, params)`` function returning a :class:`carbonfoot.Baseline`, whose
    ``per_mode[code, district, interval]`` array gives the baseline g per passenger-km
    for every mode (NaN where the methodology gives none: such trips get the status
    ``no_baseline``). A mode or a weighted mix of modes needs no plugin.

    Helpers: :mod:`carbonfoot.baselines` (``mix_baseline``, ``mix_weights``,
    ``resolve_baseline``) and :mod:`carbonfoot.parameters`.

    Returns nothing.

    Example::

        @hookimpl
        def register_baselines(register):
            register(BaselineSpec(id="city-average", description="...", citation="...",
                                  parameters=(...), build=build_city_average))
    """


@hookspec
def register_distance_providers(register: RegisterDistanceProvider) -> None:
    """Contribute distance providers: distances for trips that arrive without one.

    Called once, when the catalog is built. ``register(provider)`` takes a
    :class:`carbonfoot.DistanceProvider`: its id (the value of the output column
    ``distance_source``), the input columns it reads, a priority (lower is tried first),
    its documented options, and a vectorized ``derive(request)`` returning a
    :class:`carbonfoot.DistanceAnswer` (kilometres per row, NaN where it cannot tell,
    with a reason). It is called once per batch, with the rows whose ``distance`` is
    empty and which carry its columns. A ``distance_source`` label is one plugin's: its
    ``sources`` may name the id of another of the same plugin's providers (two ways of
    reading GPS positions are both ``gps``), never another plugin's.

    Helpers: :mod:`carbonfoot.distances` (``geo``, ``geojson``, ``gpx``, ``TextLookup``,
    ``decimal_numbers``)
    and :mod:`carbonfoot.parameters`.

    Returns nothing.

    Example::

        @hookimpl
        def register_distance_providers(register):
            register(DistanceProvider(id="odometer", columns=("odometer_km",), priority=5,
                                      description="...", derive=derive))
    """


# -- what savings are worth: credit policies ----------------------------------------


@hookspec
def register_credit_policies(register: RegisterCreditPolicy) -> None:
    """Contribute credit policies: rules that turn savings into credits or coins.

    Called once, when the catalog is built. ``register(spec, default=False)`` takes a
    :class:`carbonfoot.PolicySpec`: the policy id, its documented parameters with
    defaults, and a ``build(params)`` function returning a
    :class:`carbonfoot.CreditPolicy`. The engine calls ``build`` once per run and then
    ``award`` once per batch with numpy arrays, so a policy is vectorized by contract.
    ``default=True`` offers it as the policy used when none is named.

    Helpers: :mod:`carbonfoot.policies` (``PolicyBatch``, ``apply_daily_cap``,
    ``divide_floor``, ``mode_allowed``; ``MatrixPolicy`` for an optional vectorized
    ``award_matrix``; ``ExplainedPolicy`` for an optional ``explain_one``, the reasons of
    one trip's award that ``explain`` shows, with ``rule_reasons`` for the common rule) and
    :mod:`carbonfoot.parameters`.

    Returns nothing.

    Example::

        @hookimpl
        def register_credit_policies(register):
            register(PolicySpec(id="double-weekend", unit="credit",
                                description="...", parameters=(...), build=build))
    """
