"""The plugin manager: finds plugins, asks them once what they contribute, isolates failures.

Plugins are found through the ``carbonfoot`` entry-point group (the built-ins too) and
loaded lazily, the first time a catalog is needed, never at import time. Each plugin's
hook implementations are called one by one, so a plugin that fails to import, breaks
its hook specification, raises, or registers something malformed is reported as a
:class:`PluginError` naming it and its distribution, while the other plugins keep
working. ``strict=True`` raises the first such error instead.

``CARBONFOOT_PLUGINS`` (comma-separated entry-point names) restricts which installed
plugins load, e.g. to reproduce a result with only the built-ins.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pluggy
from attrs import frozen

from carbonfoot import hookspecs
from carbonfoot.baselines import BaselineSpec
from carbonfoot.distances import DistanceProvider
from carbonfoot.errors import PluginError, UnknownFactorSetError, UnknownPolicyError
from carbonfoot.factors import FactorSet, load_factor_set
from carbonfoot.modes import UNKNOWN_MODE, Mode, ModeTable
from carbonfoot.policies import PolicySpec

__all__ = ["ENTRY_POINT_GROUP", "Catalog", "default_catalog"]

ENTRY_POINT_GROUP = "carbonfoot"
PLUGINS_ENV = "CARBONFOOT_PLUGINS"


@frozen
class FactorSetEntry:
    """A registered factor-set file, not yet read."""

    name: str
    path: Path
    plugin: str
    default: bool = False


class Catalog:
    """Everything the installed plugins contribute: modes, factor sets, policies.

    Build it with :meth:`from_entry_points` (what is installed) or :meth:`from_plugins`
    (explicit plugin objects, e.g. in tests or a service that pins its plugins).
    ``errors`` lists the plugins that were skipped, with why.
    """

    def __init__(
        self,
        modes: ModeTable,
        factor_sets: Mapping[str, FactorSetEntry],
        policies: Mapping[str, PolicySpec],
        policy_owners: Mapping[str, str],
        errors: Iterable[PluginError],
        plugins: Iterable[str],
        default_policies: Iterable[str] = (),
        baselines: Mapping[str, BaselineSpec] | None = None,
        baseline_owners: Mapping[str, str] | None = None,
        distance_providers: Iterable[DistanceProvider] = (),
    ) -> None:
        self.modes = modes
        self.factor_sets = dict(factor_sets)
        self.policies = dict(policies)
        self.policy_owners = dict(policy_owners)
        self.errors = tuple(errors)
        self.plugins = tuple(plugins)
        self.default_policies = tuple(default_policies)
        self.baselines: dict[str, BaselineSpec] = dict(baselines or {})
        self.baseline_owners: dict[str, str] = dict(baseline_owners or {})
        self.distance_providers = tuple(
            sorted(distance_providers, key=lambda p: (p.priority, p.id))
        )
        self._loaded_sets: dict[str, FactorSet] = {}

    # -- construction ---------------------------------------------------------------

    @classmethod
    def from_entry_points(
        cls, *, strict: bool = False, extra: Iterable[tuple[str, object]] = ()
    ) -> Catalog:
        """A catalog of the installed plugins (``carbonfoot`` entry points) plus ``extra``."""
        allowed = _allowed_names()
        loaded: list[tuple[str, object, str]] = []
        errors: list[PluginError] = []
        found = sorted(_entry_points(), key=_load_order)
        if allowed is not None:
            for name in sorted(allowed - {ep.name for ep in found}):
                errors.append(
                    PluginError(
                        f"{PLUGINS_ENV} names plugin {name!r}, which is not installed", plugin=name
                    )
                )
        for entry_point in found:
            if allowed is not None and entry_point.name not in allowed:
                continue
            distribution = _distribution_name(entry_point)
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a plugin's import may fail in any way
                error = PluginError(
                    f"plugin {entry_point.name!r} (distribution {distribution}) failed to "
                    f"import {entry_point.value!r}: {type(exc).__name__}: {exc}",
                    plugin=entry_point.name,
                    distribution=distribution,
                )
                if strict:
                    raise error from exc
                errors.append(error)
                continue
            loaded.append((entry_point.name, plugin, distribution))
        loaded.extend((name, plugin, "") for name, plugin in extra)
        return cls._build(loaded, errors, strict=strict)

    @classmethod
    def from_plugins(cls, plugins: Iterable[tuple[str, object]], *, strict: bool = True) -> Catalog:
        """A catalog of exactly these ``(name, plugin)`` pairs."""
        return cls._build([(name, plugin, "") for name, plugin in plugins], [], strict=strict)

    @classmethod
    def _build(
        cls, loaded: list[tuple[str, object, str]], errors: list[PluginError], *, strict: bool
    ) -> Catalog:
        manager = pluggy.PluginManager(ENTRY_POINT_GROUP)
        manager.add_hookspecs(hookspecs)
        registered: list[tuple[str, str]] = []
        for name, plugin, distribution in loaded:
            try:
                manager.register(plugin, name=name)
                manager.check_pending()
                if not manager.get_hookcallers(plugin):
                    raise PluginError(f"{plugin!r} implements no carbonfoot hook")
            except Exception as exc:
                if manager.is_registered(plugin):
                    manager.unregister(plugin)
                error = PluginError(
                    f"plugin {name!r}{_from(distribution)} breaks the carbonfoot hook "
                    f"specification: {exc}",
                    plugin=name,
                    distribution=distribution,
                )
                if strict:
                    raise error from exc
                errors.append(error)
                continue
            registered.append((name, distribution))
        collector = _Collector(errors, strict=strict)
        for name, distribution in registered:
            collector.collect(manager, name, distribution)
        return cls(
            modes=collector.mode_table(),
            factor_sets=collector.factor_sets,
            policies=collector.policies,
            policy_owners=collector.policy_owners,
            errors=collector.errors,
            plugins=[name for name, _ in registered if name not in collector.failed],
            default_policies=collector.default_policies,
            baselines=collector.baselines,
            baseline_owners=collector.baseline_owners,
            distance_providers=collector.providers,
        )

    # -- lookups --------------------------------------------------------------------

    def default_factor_set(self) -> str:
        """The factor set to use when none is named: the one a plugin registered as default."""
        marked = sorted(entry.name for entry in self.factor_sets.values() if entry.default)
        if len(marked) == 1:
            return marked[0]
        if not marked and len(self.factor_sets) == 1:
            return next(iter(self.factor_sets))
        choices = ", ".join(marked or sorted(self.factor_sets)) or "none installed"
        raise UnknownFactorSetError(
            f"no single default factor set ({choices}); name one with --factors"
        )

    def default_policy(self) -> str:
        """The credit policy to use when none is named: the one a plugin registered as default."""
        if len(self.default_policies) == 1:
            return self.default_policies[0]
        if not self.default_policies and len(self.policies) == 1:
            return next(iter(self.policies))
        choices = ", ".join(self.default_policies or sorted(self.policies)) or "none installed"
        raise UnknownPolicyError(
            f"no single default credit policy ({choices}); name one with --policy"
        )

    def factor_set(self, name: str | os.PathLike[str]) -> FactorSet:
        """The validated factor set ``name``, or the set in a ``.toml`` file at that path.

        Sets are read once and cached. A set that ``extends`` another finds it among the
        installed sets by name (or by a path relative to its own file).
        """
        key = str(name)
        loaded = self._loaded_sets.get(key)
        if loaded is not None:
            return loaded
        if key.endswith(".toml"):
            path = Path(key)
            if not path.is_file():
                raise UnknownFactorSetError(f"no factor-set file {path}")
            loaded = load_factor_set(path, find_parent=self._factor_set_path)
        else:
            loaded = load_factor_set(
                self._factor_set_path(key), expected_name=key, find_parent=self._factor_set_path
            )
        self._loaded_sets[key] = loaded
        return loaded

    def _factor_set_path(self, name: str) -> Path:
        entry = self.factor_sets.get(name)
        if entry is None:
            raise UnknownFactorSetError(
                f"unknown factor set {name!r}; installed: {', '.join(sorted(self.factor_sets)) or 'none'}"
            )
        return entry.path

    def policy(self, policy_id: str) -> PolicySpec:
        """The registered policy ``policy_id``."""
        spec = self.policies.get(policy_id)
        if spec is None:
            raise UnknownPolicyError(
                f"unknown credit policy {policy_id!r}; installed: {', '.join(sorted(self.policies)) or 'none'}"
            )
        return spec


class _Collector:
    """Calls each plugin's registration hooks on its own and checks what it registers."""

    def __init__(self, errors: list[PluginError], *, strict: bool) -> None:
        self.errors = errors
        self.strict = strict
        self.failed: set[str] = set()
        self.modes: list[Mode] = []
        self.mode_owners: dict[str, str] = {}
        self.factor_sets: dict[str, FactorSetEntry] = {}
        self.policies: dict[str, PolicySpec] = {}
        self.policy_owners: dict[str, str] = {}
        self.default_policies: list[str] = []
        self.baselines: dict[str, BaselineSpec] = {}
        self.baseline_owners: dict[str, str] = {}
        self.providers: list[DistanceProvider] = []

    def collect(self, manager: pluggy.PluginManager, name: str, distribution: str) -> None:
        plugin = manager.get_plugin(name)
        staged = _Staged()
        try:
            for hook_name, register in (
                ("register_modes", staged.mode),
                ("register_factor_sets", staged.factor_set),
                ("register_credit_policies", staged.policy),
                ("register_baselines", staged.baseline),
                ("register_distance_providers", staged.provider),
            ):
                for impl in getattr(manager.hook, hook_name).get_hookimpls():
                    if impl.plugin is plugin:
                        impl.function(register=register)
            self.accept(staged, name)
        except Exception as exc:
            self.failed.add(name)
            detail = str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
            error = PluginError(
                f"plugin {name!r}{_from(distribution)} registered something invalid: {detail}",
                plugin=name,
                distribution=distribution,
            )
            if self.strict:
                raise error from exc
            self.errors.append(error)

    def accept(self, staged: _Staged, name: str) -> None:
        """Check the plugin's contributions against everything accepted so far, then keep them."""
        accepted = ModeTable(self.modes)
        for mode in staged.modes:
            for label in (mode.id, *mode.aliases):
                clash = accepted.code_of(label)
                if clash != UNKNOWN_MODE:
                    other = accepted.modes[clash]
                    raise PluginError(
                        f"mode {mode.id!r}: label {label!r} already names mode {other.id!r} "
                        f"of plugin {self.mode_owners.get(other.id, '?')!r}"
                    )
        trial = [*self.modes, *staged.modes]
        try:
            ModeTable(trial)
        except ValueError as exc:  # a clash among this plugin's own modes
            raise PluginError(str(exc)) from None
        for set_name, _, _ in staged.factor_sets:
            if set_name in self.factor_sets:
                raise PluginError(
                    f"factor set {set_name!r} is already registered by plugin "
                    f"{self.factor_sets[set_name].plugin!r}"
                )
        for spec, _ in staged.policies:
            if spec.id in self.policies:
                raise PluginError(
                    f"credit policy {spec.id!r} is already registered by plugin "
                    f"{self.policy_owners[spec.id]!r}"
                )
        for baseline in staged.baselines:
            if baseline.id in self.baselines:
                raise PluginError(
                    f"baseline methodology {baseline.id!r} is already registered by plugin "
                    f"{self.baseline_owners[baseline.id]!r}"
                )
        taken = {provider.id for provider in self.providers}
        options = {
            parameter.name for provider in self.providers for parameter in provider.parameters
        }
        for provider in staged.providers:
            if provider.id in taken:
                raise PluginError(f"distance provider {provider.id!r} is already registered")
            shared = options & {parameter.name for parameter in provider.parameters}
            if shared:
                raise PluginError(
                    f"distance provider {provider.id!r}: option(s) {', '.join(sorted(shared))} already taken"
                )
        self.providers.extend(staged.providers)
        for baseline in staged.baselines:
            self.baselines[baseline.id] = baseline
            self.baseline_owners[baseline.id] = name
        self.modes = trial
        self.mode_owners.update({mode.id: name for mode in staged.modes})
        for set_name, path, default in staged.factor_sets:
            self.factor_sets[set_name] = FactorSetEntry(set_name, path, name, default)
        for spec, default in staged.policies:
            self.policies[spec.id] = spec
            self.policy_owners[spec.id] = name
            if default:
                self.default_policies.append(spec.id)

    def mode_table(self) -> ModeTable:
        return ModeTable(self.modes, self.mode_owners)


class _Staged:
    """What one plugin registers, type-checked as it comes in."""

    def __init__(self) -> None:
        self.modes: list[Mode] = []
        self.factor_sets: list[tuple[str, Path, bool]] = []
        self.policies: list[tuple[PolicySpec, bool]] = []
        self.baselines: list[BaselineSpec] = []
        self.providers: list[DistanceProvider] = []

    def mode(self, mode: Mode) -> None:
        if not isinstance(mode, Mode):
            raise PluginError(f"register_modes: expected a carbonfoot.Mode, got {mode!r}")
        self.modes.append(mode)

    def factor_set(self, name: str, path: str | os.PathLike[str], *, default: bool = False) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"register_factor_sets: the name must be text, got {name!r}")
        resolved = Path(path)
        if not resolved.is_file():
            raise PluginError(f"register_factor_sets: factor set {name!r}: no file at {resolved}")
        self.factor_sets.append((name, resolved, bool(default)))

    def policy(self, spec: PolicySpec, *, default: bool = False) -> None:
        if not isinstance(spec, PolicySpec):
            raise PluginError(
                f"register_credit_policies: expected a carbonfoot.PolicySpec, got {spec!r}"
            )
        self.policies.append((spec, bool(default)))

    def provider(self, provider: DistanceProvider) -> None:
        if not isinstance(provider, DistanceProvider):
            raise PluginError(
                f"register_distance_providers: expected a carbonfoot.DistanceProvider, got {provider!r}"
            )
        self.providers.append(provider)

    def baseline(self, spec: BaselineSpec) -> None:
        if not isinstance(spec, BaselineSpec):
            raise PluginError(
                f"register_baselines: expected a carbonfoot.BaselineSpec, got {spec!r}"
            )
        self.baselines.append(spec)


def _from(distribution: str) -> str:
    return f" (distribution {distribution})" if distribution else ""


def _allowed_names() -> set[str] | None:
    raw = os.environ.get(PLUGINS_ENV)
    if raw is None or not raw.strip():
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _entry_points() -> Iterable[metadata.EntryPoint]:
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


def _load_order(entry_point: metadata.EntryPoint) -> tuple[bool, str]:
    """carbonfoot's own plugins first, so a third party cannot displace a built-in mode or set."""
    dist = getattr(entry_point, "dist", None)
    return (dist is None or dist.name != "carbonfoot", entry_point.name)


def _distribution_name(entry_point: metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown"


@functools.cache
def default_catalog() -> Catalog:
    """The catalog of installed plugins, built once per process on first use."""
    return Catalog.from_entry_points()


def reset_default_catalog() -> None:
    """Forget the cached default catalog (after installing a plugin at run time)."""
    default_catalog.cache_clear()


def plugin_summary(catalog: Catalog) -> list[dict[str, Any]]:
    """One record per loaded plugin: what it contributed (for ``carbonfoot plugins``)."""
    rows: dict[str, dict[str, Any]] = {
        name: {"plugin": name, "modes": [], "factor_sets": [], "policies": [], "baselines": []}
        for name in catalog.plugins
    }
    for mode in catalog.modes.modes:
        owner = catalog.modes.owners.get(mode.id)
        if owner in rows:
            rows[owner]["modes"].append(mode.id)
    for entry in catalog.factor_sets.values():
        if entry.plugin in rows:
            rows[entry.plugin]["factor_sets"].append(entry.name)
    for policy_id, owner in catalog.policy_owners.items():
        if owner in rows:
            rows[owner]["policies"].append(policy_id)
    for baseline_id, owner in catalog.baseline_owners.items():
        if owner in rows:
            rows[owner]["baselines"].append(baseline_id)
    return list(rows.values())
