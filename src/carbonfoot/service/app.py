"""The FastAPI application: each route one library call, rendered as JSON.

:func:`create_app` builds the application for a :class:`ServiceSettings` (a pool of
ledgers on the database, one engine); :func:`app_from_env` does so from ``CARBONFOOT_*``
variables, for ASGI servers and worker processes (``uvicorn --factory``). The routes hold
no rule: crediting, replay, caps, conflicts, redemption and reversal are the ledger's
(:class:`carbonfoot.ledger.Ledger`), numbers the engine's, keys the ledger database's
(:mod:`carbonfoot.ledger.keys`). Every request but ``/healthz``, ``/readyz`` and the
OpenAPI document and its pages needs ``Authorization: Bearer KEY``; each route names the
scope it needs (catalog reads and ``explain`` need only a valid key).
"""

import base64
import binascii
import datetime as dt
import json
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final

import pyarrow as pa
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonfoot.errors import CarbonfootError, LedgerError
from carbonfoot.ledger import ApiKey, find_key
from carbonfoot.money import to_value
from carbonfoot.research.explain import explain_trip
from carbonfoot.service import models as m
from carbonfoot.service.limits import RateLimiter
from carbonfoot.service.metrics import Metrics
from carbonfoot.service.pool import LedgerPool
from carbonfoot.service.problems import PROBLEM_JSON, Problem, problem_body, problem_of
from carbonfoot.service.settings import MAX_PAGE, ServiceSettings

__all__ = ["app_from_env", "create_app"]

LOG = logging.getLogger("carbonfoot.service")
ACCESS = logging.getLogger("carbonfoot.service.access")
#: The optional trip columns a batch sends only when some trip has them.
OPTIONAL_COLUMNS: Final = ("distance_unit", "ended_at", "district")

Scope = Any  # an ASGI scope
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _TooLarge(Exception):  # noqa: N818 - a signal inside the middleware
    pass


def _problem_response(problem: Problem, request_id: str) -> Response:
    return Response(
        problem_body(problem, request_id),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


class ServiceMiddleware:
    """Around every request: its id, the body limit, metrics, one JSON log line, and the
    last error boundary (an unexpected error is logged with the request id and answered
    as a 500 problem carrying that id, never a traceback)."""

    def __init__(self, app: Any, *, max_body_bytes: int, metrics: Metrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 64 and given.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 0, "sent": False}

        too_large = Problem(
            "payload-too-large", f"the request body is over {self.max_body_bytes} bytes"
        )
        over = {"limit": False, "replaced": False}

        async def sending(message: MutableMapping[str, Any]) -> None:
            if over["replaced"]:
                return  # the application's answer to a body cut short is dropped
            if over["limit"] and message["type"] == "http.response.start":
                # The framework may have caught the cut itself (as a parse error): the
                # answer is still that the body was too large.
                over["replaced"] = True
                await _problem_response(too_large, request_id)(scope, receive, forward)
                return
            await forward(message)

        async def forward(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
                status["sent"] = True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = 0

        async def receiving() -> MutableMapping[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    over["limit"] = True
                    raise _TooLarge
            return message

        try:
            length = headers.get(b"content-length", b"")
            if length.isdigit() and int(length) > self.max_body_bytes:
                await _problem_response(too_large, request_id)(scope, receive, sending)
            else:
                await self.app(scope, receiving, sending)
        except _TooLarge:
            if not status["sent"]:
                over["replaced"] = True
                await _problem_response(too_large, request_id)(scope, receive, forward)
        except Exception:
            LOG.exception("unexpected error", extra={"request_id": request_id})
            if not status["sent"]:
                problem = Problem(
                    "internal-error",
                    f"an unexpected error; the service's log has it under request id {request_id}",
                )
                await _problem_response(problem, request_id)(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.request(route, scope["method"], status["code"] or 500, seconds)
            ACCESS.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status["code"] or 500,
                    "duration_ms": round(seconds * 1000, 3),
                    "key": scope["state"].get("key_name"),
                },
            )


# -- rendering ---------------------------------------------------------------------------


def _money(value: Any) -> str | None:
    return None if value is None else str(value)


def _iso_time(moment: dt.datetime | None) -> str | None:
    """A ledger time (a UTC datetime) as ISO 8601."""
    return None if moment is None else moment.isoformat()


def _trip_columns(trips: list[m.TripIn]) -> pa.Table:
    """The batch as the engine's input table (columns in, as ``calc`` reads a file)."""
    records = [trip.model_dump() for trip in trips]  # the JSON boundary: one dict a trip
    names = ["trip_id", "user_id", "mode", "distance", "started_at"]
    extra: list[str] = []
    for record in records:
        extra.extend(name for name in record if name not in names and name not in extra)
    columns: dict[str, pa.Array] = {}
    for name in names + extra:
        values = [record.get(name) for record in records]
        if name not in names and all(value is None for value in values):
            continue
        columns[name] = _column(name, values)
    return pa.table(columns)


def _column(name: str, values: list[Any]) -> pa.Array:
    if name == "distance" and any(isinstance(value, str) for value in values):
        values = [None if value is None else str(value) for value in values]
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if value is None else str(value) for value in values])


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _seq_of(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, number = text.partition(":")
    if kind != "seq" or not number.isascii() or not number.isdigit():
        raise Problem("invalid-request", f"cursor {cursor!r} is not one this service gave")
    return int(number)


def _entry(record: dict[str, Any]) -> m.EntryOut:
    day = record.get("local_day")
    return m.EntryOut(
        entry_id=record["entry_id"],
        kind=record["kind"],
        account=record["account"],
        amount=str(record["amount"]),
        trip_id=record.get("trip_id"),
        request_id=record.get("request_id"),
        item=record.get("item"),
        corrects=record.get("corrects"),
        credit_day=None if day is None else day.isoformat(),
        mode=record.get("mode"),
        distance_km=record.get("distance_km"),
        started_at=_iso_time(record.get("started_at")),
        district=record.get("district"),
        status=record.get("status"),
        note=record.get("note"),
    )


def _parameters(parameters: Any) -> list[m.ParameterOut]:
    return [
        m.ParameterOut(
            name=p.name,
            default=None if p.default is None else str(p.default),
            description=p.description,
        )
        for p in parameters
    ]


# -- the application ---------------------------------------------------------------------

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.ProblemOut, "description": "a problem (RFC 9457)"}
    for code in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
}


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The service for ``settings`` (default: from the environment)."""
    settings = settings if settings is not None else ServiceSettings.from_env()
    pool = LedgerPool(settings)
    metrics = Metrics()
    limiter = (
        RateLimiter(
            settings.rate_limit, settings.rate_burst or max(1, math.ceil(settings.rate_limit))
        )
        if settings.rate_limit > 0
        else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="carbonfoot",
        summary="Low-carbon trips in, CO2 savings and green credits out, issued exactly once.",
        version=_version(),
        lifespan=lifespan,
        responses=_PROBLEMS,
    )
    app.state.pool = pool
    app.state.metrics = metrics
    bearer = HTTPBearer(auto_error=False, description="An API key from `carbonfoot keys create`.")

    def request_id(request: Request) -> str:
        return str(getattr(request.state, "request_id", "") or uuid.uuid4().hex)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        if exc.type == "ledger-unavailable":
            metrics.ledger_error()
        return _problem_response(exc, request_id(request))

    async def on_library(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CarbonfootError)
        return await on_problem(request, problem_of(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "field": ".".join(str(part) for part in error.get("loc", ())),
                "message": str(error.get("msg", "")),
            }
            for error in exc.errors()
        ]
        named = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
        problem = Problem("invalid-request", named or "invalid request", status=422, errors=errors)
        return _problem_response(problem, request_id(request))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        kinds = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}
        problem = Problem(
            kinds.get(exc.status_code, "invalid-request"),
            str(exc.detail),
            status=exc.status_code,
            headers=dict(exc.headers or {}),
        )
        return _problem_response(problem, request_id(request))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(CarbonfootError, on_library)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)

    def authorized(scope: str | None) -> Callable[..., ApiKey]:
        def check(
            request: Request,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> ApiKey:
            if credentials is None or credentials.scheme.lower() != "bearer":
                raise Problem(
                    "unauthorized",
                    "send an API key as Authorization: Bearer KEY",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            with pool.ledger() as ledger:
                key = find_key(ledger.store, credentials.credentials)
            if key is None:
                raise Problem(
                    "unauthorized",
                    "the API key is unknown or revoked",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
            request.state.key_name = key.name
            wait = 0.0 if limiter is None else limiter.wait(key.name)
            if wait > 0:
                raise Problem(
                    "rate-limited",
                    f"the key {key.name!r} is over {settings.rate_limit:g} requests a second",
                    headers={"Retry-After": RateLimiter.retry_after(wait)},
                )
            if scope is not None and scope not in key.scopes:
                raise Problem(
                    "forbidden", f"the key {key.name!r} lacks the scope {scope!r}", scope=scope
                )
            return key

        return check

    any_key = Depends(authorized(None))
    router = APIRouter()

    @router.get("/healthz", tags=["operations"])
    def healthz() -> m.HealthOut:
        """The process is up."""
        return m.HealthOut(status="ok")

    @router.get("/readyz", tags=["operations"])
    def readyz() -> m.HealthOut:
        """The database answers and its schema is the one this service writes (else 503)."""
        try:
            why = pool.ready()
        except LedgerError as exc:
            why = str(exc)
        if why:
            raise Problem("ledger-unavailable", why)
        return m.HealthOut(status="ready", detail=pool.description)

    @router.get(
        "/metrics",
        tags=["operations"],
        response_class=Response,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def metrics_text(_: Annotated[ApiKey, Depends(authorized("reports:read"))]) -> Response:
        """Prometheus text: requests by route and status, latency, trips by outcome."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @router.post("/v1/trips", tags=["trips"])
    def post_trips(
        body: m.TripsIn, key: Annotated[ApiKey, Depends(authorized("trips:write"))]
    ) -> m.TripsOut:
        """Credit a batch of trips exactly once; one result per trip, in order."""
        if len(body.trips) > settings.max_batch_trips:
            raise Problem(
                "payload-too-large",
                f"{len(body.trips)} trips in one request; at most {settings.max_batch_trips}",
            )
        table = _trip_columns(body.trips)
        with pool.ledger() as ledger:
            report = ledger.credit(
                table,
                distance_unit=settings.distance_unit,
                on_conflict="skip",
                reported_by=key.name,
            )
        rows = report.outcomes.to_pylist()
        results = [
            m.TripOut(
                trip_id=row["trip_id"],
                user_id=row["user_id"],
                outcome=row["outcome"],
                status=row["status"],
                message=row["message"],
                savings_g=row["savings_g"],
                credits=_money(row["amount"]),
                entry_id=row["entry_id"],
            )
            for row in rows
        ]
        counts = {
            "credited": report.credited,
            "replayed": report.replayed,
            "quarantined": report.quarantined,
            "rejected": report.rejected,
            "conflict": len(report.conflicts),
        }
        metrics.trips(counts)
        return m.TripsOut(
            account=report.account,
            credited=report.credited,
            replayed=report.replayed,
            quarantined=report.quarantined,
            rejected=report.rejected,
            conflicts=len(report.conflicts),
            awarded=str(report.awarded),
            results=results,
        )

    @router.post("/v1/quotes", tags=["trips"])
    def post_quotes(
        body: m.TripsIn, _: Annotated[ApiKey, Depends(authorized("quotes"))]
    ) -> m.QuotesOut:
        """What each trip would earn, computed and not credited."""
        if len(body.trips) > settings.max_batch_trips:
            raise Problem(
                "payload-too-large",
                f"{len(body.trips)} trips in one request; at most {settings.max_batch_trips}",
            )
        engine = pool.engine
        results = engine.compute(_trip_columns(body.trips), distance_unit=settings.distance_unit)
        wanted = (
            "trip_id",
            "user_id",
            "mode",
            "status",
            "message",
            "distance_km",
            "emissions_g",
            "baseline_g",
            "savings_g",
            "credits",
        )
        rows = results.table.select(list(wanted)).to_pylist()
        info = engine.run_info
        return m.QuotesOut(
            factor_set=info.factor_set,
            factor_set_hash=info.factor_set_hash,
            baseline=info.baseline,
            policy=info.policy,
            account=info.credit_unit,
            results=[m.QuoteOut(**{**row, "credits": _money(row["credits"])}) for row in rows],
        )

    @router.get("/v1/accounts/{user_id}", tags=["accounts"])
    def get_account(
        user_id: str, _: Annotated[ApiKey, Depends(authorized("accounts:read"))]
    ) -> m.AccountOut:
        """The user's balances by account (a user with none has an empty list)."""
        with pool.ledger() as ledger:
            positions = ledger.balances(user_id).positions
        return m.AccountOut(
            user_id=user_id,
            accounts=[
                m.PositionOut(account=position.account, **position.as_json())
                for position in positions
            ],
        )

    @router.get("/v1/accounts/{user_id}/entries", tags=["accounts"])
    def get_entries(
        user_id: str,
        _: Annotated[ApiKey, Depends(authorized("accounts:read"))],
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> m.EntriesPage:
        """The user's entries, newest first, ``limit`` a page; ``cursor`` from the last page."""
        before = None if cursor is None else _seq_of(cursor)
        with pool.ledger() as ledger:
            found = ledger.entries_page(user_id, before_seq=before, limit=limit + 1)
        page = found[:limit]
        more = len(found) > limit
        return m.EntriesPage(
            user_id=user_id,
            entries=[_entry(record) for record in page],
            next_cursor=_cursor(int(page[-1]["seq"])) if more else None,
        )

    @router.post("/v1/redemptions", tags=["accounts"])
    def post_redemption(
        body: m.RedemptionIn,
        response: Response,
        key: Annotated[ApiKey, Depends(authorized("redemptions:write"))],
        idempotency_key: Annotated[str, Header(min_length=1, max_length=200)],
    ) -> m.ReceiptOut:
        """Spend from a balance; the same Idempotency-Key and body return the same receipt.

        Keys are the sending API key's own: two shops may use the same Idempotency-Key."""
        with pool.ledger() as ledger:
            receipt = ledger.redeem(
                body.user_id, body.amount, f"{key.name}/{idempotency_key}", body.item
            )
        if receipt.replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return m.ReceiptOut(
            idempotency_key=idempotency_key,
            entry_id=receipt.entry_id,
            user_id=receipt.user_id,
            account=receipt.account,
            amount=str(receipt.amount),
            item=receipt.item,
            balance_after=str(receipt.balance_after),
            replayed=receipt.replayed,
        )

    @router.post("/v1/reversals", tags=["accounts"])
    def post_reversal(
        body: m.ReversalIn, _: Annotated[ApiKey, Depends(authorized("admin"))]
    ) -> m.ReversalOut:
        """Take back a trip's credits (found fraudulent); the same trip again changes nothing."""
        with pool.ledger() as ledger:
            reversal = ledger.reverse(body.trip_id, body.reason)
            decimals = ledger.decimals
        return m.ReversalOut(
            entry_id=reversal.entry_id,
            trip_id=reversal.trip_id,
            user_id=reversal.user_id,
            account=reversal.account,
            amount=str(to_value(reversal.amount_minor, decimals)),
            owed=str(to_value(reversal.owed_minor, decimals)),
            reason=reversal.reason,
        )

    @router.get("/v1/modes", tags=["catalog"], dependencies=[any_key])
    def get_modes() -> list[m.ModeOut]:
        """The installed modes, with their factor in the service's factor set."""
        engine = pool.engine
        modes = engine.catalog.modes
        return [
            m.ModeOut(
                id=mode.id,
                label=mode.label,
                category=mode.category,
                aliases=list(mode.aliases),
                factor_key=mode.factor_key,
                g_per_pkm=engine.factor_set.g_per_pkm(mode.factor_key),
                plugin=modes.owners.get(mode.id, ""),
            )
            for mode in modes.modes
        ]

    def _set_summary(factor_set: Any, default: str | None) -> dict[str, Any]:
        return {
            "name": factor_set.name,
            "version": factor_set.version,
            "title": factor_set.title,
            "content_hash": factor_set.content_hash,
            "region": factor_set.region,
            "default": factor_set.name == default,
        }

    @router.get("/v1/factor-sets", tags=["catalog"], dependencies=[any_key])
    def get_factor_sets() -> list[m.FactorSetOut]:
        """The installed factor sets (one that fails to load is left out, as in the CLI)."""
        catalog = pool.engine.catalog
        default = _default_set(catalog)
        found = []
        for name in sorted(catalog.factor_sets):
            try:
                factor_set = catalog.factor_set(name)
            except CarbonfootError:
                continue
            found.append(m.FactorSetOut(**_set_summary(factor_set, default)))
        return found

    @router.get("/v1/factor-sets/{name}", tags=["catalog"], dependencies=[any_key])
    def get_factor_set(name: str) -> m.FactorSetDetail:
        """One factor set: every factor with its value, validity and published source."""
        catalog = pool.engine.catalog
        if name not in catalog.factor_sets:
            raise Problem("not-found", f"no factor set named {name!r}")
        factor_set = catalog.factor_set(name)
        factors = []
        for factor_key, variants in factor_set.factors.items():
            for factor in variants:
                resolved = factor_set.resolve(
                    factor_key, factor.validity.first_day, factor.validity.district
                )
                factors.append(
                    m.FactorOut(
                        key=factor_key,
                        value=str(factor.shown),
                        per=factor.per or "",
                        g_per_pkm=None if resolved is None else resolved.g_per_pkm,
                        validity=factor.validity.describe(),
                        publisher=factor.source.publisher,
                        source_title=factor.source.title,
                        year=factor.source.year,
                        locator=factor.locator,
                        url=factor.source.url,
                    )
                )
        return m.FactorSetDetail(
            **_set_summary(factor_set, _default_set(catalog)),
            scope=factor_set.scope,
            gas=factor_set.gas,
            gwp=factor_set.gwp,
            baseline=factor_set.baseline,
            extends=list(factor_set.extends),
            factors=factors,
        )

    @router.get("/v1/policies", tags=["catalog"], dependencies=[any_key])
    def get_policies() -> list[m.PolicyOut]:
        """The installed credit policies and their parameters."""
        catalog = pool.engine.catalog
        default = catalog.default_policy() if catalog.default_policies else None
        return [
            m.PolicyOut(
                id=spec.id,
                unit=spec.unit,
                description=spec.description,
                default=spec.id == default,
                parameters=_parameters(spec.parameters),
            )
            for spec in catalog.policies.values()
        ]

    @router.get("/v1/baselines", tags=["catalog"], dependencies=[any_key])
    def get_baselines() -> list[m.BaselineOut]:
        """The installed baseline methodologies (a mode or a mix is a baseline too)."""
        return [
            m.BaselineOut(
                id=spec.id,
                description=spec.description,
                citation=spec.citation,
                parameters=_parameters(spec.parameters),
            )
            for spec in pool.engine.catalog.baselines.values()
        ]

    @router.get("/v1/explain", tags=["catalog"], dependencies=[any_key])
    def get_explain(
        mode: Annotated[str, Query(min_length=1, max_length=100)],
        distance: Annotated[str, Query(min_length=1, max_length=40, examples=["5.2"])],
        date: dt.date | None = None,
        district: Annotated[str, Query(max_length=200)] = "",
    ) -> m.ExplainOut:
        """One trip, every step with its unit and every number with its source."""
        engine = pool.engine
        result = engine.trip(mode, distance, on=date, district=district)
        steps = explain_trip(engine, mode, distance, on=date, district=district)
        return m.ExplainOut(
            mode=result.mode,
            distance_km=result.distance_km,
            emissions_g=result.emissions_g,
            baseline_g=result.baseline_g,
            savings_g=result.savings_g,
            credits=str(result.credits),
            factor_set=result.factor_set,
            factor_set_hash=result.factor_set_hash,
            baseline=result.baseline,
            policy=result.policy,
            steps=steps.splitlines(),
        )

    @router.get("/v1/ledger/verify", tags=["operations"])
    def get_verify(_: Annotated[ApiKey, Depends(authorized("admin"))]) -> m.VerifyOut:
        """The audit: the hash chain, entry counts, balances and day totals."""
        with pool.ledger() as ledger:
            report = ledger.verify()
        return m.VerifyOut(
            ok=report.ok,
            entries=report.entries,
            blocks=report.blocks,
            problem=report.problem,
            first_bad_entry=report.first_bad_entry,
            head=report.head,
        )

    app.include_router(router)
    _problems_documented(app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
            expose_headers=["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
        )
    app.add_middleware(ServiceMiddleware, max_body_bytes=settings.max_body_bytes, metrics=metrics)
    return app


def _problems_documented(app: FastAPI) -> None:
    """The OpenAPI document says what the service sends: every error status as an
    ``application/problem+json`` :class:`~carbonfoot.service.models.ProblemOut` (FastAPI
    would document them as ``application/json``, and 422 as its own validation body)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            routes=app.routes,
        )
        problem = {"$ref": "#/components/schemas/ProblemOut"}
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    if status.isdigit() and int(status) >= 400 and "content" in response:
                        response["content"] = {PROBLEM_JSON: {"schema": problem}}
        schemas = document.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            schemas.pop(name, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _default_set(catalog: Any) -> str | None:
    try:
        return str(catalog.default_factor_set())
    except CarbonfootError:
        return None


def _version() -> str:
    from carbonfoot import __version__

    return __version__


def app_from_env() -> FastAPI:
    """The application from ``CARBONFOOT_*`` variables (``uvicorn --factory``)."""
    return create_app(ServiceSettings.from_env())


class JsonLogFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message and the request's fields."""

    FIELDS: Final = ("request_id", "method", "route", "path", "status", "duration_ms", "key")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in self.FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
