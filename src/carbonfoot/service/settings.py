"""The service's settings: one frozen value, from the command line or the environment.

``carbonfoot serve`` builds :class:`ServiceSettings` from its options and config file; a
server started another way (``uvicorn --factory carbonfoot.service:app_from_env``, several
worker processes) reads the same settings from ``CARBONFOOT_*`` environment variables
(twelve-factor). ``CARBONFOOT_SERVICE_SETTINGS`` carries the whole value as JSON (what
``serve --workers N`` hands its workers); the single variables override it.

A mistyped setting is an error: a ``CARBONFOOT_`` variable whose name is close to a
setting's but not one (``CARBONFOOT_MAX_BODY_BYTE``) is refused by name, and every value
is checked for its type and range. The limits' defaults are bounds chosen for this
service, not published numbers: a 10 MiB body and 10,000 trips a batch keep one request
under a second of engine and ledger time on a small machine (benchmarks/README.md).
"""

from __future__ import annotations

import difflib
import json
import math
import os
from collections.abc import Mapping
from typing import Any, Final

from attrs import asdict, field, frozen

from carbonfoot.errors import InputError

__all__ = ["ENV_PREFIX", "SETTINGS_ENV", "ServiceSettings"]

ENV_PREFIX: Final = "CARBONFOOT_"
SETTINGS_ENV: Final = "CARBONFOOT_SERVICE_SETTINGS"
#: Bounds chosen for this service (see the module docstring); no publication sets them.
DEFAULT_MAX_BODY_BYTES: Final = 10 * 1024 * 1024
DEFAULT_MAX_BATCH_TRIPS: Final = 10_000
DEFAULT_POOL_SIZE: Final = 4
MAX_PAGE: Final = 500
#: Variables other parts of carbonfoot read: not the service's, and not typos of its.
_OTHERS: Final = frozenset(
    {"CARBONFOOT_PLUGINS", "CARBONFOOT_REQUIRE_POSTGRES", "CARBONFOOT_BENCH_RESULTS"}
)


def _mapping(value: Any) -> dict[str, str]:
    return {str(name): str(item) for name, item in dict(value or {}).items()}


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (value or ()))


@frozen
class ServiceSettings:
    """What one service instance runs with.

    ``database``: a SQLite path or a ``postgresql://`` URL (None: ``CARBONFOOT_DATABASE_URL``,
    else ``carbonfoot-ledger.db``). The engine options are :class:`carbonfoot.Engine`'s; with
    none of them the ledger's recorded settings pay (as ``ledger credit`` without options).
    ``pool_size`` ledger connections serve requests at once; ``max_body_bytes`` and
    ``max_batch_trips`` bound one request (413 beyond); ``cors_origins`` are the web
    front ends allowed to call the service from a browser; ``rate_limit`` (requests a
    second per key, 0: none) and ``rate_burst`` (default: the rate, at least 1) bound
    each key (429 beyond, :mod:`carbonfoot.service.limits`).
    """

    database: str | None = None
    factors: str | None = None
    baseline: str | None = None
    baseline_params: dict[str, str] = field(factory=dict, converter=_mapping)
    policy: str | None = None
    policy_params: dict[str, str] = field(factory=dict, converter=_mapping)
    distance_options: dict[str, str] = field(factory=dict, converter=_mapping)
    plausibility: dict[str, Any] | None = None
    fold_id_case: bool = False
    distance_unit: str = "km"
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_batch_trips: int = DEFAULT_MAX_BATCH_TRIPS
    pool_size: int = DEFAULT_POOL_SIZE
    cors_origins: tuple[str, ...] = field(default=(), converter=_texts)
    rate_limit: float = 0.0
    rate_burst: int = 0

    def __attrs_post_init__(self) -> None:
        for name in ("max_body_bytes", "max_batch_trips", "pool_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(
                    f"service setting {name} must be a whole number >= 1, got {value!r}"
                )
        if isinstance(self.rate_limit, bool) or not isinstance(self.rate_limit, int | float):
            raise InputError(
                f"service setting rate_limit must be a number, got {self.rate_limit!r}"
            )
        if not (self.rate_limit >= 0 and math.isfinite(self.rate_limit)):
            raise InputError(f"service setting rate_limit must be >= 0, got {self.rate_limit!r}")
        if (
            isinstance(self.rate_burst, bool)
            or not isinstance(self.rate_burst, int)
            or self.rate_burst < 0
        ):
            raise InputError(
                f"service setting rate_burst must be a whole number >= 0, got {self.rate_burst!r}"
            )
        if not isinstance(self.fold_id_case, bool):
            raise InputError(
                f"service setting fold_id_case must be true or false, got {self.fold_id_case!r}"
            )

    @property
    def engine_options(self) -> dict[str, Any] | None:
        """Keyword arguments for :class:`carbonfoot.Engine`; None when none was given."""
        options: dict[str, Any] = {
            "baseline": self.baseline,
            "baseline_params": self.baseline_params,
            "policy": self.policy,
            "policy_params": self.policy_params,
            "distance_options": self.distance_options,
            "plausibility": self.plausibility,
            "fold_id_case": self.fold_id_case,
        }
        if self.factors is None and not any(options.values()):
            return None
        return {"factors": self.factors, **options}

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ServiceSettings:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{SETTINGS_ENV} is not JSON ({exc})") from None
        if not isinstance(values, dict):
            raise InputError(f"{SETTINGS_ENV} must be a JSON object")
        return cls._of(values, SETTINGS_ENV)

    @classmethod
    def _of(cls, values: Mapping[str, Any], where: str) -> ServiceSettings:
        known = _FIELDS
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise InputError(
                f"{where}: unknown service setting(s) {', '.join(unknown)}; known: {', '.join(known)}"
            )
        try:
            return cls(**values)
        except TypeError as exc:
            raise InputError(f"{where}: {exc}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceSettings:
        """Settings from ``CARBONFOOT_*`` variables (see the module docstring)."""
        env = os.environ if environ is None else environ
        base = cls.from_json(env[SETTINGS_ENV]) if env.get(SETTINGS_ENV) else cls()
        values = asdict(base)
        names = {f"{ENV_PREFIX}{name.upper()}": name for name in _FIELDS}
        names["CARBONFOOT_DATABASE_URL"] = "database"
        del names["CARBONFOOT_DATABASE"]
        for variable, text in env.items():
            if (
                not variable.startswith(ENV_PREFIX)
                or variable in _OTHERS
                or variable == SETTINGS_ENV
            ):
                continue
            name = names.get(variable)
            if name is None:
                close = difflib.get_close_matches(variable, list(names), n=1, cutoff=0.85)
                if close:
                    raise InputError(f"unknown setting {variable} (did you mean {close[0]}?)")
                continue
            values[name] = _parsed(name, variable, text)
        return cls._of(values, "environment")


_FIELDS: Final = (
    "database",
    "factors",
    "baseline",
    "baseline_params",
    "policy",
    "policy_params",
    "distance_options",
    "plausibility",
    "fold_id_case",
    "distance_unit",
    "max_body_bytes",
    "max_batch_trips",
    "pool_size",
    "cors_origins",
    "rate_limit",
    "rate_burst",
)


def _parsed(name: str, variable: str, text: str) -> Any:
    """One environment variable's text as the setting's type."""
    text = text.strip()
    if name == "rate_limit":
        try:
            rate = float(text)
        except ValueError:
            raise InputError(f"{variable}={text!r} must be a number of requests a second") from None
        if not (rate >= 0 and math.isfinite(rate)):
            raise InputError(f"{variable}={text!r} must be >= 0")
        return rate
    if name in ("max_body_bytes", "max_batch_trips", "pool_size", "rate_burst"):
        if not text.isascii() or not text.isdigit():
            raise InputError(f"{variable}={text!r} must be a whole number")
        return int(text)
    if name == "fold_id_case":
        if text.lower() not in ("true", "false", "1", "0"):
            raise InputError(f"{variable}={text!r} must be true or false")
        return text.lower() in ("true", "1")
    if name in ("baseline_params", "policy_params", "distance_options"):
        pairs = {}
        for pair in filter(None, (part.strip() for part in text.split(","))):
            key, sep, value = pair.partition("=")
            if not sep or not key.strip():
                raise InputError(f"{variable}: {pair!r} is not NAME=VALUE")
            pairs[key.strip()] = value.strip()
        return pairs
    if name == "plausibility":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"{variable} must be a JSON object ({exc})") from None
        if not isinstance(value, dict):
            raise InputError(f"{variable} must be a JSON object")
        return value
    if name == "cors_origins":
        return tuple(filter(None, (part.strip() for part in text.split(","))))
    return text or None
