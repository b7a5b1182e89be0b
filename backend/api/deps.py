"""``Annotated`` dependencies: ``SessionDep``, ``CurrentUser``, ``CurrentToken``, ``SettingsDep``,
``ClientAddress``."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.api.errors import ADMITTED_AT, LATE_AFTER, FirstWait, ProblemError, refuse_if_late
from backend.models import ApiToken, User
from backend.services.users import token_in_use
from backend_client.models import text_problem
from config.settings import BackendSettings


async def refuse_hostile_url(request: Request) -> None:
    """Every query parameter (its name and each of its values, whether the route
    knows it or not) and every path string is one line of text (SPEC §5): a control
    character, a line break or a lone surrogate is refused 422 naming the parameter,
    before anything else is looked at. The app runs this for every route; the body's
    fields are the wire models' to check (``backend_client.models.Line``). No I/O: it runs
    on the event loop (a sync dependency costs a turn of the thread pool per request)."""
    errors: list[tuple[str, str]] = []
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        problem = text_problem(name) or text_problem(str(value))
        # A name that is itself hostile is named escaped (``a\\x00b``), never echoed raw.
        field = (name if text_problem(name) is None else name.encode("unicode_escape").decode("ascii")) or "query"
        if problem and not any(f == field for f, _ in errors):
            errors.append((field, problem))
    if errors:
        raise ProblemError(422, "Invalid request", "; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session, made on the event loop: making one takes no connection (the
    first statement does, in the thread that runs it). The token check and the route each
    end their transaction in their own thread (``unit_of_work``), so closing it here is
    without I/O; a session still in a transaction is closed in a thread. As a sync
    dependency it cost two turns of the thread pool a request, one to make it, one to close it.

    It also arms the wait bound: a request admitted longer ago than ``max_queue_seconds``
    when its first turn in the thread pool begins (the token check, or the route) waited
    that long for a thread, and is answered 503 with Retry-After then, before it takes a
    connection (``errors.refuse_if_late``, ``errors.Admission``)."""
    bound = request.app.state.settings.max_queue_seconds
    admitted = request.scope.get("state", {}).get(ADMITTED_AT)
    if bound and admitted is not None:
        LATE_AFTER.set(FirstWait(admitted + bound, request.app.state.pressure))
    session = request.app.state.db.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_settings(request: Request) -> BackendSettings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[BackendSettings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False)


def get_current_token(
    session: SessionDep, settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiToken:
    """The token that signs the request, in use: else 401 (missing, unknown, revoked, past
    its absolute expiry, idle longer than ``session_idle_minutes``, or its user inactive)."""
    refuse_if_late()  # the request's first turn in the thread pool
    unauthorized = ProblemError(
        401, "Not authenticated", "A valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
    )
    if credentials is None or credentials.scheme.lower() != "bearer" or len(credentials.credentials) > 512:
        raise unauthorized
    idle = dt.timedelta(minutes=settings.session_idle_minutes) if settings.session_idle_minutes > 0 else None
    try:
        row = token_in_use(session, credentials.credentials, idle=idle,
                           touch=dt.timedelta(seconds=settings.session_touch_seconds))
    except BaseException:
        session.rollback()
        raise
    # End the lookup's transaction here, in this thread. The route runs after, in another
    # turn of the server's thread pool; a transaction left open until then holds SQLite's
    # one write lock (BEGIN IMMEDIATE) and a pooled connection while waiting for a free
    # thread, and with more requests at once than threads, every thread can be waiting for
    # that lock or a connection: nothing moves until the busy and pool timeouts (30 s) answer
    # 503s (tests/api/test_kill_once.py, 64 saves at once). It commits the last use if it
    # was touched; the row and its user stay loaded (expire_on_commit is off).
    session.commit()
    if row is None:
        raise unauthorized
    return row


CurrentToken = Annotated[ApiToken, Depends(get_current_token)]


async def get_current_user(token: CurrentToken) -> User:
    return token.user  # loaded with the token: on the event loop, no thread hop


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_client_address(request: Request) -> str:
    """Who is calling: the connection's address, or the client a trusted proxy names."""
    from backend.services.signin import client_address

    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), request.app.state.trusted_proxies)


ClientAddress = Annotated[str, Depends(get_client_address)]


def require_role(*roles: str):  # noqa: ANN201
    async def check(user: CurrentUser) -> User:  # on the loop: the role is loaded with the token
        if user.role not in roles:
            raise ProblemError(403, "Forbidden", f"This needs the role {' or '.join(roles)}")
        return user

    return Depends(check)
