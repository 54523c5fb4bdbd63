"""Each trip's distance in kilometres: the ``distance`` column times its unit, else derived.

A distance is read with the one number grammar
(:data:`carbonfoot._kernels.strings.NUMBER_PATTERN`), converted once from the row's
``distance_unit`` (or the run's default unit) through the unit allowlist, and checked:
not a number, not finite, negative, zero, or longer than :data:`MAX_TRIP_KM` is a
``bad_distance``; an unknown unit a ``bad_unit``. A row whose ``distance`` is empty is
given to the distance providers (plugins), most precise first; what none can derive is
rejected with each provider's reason. :func:`trip_distance_km` reads one trip's distance
the same way, for :meth:`carbonfoot.Engine.trip`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.arrays import null_mask
from carbonfoot._kernels.strings import NUMBER_PATTERN, as_text, blank, decimal_numbers
from carbonfoot.distances import (
    DistanceAnswer,
    DistanceProvider,
    DistanceRequest,
    source_names,
)
from carbonfoot.errors import InputError, PluginError
from carbonfoot.intake.rejections import Rejections
from carbonfoot.modes import ModeTable
from carbonfoot.units import (
    DISTANCE_UNITS,
    describe_bad_distance_unit,
    distance_unit_to_km,
    km_per_unit,
    normalise_unit_spelling,
)

__all__ = ["MAX_TRIP_KM", "read_distances", "trip_distance_km"]

#: The longest distance one trip can cover on the ground: Earth's equatorial
#: circumference, 40,075.017 km (WGS 84 semi-major axis 6,378,137 m, NIMA TR8350.2).
#: Anything longer is a data error; it also keeps every product of the engine finite.
MAX_TRIP_KM: Final = 40_075.017

_NUMBER: Final = re.compile(NUMBER_PATTERN)
#: One trip's distance as text: a number, then (spaces or not) a unit that starts with a
#: letter (``km``, ``nautical miles``, ``公里``).
_DISTANCE_TEXT: Final = re.compile(
    r"\s*(?P<number>" + NUMBER_PATTERN.removeprefix("^").removesuffix("$") + r")"
    r"\s*(?P<unit>[^\W\d_][^\d]*?)?\s*"
)

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


def read_distances(
    column: Callable[[str], pa.Array],
    names: Mapping[str, str],
    size: int,
    default_unit: str,
    rejections: Rejections,
    *,
    providers: Sequence[DistanceProvider] = (),
    options: Mapping[str, Any] | None = None,
    modes: ModeTable,
    mode_code: npt.NDArray[np.int32],
) -> tuple[FloatArray, npt.NDArray[np.int8]]:
    """Each row's kilometres (NaN where rejected) and where it came from.

    The source is an index into :func:`carbonfoot.distances.source_names` of
    ``providers``: 0 for a distance given in the ``distance`` column, the code of the
    provider's label for a derived one, and -1 where there is none.
    """
    default_km = _default_unit_km(default_unit)
    provider_columns = {name for provider in providers for name in provider.columns}
    distance_column = column("distance") if "distance" in names else pa.nulls(size, pa.string())
    given = ~blank(distance_column)
    distance = _read_distance(distance_column, rejections, given if provider_columns else None)
    unit_km = _unit_factors(
        column("distance_unit") if "distance_unit" in names else None, default_km, rejections
    )
    with np.errstate(invalid="ignore", over="ignore"):
        distance_km = np.multiply(distance, unit_km)  # a new array: providers fill it in
    rejections.reject_value(
        rejections.ok & given & ~(distance_km <= MAX_TRIP_KM),
        "bad_distance",
        "distance",
        distance_column,
        f" is longer than {MAX_TRIP_KM:,} km, the Earth's circumference",
    )
    rejections.reject_value(
        rejections.ok & given & (distance_km == 0),
        "bad_distance",
        "distance",
        distance_column,
        " is too small: 0 km once converted to kilometres",
    )
    source = given.astype(np.int8) - np.int8(1)  # 0 (reported) where given, else -1
    if provider_columns:
        _derive_distances(
            providers,
            options or {},
            names,
            column,
            modes,
            mode_code,
            ~given,
            distance_km,
            source,
            rejections,
        )
    return distance_km, source


def trip_distance_km(distance: float | str, unit: str = "km") -> float:
    """One trip's distance in km: a number in ``unit``, or text such as ``"5.2 km"``,
    ``"5km"``, ``"5000m"``, ``"3.1 mi"`` or ``"5"`` (then in ``unit``).

    The unit is looked up in the allowlist (:data:`carbonfoot.units.DISTANCE_UNITS`) and
    converted with pint; the text itself never reaches pint's parser.
    Read as the batch path reads a row; a bad value raises :class:`InputError` with the
    status the same row would get.
    """
    if isinstance(distance, str):
        distance, unit = _number_and_unit(distance, unit)
    km = _checked_number(distance) * distance_unit_to_km(unit)
    if not km <= MAX_TRIP_KM:
        raise InputError(
            f"distance {km} km is longer than {MAX_TRIP_KM:,} km", status="bad_distance"
        )
    return km


def _number_and_unit(text: str, default_unit: str) -> tuple[str, str]:
    """``"5km"`` as ``("5", "km")``; ``"5"`` as ``("5", default_unit)``."""
    match = _DISTANCE_TEXT.fullmatch(text)
    if match is None:
        raise InputError(
            f"distance {text!r} is not a number with a unit, e.g. '5 km', '5000m' or '3.1 mi'",
            status="bad_distance",
        )
    return match["number"], match["unit"] or default_unit


def _checked_number(value: Any) -> float:
    """A distance as the batch path reads one: plain decimal text or a real number."""
    if isinstance(value, bool) or (isinstance(value, str) and not _NUMBER.fullmatch(value.strip())):
        raise InputError(f"distance {value!r} is not a number", status="bad_distance")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"distance {value!r} is not a number", status="bad_distance") from None
    if not math.isfinite(number):
        raise InputError(f"distance {value!r} is not finite", status="bad_distance")
    if number <= 0:
        raise InputError(f"distance {value!r} must be above zero", status="bad_distance")
    return number


def _read_distance(
    values: pa.Array, rejections: Rejections, given: BoolArray | None = None
) -> FloatArray:
    """The distance column as floats; non-numbers, non-finite, negative and zero rejected.

    With ``given`` (distance providers installed), empty cells are left to the providers.
    """
    size = len(values)
    text = values  # quoted as text only in the messages of rejected rows
    if (
        pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
        or pa.types.is_decimal(values.type)
    ):
        numbers = values.cast(pa.float64(), safe=False)
        numeric = ~null_mask(values)
    elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        numbers, numeric = decimal_numbers(values)
    else:
        numeric = np.zeros(size, dtype=np.bool_)
        numbers = pa.nulls(size, type=pa.float64())
    distance = np.asarray(
        numbers.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    with np.errstate(invalid="ignore"):
        if numbers.null_count == 0 and bool(np.all((distance > 0) & (distance < np.inf))):
            return distance  # every cell a positive finite number: nothing to reject
    empty = blank(text)
    if given is None:
        rejections.reject(empty, "bad_distance", "distance", "is empty")
    rejections.reject_value(~numeric & ~empty, "bad_distance", "distance", text, " is not a number")
    finite = np.isfinite(distance)
    rejections.reject_value(~finite & ~empty, "bad_distance", "distance", text, " is not finite")
    rejections.reject_value(
        finite & (distance < 0), "bad_distance", "distance", text, " is negative"
    )
    rejections.reject_value(distance == 0, "bad_distance", "distance", text, " is zero")
    return distance


def _default_unit_km(unit: str) -> float:
    try:
        return distance_unit_to_km(unit)
    except InputError as exc:
        raise InputError(f"default distance unit: {exc}", status="bad_unit") from None


def _unit_factors(
    values: pa.Array | None, default_km: float, rejections: Rejections
) -> FloatArray | np.float64:
    """Kilometres per unit for each row: its ``distance_unit`` if given, else the default.

    Spellings are looked up once per distinct value, never once per trip.
    """
    if values is None:
        return np.float64(default_km)
    text = as_text(values)
    encoded = pc.utf8_trim_whitespace(text).dictionary_encode()
    spellings: Sequence[str | None] = encoded.dictionary.to_pylist()
    factors = []
    messages = []
    for spelling in spellings:
        if spelling is None or spelling == "":
            factors.append(default_km)
            messages.append("")
            continue
        registry_unit = DISTANCE_UNITS.get(normalise_unit_spelling(spelling))
        factors.append(np.nan if registry_unit is None else km_per_unit(registry_unit))
        messages.append("" if registry_unit is not None else describe_bad_distance_unit(spelling))
    indices = encoded.indices.fill_null(len(spellings)).to_numpy(zero_copy_only=False)
    unit_km: FloatArray = np.array([*factors, default_km], dtype=np.float64)[indices]
    message_of_row = pa.array([*messages, ""], type=pa.string()).take(pa.array(indices))
    rejections.reject_messages(np.isnan(unit_km), "bad_unit", "distance_unit", message_of_row)
    return unit_km


def _label_offsets(
    provider: DistanceProvider, answer: DistanceAnswer, size: int
) -> npt.NDArray[np.int8]:
    """Which of the provider's labels each row's distance has (0: the first)."""
    if answer.sources is None:
        return np.zeros(size, dtype=np.int8)
    offsets = np.asarray(answer.sources, dtype=np.int8)
    if offsets.shape != (size,) or (
        offsets.size and (int(offsets.min()) < 0 or int(offsets.max()) >= len(provider.labels))
    ):
        raise ValueError(
            f"gave distance sources outside its {len(provider.labels)} labels {provider.labels}"
        )
    return offsets


def _limit_reasons(
    provider_id: str, km: FloatArray, detail: npt.NDArray[np.object_]
) -> npt.NDArray[np.object_]:
    """The reason of each derived distance that fails a limit, with its figure.

    NaN is the provider's "cannot derive" and keeps the provider's own reason; a number
    it did derive is rejected for the limit it fails, never for a generic reason.
    """
    figure = np.asarray(
        pc.cast(pc.round(pa.array(km), 3), pa.string()).fill_null("").to_pylist(), dtype=object
    )
    prefix = f"{provider_id}: the derived distance "
    with np.errstate(invalid="ignore"):
        for failed, reason in (
            (km == 0, np.full(km.size, "is zero", dtype=object)),
            (km < 0, figure + " km is negative"),
            (np.isinf(km), np.full(km.size, "is not finite", dtype=object)),
            (
                np.isfinite(km) & (km > MAX_TRIP_KM),
                figure + f" km is longer than {MAX_TRIP_KM:,} km, the Earth's circumference",
            ),
        ):
            detail = np.where(failed, prefix + reason, detail)
    return detail


def _derive_distances(
    providers: Sequence[DistanceProvider],
    options: Mapping[str, Any],
    names: Mapping[str, str],
    column: Callable[[str], pa.Array],
    modes: ModeTable,
    mode_code: npt.NDArray[np.int32],
    needed: BoolArray,
    distance_km: FloatArray,
    source: npt.NDArray[np.int8],
    rejections: Rejections,
) -> None:
    """Fill empty distances from the providers, most precise first; reject what is left."""
    needed = needed & rejections.ok
    if not needed.any():
        return  # every distance given: nothing to derive
    reasons = np.full(needed.size, None, dtype=object)
    mode_ids = np.asarray([*modes.ids, ""], dtype=object)
    code_of = {label: code for code, label in enumerate(source_names(providers))}
    for provider in providers:
        codes = np.array([code_of[label] for label in provider.labels], dtype=np.int8)
        if not needed.any() or not all(name in names for name in provider.columns):
            continue
        rows = np.flatnonzero(needed & ~blank(as_text(column(provider.columns[0]))))
        if rows.size == 0:
            continue
        take = pa.array(rows)
        request = DistanceRequest(
            columns={name: column(name).take(take) for name in provider.columns},
            mode_ids=mode_ids[mode_code[rows]],
            modes=modes,
            options=options,
            mode_codes=mode_code[rows],
        )
        try:
            answer = provider.derive(request)
            km = np.asarray(answer.km, dtype=np.float64)
            if km.shape != rows.shape:
                raise ValueError(f"returned {km.shape[0]} distances for {rows.size} rows")
            label = codes[_label_offsets(provider, answer, rows.size)]
        except InputError:
            raise
        except Exception as exc:
            raise PluginError(
                f"distance provider {provider.id!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        with np.errstate(invalid="ignore"):
            good = np.isfinite(km) & (km > 0) & (km <= MAX_TRIP_KM)
        distance_km[rows[good]] = km[good]
        source[rows[good]] = label[good]
        needed[rows[good]] = False
        failed = rows[~good]
        if failed.size:
            text = answer.reasons
            detail = (
                np.asarray(text.filter(pa.array(~good)).cast(pa.string()).to_pylist(), dtype=object)
                if isinstance(text, pa.Array)
                else np.full(failed.size, text)
            )
            detail = _limit_reasons(provider.id, km[~good], detail)
            reasons[failed] = [
                f"is empty and {provider.id}: {why}"
                if not str(why).startswith(provider.id)
                else f"is empty and {why}"
                for why in detail
            ]
    left = np.flatnonzero(needed)
    if left.size:
        messages = np.where(
            reasons[left] == None,  # noqa: E711 - elementwise test on an object array
            "is empty, and no steps, coordinates, polyline or stops give it",
            reasons[left],
        )
        full = pa.nulls(needed.size, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        full[left] = messages
        rejections.reject_messages(
            needed, "bad_distance", "distance", pa.array(full, type=pa.string())
        )
