"""The plugin manager: finds plugins, asks them once what they contribute, isolates failures.

Plugins are found through the ``carbonfoot`` entry-point group (the built-ins too) and
loaded lazily, the first time a catalog is needed, never at import time. Each plugin's
hook implementations are called one by one, so a plugin that fails to import, breaks
its hook specification, raises, or registers something malformed is reported as a
:class:`PluginError` naming it and its distribution, while the other plugins keep
working. ``strict=True`` raises the first such error instead.

Every hook of :mod:`carbonfoot.hookspecs` has one row in :data:`HOOKS`: what its
``register`` callback takes, the type it checks, the key that must be unique, whether a
registration may be offered as the default, and any further check against what other
plugins registered. One mechanism (:class:`Registry`) keeps each kind with the plugin
that registered it; adding a hook is one spec and one row.

``CARBONFOOT_PLUGINS`` (comma-separated entry-point names) restricts which installed
plugins load, e.g. to reproduce a result with only the built-ins.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, TypeVar

import pluggy
from attrs import frozen

from carbonfoot import hookspecs
from carbonfoot.baselines import BaselineSpec
from carbonfoot.distances import DistanceProvider
from carbonfoot.errors import (
    PluginError,
    UnknownFactorSetError,
    UnknownPolicyError,
    unknown_message,
)
from carbonfoot.factors import FactorSet, load_factor_set
from carbonfoot.modes import UNKNOWN_MODE, Mode, ModeTable
from carbonfoot.policies import PolicySpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOKS",
    "Catalog",
    "FactorSetEntry",
    "HookRow",
    "Registered",
    "Registry",
    "default_catalog",
    "plugin_summary",
]

ENTRY_POINT_GROUP = "carbonfoot"
PLUGINS_ENV = "CARBONFOOT_PLUGINS"

T = TypeVar("T")


@frozen
class FactorSetEntry:
    """A registered factor-set file, not yet read."""

    name: str
    path: Path


@frozen
class Registered(Generic[T]):
    """One thing a plugin registered: the value, the plugin, and whether it is offered as
    the default of its kind."""

    value: T
    owner: str
    default: bool = False


@frozen
class HookRow(Generic[T]):
    """How one registration hook's contributions are taken in.

    ``stage(*args, **kwargs)`` turns the arguments of the hook's ``register`` callback into
    ``(value, default)``, refusing malformed ones; ``key`` names a value, unique across
    plugins; ``check(value, registry)`` refuses a value that clashes with what is already
    registered in other ways (a mode alias, a provider option).
    """

    hook: str
    kind: str
    noun: str
    stage: Callable[..., tuple[T, bool]]
    key: Callable[[T], str]
    check: Callable[[T, Registry[T], str], None] | None = None


class Registry(Generic[T]):
    """Everything of one kind the plugins registered, in registration order, by key."""

    def __init__(self, row: HookRow[T]) -> None:
        self.row = row
        self.entries: dict[str, Registered[T]] = {}

    def values(self) -> list[T]:
        return [entry.value for entry in self.entries.values()]

    def owners(self) -> dict[str, str]:
        """Each key's plugin."""
        return {key: entry.owner for key, entry in self.entries.items()}

    def defaults(self) -> list[str]:
        """The keys offered as the default, in registration order."""
        return [key for key, entry in self.entries.items() if entry.default]

    def accept(self, staged: list[tuple[T, bool]], owner: str) -> None:
        """Check one plugin's contributions against everything accepted so far (and each
        other), then keep them; a refusal keeps none of them."""
        trial = Registry(self.row)
        trial.entries = dict(self.entries)
        for value, default in staged:
            key = self.row.key(value)
            if key in trial.entries:
                raise PluginError(
                    f"{self.row.noun} {key!r} is already registered by plugin "
                    f"{trial.entries[key].owner!r}"
                )
            if self.row.check is not None:
                self.row.check(value, trial, owner)
            trial.entries[key] = Registered(value, owner, default)
        self.entries = trial.entries


# -- how each hook's register callback is read -------------------------------------------


def _instance_of(kind: type[T], hook: str, name: str) -> Callable[..., tuple[T, bool]]:
    """``register(value)`` (and ``default=`` if the hook offers defaults) of one type."""

    def stage(value: Any, **options: Any) -> tuple[T, bool]:
        if not isinstance(value, kind):
            raise PluginError(f"{hook}: expected a carbonfoot.{name}, got {value!r}")
        unknown = set(options) - {"default"}
        if unknown:
            raise PluginError(f"{hook}: unexpected argument(s) {', '.join(sorted(unknown))}")
        return value, bool(options.get("default", False))

    return stage


def _factor_set(
    name: str, path: str | os.PathLike[str], *, default: bool = False
) -> tuple[FactorSetEntry, bool]:
    if not isinstance(name, str) or not name:
        raise PluginError(f"register_factor_sets: the name must be text, got {name!r}")
    resolved = Path(path)
    if not resolved.is_file():
        raise PluginError(f"register_factor_sets: factor set {name!r}: no file at {resolved}")
    return FactorSetEntry(name, resolved), bool(default)


def _mode_labels_are_free(mode: Mode, registry: Registry[Mode], owner: str) -> None:
    """A mode's id and aliases may not name a mode another plugin registered."""
    accepted = ModeTable(registry.values())
    for label in (mode.id, *mode.aliases):
        clash = accepted.code_of(label)
        if clash != UNKNOWN_MODE:
            other = accepted.modes[clash].id
            raise PluginError(
                f"mode {mode.id!r}: label {label!r} already names mode {other!r} "
                f"of plugin {registry.entries[other].owner!r}"
            )
    try:
        ModeTable([*registry.values(), mode])
    except ValueError as exc:  # a clash among the mode's own labels
        raise PluginError(str(exc)) from None


def _options_are_free(
    provider: DistanceProvider, registry: Registry[DistanceProvider], owner: str
) -> None:
    """Provider options share one namespace (``--distance-option NAME=VALUE``): none may be
    taken twice. ``distance_source`` labels one column: a label is one plugin's, and
    within a plugin, one provider's, except that the id of one of its providers may be
    named in the ``sources`` of another, so that two ways of reading the same kind of data
    share it (GPS positions from start and end coordinates or from a GPX file: ``gps``)."""
    taken = {parameter.name for other in registry.values() for parameter in other.parameters}
    shared = taken & {parameter.name for parameter in provider.parameters}
    if shared:
        raise PluginError(
            f"distance provider {provider.id!r}: option(s) {', '.join(sorted(shared))} already taken"
        )
    labels = {label for other in registry.values() for label in other.labels} | {"reported"}
    own = [entry.value for entry in registry.entries.values() if entry.owner == owner]
    shareable = ({other.id for other in own} | {provider.id}) - {"reported"}
    clash = labels & set(provider.labels)
    clash -= {label for label in clash & shareable if _given_only_by(label, own, registry)}
    if clash or len(set(provider.labels)) != len(provider.labels):
        raise PluginError(
            f"distance provider {provider.id!r}: distance_source label(s) "
            f"{', '.join(sorted(clash) or provider.labels)} already taken"
        )


def _given_only_by(
    label: str, own: list[DistanceProvider], registry: Registry[DistanceProvider]
) -> bool:
    """Whether every provider already giving ``label`` is one of ``own``."""
    return all(other in own for other in registry.values() if label in other.labels)


#: One row per hook of :mod:`carbonfoot.hookspecs`, in the order plugins are asked.
HOOKS: tuple[HookRow[Any], ...] = (
    HookRow(
        "register_modes",
        "modes",
        "mode",
        _instance_of(Mode, "register_modes", "Mode"),
        key=lambda mode: mode.id,
        check=_mode_labels_are_free,
    ),
    HookRow(
        "register_factor_sets",
        "factor_sets",
        "factor set",
        _factor_set,
        key=lambda entry: entry.name,
    ),
    HookRow(
        "register_credit_policies",
        "policies",
        "credit policy",
        _instance_of(PolicySpec, "register_credit_policies", "PolicySpec"),
        key=lambda spec: spec.id,
    ),
    HookRow(
        "register_baselines",
        "baselines",
        "baseline methodology",
        _instance_of(BaselineSpec, "register_baselines", "BaselineSpec"),
        key=lambda spec: spec.id,
    ),
    HookRow(
        "register_distance_providers",
        "distance_providers",
        "distance provider",
        _instance_of(DistanceProvider, "register_distance_providers", "DistanceProvider"),
        key=lambda provider: provider.id,
        check=_options_are_free,
    ),
)


class Catalog:
    """Everything the installed plugins contribute: modes, factor sets, policies,
    baselines and distance providers, each with the plugin that registered it.

    Build it with :meth:`from_entry_points` (what is installed) or :meth:`from_plugins`
    (explicit plugin objects, e.g. in tests or a service that pins its plugins).
    ``errors`` lists the plugins that were skipped, with why.
    """

    def __init__(
        self,
        registries: Mapping[str, Registry[Any]],
        errors: Iterable[PluginError],
        plugins: Iterable[str],
    ) -> None:
        self.registries = {row.kind: registries.get(row.kind) or Registry(row) for row in HOOKS}
        self.errors = tuple(errors)
        self.plugins = tuple(plugins)
        modes = self.registries["modes"]
        self.modes = ModeTable(modes.values(), modes.owners())
        self.factor_sets: dict[str, FactorSetEntry] = {
            entry.name: entry for entry in self.registries["factor_sets"].values()
        }
        self.policies: dict[str, PolicySpec] = {
            spec.id: spec for spec in self.registries["policies"].values()
        }
        self.baselines: dict[str, BaselineSpec] = {
            spec.id: spec for spec in self.registries["baselines"].values()
        }
        self.distance_providers = tuple(
            sorted(self.registries["distance_providers"].values(), key=lambda p: (p.priority, p.id))
        )
        self.default_policies = tuple(self.registries["policies"].defaults())
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
        registries: dict[str, Registry[Any]] = {row.kind: Registry(row) for row in HOOKS}
        kept = []
        for name, distribution in registered:
            try:
                _collect(manager, name, registries)
            except Exception as exc:
                detail = (
                    str(exc) if isinstance(exc, PluginError) else f"{type(exc).__name__}: {exc}"
                )
                error = PluginError(
                    f"plugin {name!r}{_from(distribution)} registered something invalid: {detail}",
                    plugin=name,
                    distribution=distribution,
                )
                if strict:
                    raise error from exc
                errors.append(error)
                continue
            kept.append(name)
        return cls(registries, errors, kept)

    # -- lookups --------------------------------------------------------------------

    def owner(self, kind: str, key: str) -> str:
        """The plugin that registered ``key`` of ``kind`` (a :data:`HOOKS` kind), or ''."""
        entry = self.registries[kind].entries.get(key)
        return entry.owner if entry is not None else ""

    def default_factor_set(self) -> str:
        """The factor set to use when none is named: the one a plugin registered as default."""
        marked = sorted(self.registries["factor_sets"].defaults())
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
                unknown_message("factor set", name, sorted(self.factor_sets))
            )
        return entry.path

    def policy(self, policy_id: str) -> PolicySpec:
        """The registered policy ``policy_id``."""
        spec = self.policies.get(policy_id)
        if spec is None:
            raise UnknownPolicyError(
                unknown_message("credit policy", policy_id, sorted(self.policies))
            )
        return spec


def _collect(
    manager: pluggy.PluginManager, name: str, registries: dict[str, Registry[Any]]
) -> None:
    """Ask one plugin, hook by hook, what it contributes; keep all of it or nothing.

    The plugin's implementations are called directly (not through ``manager.hook``) so
    that one plugin's failure is its own: pluggy would call every plugin's implementation
    in one go.
    """
    plugin = manager.get_plugin(name)
    staged: dict[str, list[tuple[Any, bool]]] = {row.kind: [] for row in HOOKS}
    for row in HOOKS:

        def register(*args: Any, _row: HookRow[Any] = row, **kwargs: Any) -> None:
            staged[_row.kind].append(_row.stage(*args, **kwargs))

        for impl in getattr(manager.hook, row.hook).get_hookimpls():
            if impl.plugin is plugin:
                impl.function(register=register)
    trial = {kind: Registry(registry.row) for kind, registry in registries.items()}
    for row in HOOKS:
        trial[row.kind].entries = dict(registries[row.kind].entries)
        trial[row.kind].accept(staged[row.kind], name)
    for kind, registry in trial.items():
        registries[kind].entries = registry.entries


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
    """One record per loaded plugin: what it contributed of each kind (for ``carbonfoot
    plugins``): ``{"plugin": name, "modes": [...], "factor_sets": [...], ...}``."""
    rows: dict[str, dict[str, Any]] = {
        name: {"plugin": name, **{row.kind: [] for row in HOOKS}} for name in catalog.plugins
    }
    for kind, registry in catalog.registries.items():
        for key, entry in registry.entries.items():
            if entry.owner in rows:
                rows[entry.owner][kind].append(key)
    return list(rows.values())
