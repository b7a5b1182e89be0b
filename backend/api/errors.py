"""Errors as RFC 9457 problem details. No input, however malformed, gets a 500."""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.domain import errors as domain
from backend.domain.accounts import mask_card_numbers
from backend_client.models import FieldError, Problem

log = logging.getLogger("collectdesk.backend")

PROBLEM_JSON = "application/problem+json"

# --------------------------------------------------------------------------
# The problem answers in the OpenAPI schema (issue 15 item 6): one definition for
# every router. Each route declares exactly the statuses it can answer, as
# ``responses=problems(404, 409)``; the statuses every route of a router answers
# go on the router. Each is ``application/problem+json`` with the ``Problem``
# schema (the app's ``openapi()`` puts that schema into the components, see
# ``install``), and the headers it always carries.

PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"

PROBLEM_STATUSES: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated: no bearer token, or one that is unknown, revoked, expired or idle too long "
         "(on sign-in: a wrong user name or password)",
    403: "Forbidden: the caller's role may not do this",
    404: "Not found, or not visible to the caller",
    409: "Conflict with the record's state (the rule or what is missing is named)",
    412: "Precondition failed: If-Match names an older version of the record",
    413: "Content too large: the request body is over the limit",
    422: "Invalid request: the fields, parameters or headers at fault are named in errors",
    428: "Precondition required: the If-Match header is missing",
    429: "Too many attempts: wait Retry-After seconds",
    502: "Not sent: the mail relay or the SMS gateway did not take the message (temporary says whether "
         "trying again later may help); nothing was sent or recorded",
    503: "Busy: the database (or the sign-in pool) is saturated; try again after Retry-After seconds",
}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before asking again", "required": True,
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "the scheme to sign with (Bearer)", "required": True,
                               "schema": {"type": "string"}}},
    429: _RETRY_AFTER,
    503: _RETRY_AFTER,
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=problems(403, 404)``: the problem answers a route (or router) declares."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {"description": PROBLEM_STATUSES[status],
                                    "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}}
        if status in PROBLEM_HEADERS:
            response["headers"] = PROBLEM_HEADERS[status]
        out[status] = response
    return out


class ProblemError(Exception):
    """Raise in ``backend.api`` to answer a problem: ``ProblemError(409, "…", rule="…")``.
    Services raise ``backend.domain.errors`` instead; ``from_domain`` maps them."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra

    def problem(self) -> Problem:
        errors = [FieldError(field=f, message=m) for f, m in self.errors] if self.errors else None
        return Problem(title=self.title, status=self.status, detail=self.detail, errors=errors, **self.extra)


STATUS: dict[type[domain.DomainError], int] = {
    domain.Unauthenticated: 401, domain.Forbidden: 403, domain.NotFound: 404, domain.Conflict: 409,
    domain.PreconditionFailed: 412, domain.Invalid: 422, domain.PreconditionRequired: 428,
    domain.TooManyAttempts: 429, domain.ChannelFailed: 502, domain.Busy: 503,
}
"""The one place a refusal of the domain becomes an HTTP status."""


def from_domain(exc: domain.DomainError) -> ProblemError:
    """The problem details of a domain refusal: its status, and the headers it implies
    (``Retry-After`` where the client is told to wait, ``WWW-Authenticate`` on 401)."""
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 409)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if (retry := exc.extra.get("retry_after")) is not None:
        headers["Retry-After"] = str(retry)
    return ProblemError(status, exc.title, exc.detail, errors=exc.errors, headers=headers or None, **exc.extra)


def not_found(what: str = "account") -> ProblemError:
    return ProblemError(404, "Not found", f"No such {what}")


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Invalid request", f"{field}: {message}", errors=[(field, message)])


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([ntrvf]))")
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f"}


def _quoted_masked(text: str) -> str:
    """``text`` with any card number masked, also where it quotes input as ``repr`` does
    (``'4539-8273-\\n6150…'``: the escapes are read back first, so they hide nothing)."""
    if "\\" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if (m[1] or m[2]) else _ESCAPED[m[3]], text)
    return mask_card_numbers(text)


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    # A problem may quote what the client sent (a name, a zone); never a card number.
    if problem.detail:
        problem.detail = _quoted_masked(problem.detail)
    for error in problem.errors or []:
        error.message = _quoted_masked(error.message)
    return JSONResponse(
        problem.model_dump(exclude_none=True), status_code=problem.status, headers=headers, media_type=PROBLEM_JSON
    )


ADMITTED_AT = "collectdesk.admitted_at"
"""The key in a request's ``scope["state"]`` (``request.state``) of the instant (``time.monotonic``)
it was admitted: ``deps.get_session`` arms ``LATE_AFTER`` from it."""

class FirstWait:
    """How long a request may wait for its first thread: until ``after`` (``time.monotonic``:
    admitted at, plus ``max_queue_seconds``), refused then with ``pressure``'s Retry-After.
    ``begun`` once its first turn in the thread pool began (one object, shared by the copies
    of the request's context each turn runs in)."""

    __slots__ = ("after", "begun", "pressure")

    def __init__(self, after: float, pressure: Pressure) -> None:
        self.after = after
        self.pressure = pressure
        self.begun = False


LATE_AFTER: ContextVar[FirstWait | None] = ContextVar("collectdesk_late_after", default=None)
"""The wait bound of the request being handled (armed by ``deps.get_session``, seen in the
route's threads); None: no bound."""


def refuse_if_late() -> None:
    """At the start of a request's first turn in the thread pool (the token check, or the
    route of a request without one): a request admitted longer ago than ``max_queue_seconds``
    waited that long for a thread. It is answered 503 Busy with Retry-After now, before it
    takes a connection, rather than served late. Its later turns are not bounded: it has
    begun, and refusing it then would throw away the work done (as when the session, a sync
    dependency, was its first turn)."""
    wait = LATE_AFTER.get()
    if wait is None or wait.begun:
        return
    wait.begun = True
    if time.monotonic() > wait.after:
        retry_after = wait.pressure.refused(admitted=True)
        raise ProblemError(503, "Busy", BUSY_DETAIL, headers={"Retry-After": str(retry_after)})


BUSY_DETAIL = "The server is handling all it can; try again"


RETRY_AFTER_AT_MOST = 30
"""The longest ``Retry-After`` a busy worker asks for (seconds)."""


def busy_retry_after(served: int, refused: int, at_most: int = RETRY_AFTER_AT_MOST) -> int:
    """The ``Retry-After`` of a refusal when, lately, ``served`` requests were admitted and
    ``refused`` turned away: as many seconds as were refused for each one served (at least 1,
    at most ``at_most``). A refused client comes back when, on average, there is room for it;
    with ``Retry-After: 1`` whatever the load, 2,000 agents offered twice what two workers
    serve sent a thousand refused retries a second, and refusing them cost a fifth of the
    CPU the answers needed (bench/README, "The goals, met")."""
    if refused <= 0:
        return 1
    return max(1, min(at_most, math.ceil(refused / max(served, 1))))


class Pressure:
    """What one worker admitted and refused over the current and the previous whole second
    (its own: each worker refuses what it cannot hold), for ``busy_retry_after``. Counted from
    the event loop and, for a refusal after the wait for a thread, from that thread: a count
    lost to a race between them changes a ``Retry-After`` a little, never an answer."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.second = int(clock())
        self.now = [0, 0]  # served, refused: this second
        self.before = [0, 0]  # the second before

    def _turn(self) -> None:
        second = int(self.clock())
        if second != self.second:
            self.before = self.now if second == self.second + 1 else [0, 0]
            self.now = [0, 0]
            self.second = second

    def served(self) -> None:
        self._turn()
        self.now[0] += 1

    def refused(self, *, admitted: bool = False) -> int:
        """Count one refusal (``admitted``: one counted as served, refused after its wait for a
        thread) and return the ``Retry-After`` it gets."""
        self._turn()
        if admitted:
            self.now[0] -= 1
        self.now[1] += 1
        return busy_retry_after(self.now[0] + self.before[0], self.now[1] + self.before[1])


def busy_response(retry_after: int) -> JSONResponse:
    busy = Problem(title="Busy", status=503, detail=BUSY_DETAIL)
    return problem_response(busy, headers={"Retry-After": str(retry_after)})


class Admission:
    """At most ``limit`` requests handled at once by this worker (0: no limit): one more is
    answered 503 (``Busy``) with ``Retry-After`` at once, before it takes a thread or a
    connection, so that what is admitted is served in bounded time however much more is
    offered. Each admitted request is stamped with the instant (``ADMITTED_AT``), so that
    one which then waited too long for a thread is refused too (``refuse_if_late``).
    ``Retry-After`` grows with the worker's ``pressure`` (``busy_retry_after``)."""

    def __init__(self, app: Any, limit: int, pressure: Pressure) -> None:
        self.app = app
        self.limit = limit
        self.pressure = pressure
        self.in_flight = 0

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.limit and self.in_flight >= self.limit:
            await busy_response(self.pressure.refused())(scope, receive, send)
            return
        scope.setdefault("state", {})[ADMITTED_AT] = time.monotonic()
        LATE_AFTER.set(None)  # armed by the request's session, if it has one
        self.pressure.served()
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem.

    A declared Content-Length over the limit is refused before the body is read;
    a body that grows past it while streaming is refused as soon as it does.
    (Starlette's own limit answers in plain text.)"""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = Problem(title="Content too large", status=413,
                            detail=f"A request body may hold at most {self.max_bytes} bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > self.max_bytes:
                await problem_response(too_large)(scope, receive, send)
                return
        seen = 0

        async def limited() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # Raised inside the route, so the handler below answers it as a problem.
                    raise StarletteHTTPException(413, too_large.detail)
            return message

        await self.app(scope, limited, send)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _openapi_with_problems(app: FastAPI) -> Any:
    """``app.openapi`` with the ``Problem`` schema (and what it refers to) among the
    components, as the problem answers refer to it."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            found = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(found.pop("$defs", {}))
            components["Problem"] = found
        return app.openapi_schema

    return openapi


def install(app: FastAPI) -> None:
    app.openapi = _openapi_with_problems(app)  # type: ignore[method-assign]

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.problem(), exc.headers)

    @app.exception_handler(domain.DomainError)
    async def _refused(_request: Request, exc: domain.DomainError) -> JSONResponse:
        problem = from_domain(exc)
        return problem_response(problem.problem(), problem.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [FieldError(field=_field_name(tuple(e.get("loc", ()))), message=str(e.get("msg", "invalid"))) for e in exc.errors()]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem_response(Problem(title="Invalid request", status=422, detail=detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            # A body that is not UTF-8 text (FastAPI answers 400 "error parsing the body"):
            # malformed JSON like any other, 422 naming the body (schemathesis found it).
            message = "not JSON text (invalid UTF-8)"
            return problem_response(Problem(title="Invalid request", status=422, detail=f"body: {message}",
                                            errors=[FieldError(field="body", message=message)]))
        titles = {400: "Bad request", 401: "Not authenticated", 403: "Forbidden", 404: "Not found",
                  405: "Method not allowed", 413: "Content too large"}
        title = titles.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(Problem(title=title, status=exc.status_code, detail=detail), getattr(exc, "headers", None))

    @app.exception_handler(SQLAlchemyTimeoutError)
    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: Exception) -> JSONResponse:
        # Too many requests at once for the database: every pooled connection in use
        # for the pool's timeout, or SQLite's one write lock held by others for the
        # busy timeout. The request did nothing; the client may ask again.
        if isinstance(exc, OperationalError) and "database is locked" not in str(exc.orig):
            return await _unexpected(request, exc)
        log.warning("busy: %s %s: %s", request.method, request.url.path, type(exc).__name__)
        return problem_response(Problem(title="Busy", status=503, detail="The database is busy; try again"),
                                {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return problem_response(Problem(title="Internal error", status=500, detail="The server could not complete the request"))
