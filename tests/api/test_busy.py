"""A database too busy to answer in time is a 503 the client may retry, never a 500
(bench/next_account.py: 50 people pressing *next* at once on SQLite)."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


@pytest.mark.parametrize("error", [
    PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"),
    OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
], ids=["pool exhausted", "sqlite write lock"])
async def test_a_busy_database_answers_503_with_retry_after(app, error) -> None:  # noqa: ANN001
    @app.get("/busy")
    def busy() -> None:
        raise error

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
        response = await http.get("/busy")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Busy"


async def test_another_operational_error_is_still_an_internal_error(app) -> None:  # noqa: ANN001
    @app.get("/broken")
    def broken() -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
        response = await http.get("/broken")
    assert response.status_code == 500 and response.json()["title"] == "Internal error"


# A sync route's dependencies, the route itself and the check of its answer against its
# response model each run in their own turn of the server's thread pool. A transaction
# left open from one turn to the next holds a pooled connection and, on SQLite, the one
# write lock while it waits for a thread; with more requests at once than threads, every
# thread can be waiting for that lock or a connection, and nothing moves until the 30 s
# timeouts (found by tests/api/test_kill_once.py: 64 saves at once, /healthz probed).

def test_the_token_check_ends_its_transaction_before_the_route(session, auth) -> None:  # noqa: ANN001
    import asyncio

    from fastapi.security import HTTPAuthorizationCredentials

    from backend.api.deps import get_current_token
    from backend.api.errors import ProblemError
    from config.settings import BackendSettings

    token = asyncio.run(auth("agent1"))["Authorization"].removeprefix("Bearer ")
    settings = BackendSettings()
    row = get_current_token(session, settings, HTTPAuthorizationCredentials(scheme="Bearer", credentials=token))
    assert row.user.username == "agent1"
    assert not session.in_transaction()
    with pytest.raises(ProblemError):
        get_current_token(session, settings, HTTPAuthorizationCredentials(scheme="Bearer", credentials="no-such"))
    assert not session.in_transaction()


async def test_healthz_ends_its_transaction_before_its_answer_is_checked(app, session) -> None:  # noqa: ANN001
    healthz = next(route.endpoint for route in app.routes if getattr(route, "path", None) == "/healthz")
    assert (await healthz(session)).status == "ok"  # the route's turn in the thread pool, as FastAPI awaits it
    assert not session.in_transaction()


def test_a_replayed_key_ends_its_transaction(session) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from backend.api.idempotent import answer_once
    from backend.models import User
    from backend_client.models import Health

    user = session.scalar(select(User).where(User.username == "agent1"))
    made = []

    def create() -> Health:
        made.append(1)
        return Health(database="x", version="1")

    first = answer_once(session, user, "POST /test-busy", "key-1", 201, create, request=None)
    again = answer_once(session, user, "POST /test-busy", "key-1", 201, create, request=None)
    assert (first.body, again.headers["Idempotent-Replayed"], made) == (again.body, "true", [1])
    assert not session.in_transaction()
