"""API keys of the HTTP service, kept in the ledger database, and who reported a trip.

A partner app (a transit card, a bike share, the green shop) is registered once with a
name and its scopes; it gets a key, shown once, and the database keeps only the key's
SHA-256 digest. A slow password hash (bcrypt, scrypt) is not needed here: those exist to
make guessing a *low-entropy* secret costly, while a key is 32 bytes from the operating
system's CSPRNG (:func:`secrets.token_urlsafe`), 256 bits no one can guess with any hash.
A fast digest also lets every request be checked with one indexed lookup. A leaked
database therefore gives no usable key; a lost key is revoked and another created.

Which key reported a credited (or quarantined) trip is recorded in ``trip_reporters``,
keyed by trip id, written in the same transaction as the trip's entry
(:meth:`carbonfoot.ledger.Ledger.credit`'s ``reported_by``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Any, Final

from attrs import frozen

from carbonfoot.errors import InputError, LedgerError, unknown_message
from carbonfoot.ledger.store import Store

__all__ = [
    "KEY_PREFIX",
    "SCOPES",
    "ApiKey",
    "create_key",
    "find_key",
    "key_digest",
    "list_keys",
    "record_reporters",
    "reporters",
    "revoke_key",
]

#: What a key may do; ``admin`` covers reversals, recompute, verify and keys.
SCOPES: Final = (
    "trips:write",
    "quotes",
    "accounts:read",
    "redemptions:write",
    "reports:read",
    "admin",
)
#: Keys start with this, so a leaked one is recognisable by secret scanners.
KEY_PREFIX: Final = "cfk_"
#: Bytes of randomness in a key (256 bits).
KEY_BYTES: Final = 32
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@frozen
class ApiKey:
    """A registered key: its name, scopes, when made and (if so) when revoked."""

    name: str
    scopes: tuple[str, ...]
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def key_digest(key: str) -> str:
    """The SHA-256 hex digest stored for ``key`` (see the module docstring for why)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _checked_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if not scopes:
        raise InputError(f"a key needs at least one scope: {', '.join(SCOPES)}")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise InputError(
            "; ".join(
                unknown_message("scope", scope, SCOPES, known_as="scopes") for scope in unknown
            )
        )
    return tuple(sorted(set(scopes), key=SCOPES.index))


def create_key(store: Store, name: str, scopes: Sequence[str]) -> str:
    """Register ``name`` with ``scopes`` and return its new key (the only time it is seen).

    A name is used once, revoked or not, so a log line naming it stays unambiguous."""
    name = str(name).strip()
    if not _NAME.match(name):
        raise InputError(
            f"key name {name!r}: letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit"
        )
    chosen = _checked_scopes(scopes)
    key = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)

    def work(cursor: Any) -> None:
        if cursor.execute("SELECT 1 FROM api_keys WHERE name = ?", (name,)):
            raise LedgerError(f"a key named {name!r} exists already (names are not reused)")
        cursor.execute(
            "INSERT INTO api_keys (name, key_digest, scopes, created_at) VALUES (?, ?, ?, ?)",
            (name, key_digest(key), " ".join(chosen), _now()),
        )

    store.transaction(work)
    return key


def _key(row: Sequence[Any]) -> ApiKey:
    name, scopes, created, revoked = row
    return ApiKey(str(name), tuple(str(scopes).split()), str(created), revoked)


def list_keys(store: Store) -> list[ApiKey]:
    """Every registered key, by name (revoked ones too)."""
    with store.read() as cursor:
        found = cursor.execute(
            "SELECT name, scopes, created_at, revoked_at FROM api_keys ORDER BY name"
        )
    return [_key(row) for row in found]


def revoke_key(store: Store, name: str) -> ApiKey:
    """Revoke the key ``name`` from now on (revoking it again changes nothing)."""

    def work(cursor: Any) -> ApiKey:
        found = cursor.execute(
            "SELECT name, scopes, created_at, revoked_at FROM api_keys WHERE name = ?", (name,)
        )
        if not found:
            known = [row[0] for row in cursor.execute("SELECT name FROM api_keys ORDER BY name")]
            raise LedgerError(unknown_message("key", name, known, known_as="keys"))
        key = _key(found[0])
        if key.revoked_at is not None:
            return key
        when = _now()
        cursor.execute("UPDATE api_keys SET revoked_at = ? WHERE name = ?", (when, name))
        return ApiKey(key.name, key.scopes, key.created_at, when)

    return store.transaction(work)


def find_key(store: Store, key: str) -> ApiKey | None:
    """The active key whose digest matches ``key``; None for an unknown or revoked one."""
    if not key.startswith(KEY_PREFIX):
        return None
    with store.read() as cursor:
        found = cursor.execute(
            "SELECT name, scopes, created_at, revoked_at FROM api_keys WHERE key_digest = ?",
            (key_digest(key),),
        )
    if not found:
        return None
    record = _key(found[0])
    return record if record.active else None


def record_reporters(cursor: Any, trip_ids: Sequence[str], key_name: str) -> None:
    """Inside a credit's transaction: ``key_name`` reported these trips (first report kept)."""
    if trip_ids:
        when = _now()
        cursor.executemany(
            "INSERT INTO trip_reporters (trip_id, key_name, reported_at) VALUES (?, ?, ?) "
            "ON CONFLICT (trip_id) DO NOTHING",
            [(trip, key_name, when) for trip in trip_ids],
        )


def reporters(store: Store, trip_ids: Sequence[str]) -> dict[str, str]:
    """The key name that reported each of ``trip_ids`` (those with one)."""
    if not trip_ids:
        return {}
    with store.read() as cursor:
        condition, params = store.in_list("trip_id", list(trip_ids))
        found = cursor.execute(
            f"SELECT trip_id, key_name FROM trip_reporters WHERE {condition}", params
        )
    return {str(trip): str(name) for trip, name in found}
