"""Errors as RFC 9457 problem details (``application/problem+json``), with stable codes.

Every error response is one JSON object: ``type`` (a stable code from :data:`TYPES`, a
relative URI reference as RFC 9457 allows), ``title``, ``status``, ``detail`` and the
request's ``request_id``; some add a field (``scope`` for 403, ``errors`` for 422). A
library error maps to its problem by kind (:func:`problem_of`): the face adds no rule,
it only names what the library said. A bad row in a batch is a result, never a problem.
"""

from __future__ import annotations

import json
from typing import Any, Final

from carbonfoot.errors import (
    CarbonfootError,
    InsufficientBalanceError,
    LedgerError,
    RequestConflictError,
    TripConflictError,
    UnknownTripError,
)

__all__ = ["PROBLEM_JSON", "TYPES", "Problem", "problem_body", "problem_of"]

PROBLEM_JSON: Final = "application/problem+json"

#: type code -> (HTTP status, title).
TYPES: Final = {
    "invalid-request": (400, "The request is not valid"),
    "unauthorized": (401, "A valid API key is needed"),
    "forbidden": (403, "The API key lacks a scope"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "trip-conflict": (409, "A trip was credited before with other content"),
    "idempotency-conflict": (409, "The Idempotency-Key was used with another request"),
    "insufficient-balance": (409, "The balance is too small"),
    "payload-too-large": (413, "The request is too large"),
    "rate-limited": (429, "Too many requests"),
    "internal-error": (500, "Internal error"),
    "ledger-unavailable": (503, "The ledger cannot serve the request now"),
}


class Problem(Exception):  # noqa: N818 - a response, raised to end a request
    """A problem to answer with: its type code, detail, and any extra fields."""

    def __init__(
        self,
        type_: str,
        detail: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        if type_ not in TYPES:
            raise ValueError(f"unknown problem type {type_!r}")
        self.type = type_
        self.status = status if status is not None else TYPES[type_][0]
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem_of(error: CarbonfootError) -> Problem:
    """The problem a library error is, by its kind."""
    if isinstance(error, InsufficientBalanceError):
        return Problem("insufficient-balance", str(error))
    if isinstance(error, RequestConflictError):
        return Problem("idempotency-conflict", str(error))
    if isinstance(error, TripConflictError):
        return Problem("trip-conflict", str(error), conflicts=[t for t, _ in error.conflicts])
    if isinstance(error, UnknownTripError):
        return Problem("not-found", str(error))
    if isinstance(error, LedgerError):
        return Problem("ledger-unavailable", str(error))
    return Problem("invalid-request", str(error))


def problem_body(problem: Problem, request_id: str) -> bytes:
    """The JSON body of ``problem``."""
    body = {
        "type": problem.type,
        "title": TYPES[problem.type][1],
        "status": problem.status,
        "detail": problem.detail,
        "request_id": request_id,
        **problem.extra,
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
