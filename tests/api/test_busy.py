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
