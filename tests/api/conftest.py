"""Fixtures for the API tests: raw httpx requests through the ASGI transport,
signed-in headers per user, row counts, and clocks for the call window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

import backend.models
from backend.app import create_app
from backend.db import Database
from config.settings import BackendSettings
from tests.conftest import on_test_session


@pytest.fixture
def app(engine: Engine, db_url: str, session: Session):  # noqa: ANN201
    """As the shared ``app`` fixture, but each request ends as it does in
    production: whatever the request did not commit is rolled back, so a
    refused request cannot leak half a change into the next one."""
    app = create_app(BackendSettings(db=db_url), Database(db_url, engine=engine))
    return on_test_session(app, session)


@pytest.fixture
def auth(http) -> Callable:  # noqa: ANN001
    """``headers = await auth("agent1")``: a bearer header for a demo user (password = user name)."""
    cache: dict[str, dict[str, str]] = {}

    async def _auth(username: str) -> dict[str, str]:
        if username not in cache:
            response = await http.post("/api/v1/auth/login", json={"username": username, "password": username})
            assert response.status_code == 200, response.text
            cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return dict(cache[username])

    return _auth


@pytest.fixture
def count(session: Session) -> Callable:
    """``count(Contact, Contact.account_id == 3)``: rows in a table, as the database sees them."""

    def _count(model: type, *where: object) -> int:
        session.flush()
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return _count


@pytest.fixture
def new_audit(session: Session) -> Callable:
    """``new_audit(entity="note", action="create")``: audit rows written since the test began.

    Other tests commit to the append-only log (and SQLite hands the ids of deleted
    accounts out again), so a test looks only at rows after its own start."""
    from backend.models import AuditEntry

    start = session.scalar(select(func.max(AuditEntry.id))) or 0

    def _rows(**where: object) -> list:
        stmt = select(AuditEntry).where(AuditEntry.id > start).order_by(AuditEntry.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, name) == value)
        session.flush()
        return list(session.scalars(stmt))

    return _rows


def zone_at_local_hour(hour: int, now: dt.datetime | None = None) -> str:
    """A fixed-offset IANA zone (``Etc/GMT±N``) where the local time is now ``hour``:mm,
    so tests about the call window do not depend on when they run."""
    now = now or dt.datetime.now(dt.UTC)
    for offset in range(-12, 15):  # local = UTC + offset
        if (now.hour + offset) % 24 == hour:
            # POSIX sign convention: Etc/GMT+5 is five hours *behind* UTC.
            return "Etc/UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"
    raise AssertionError("every local hour is reachable")


@pytest.fixture
def open_zone() -> str:
    """A zone where it is now midday: inside every call window."""
    return zone_at_local_hour(12)


@pytest.fixture
def closed_zone() -> str:
    """A zone where it is now 3 in the morning: outside every call window."""
    return zone_at_local_hour(3)


def assert_problem(response, status: int) -> dict:  # noqa: ANN001
    """Assert ``response`` is an RFC 9457 problem with ``status``; answer its body
    with ``fields``, the set of field names its ``errors`` blame."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body.get("type", "about:blank"), str)
    if "detail" in body:
        assert isinstance(body["detail"], str)
    for error in body.get("errors") or []:
        assert set(error) == {"field", "message"} and error["field"] and error["message"]
    body["fields"] = {e["field"] for e in body.get("errors") or []}
    return body


@pytest.fixture
def problem() -> Callable:
    """``body = problem(response, 422)``; ``body["fields"]`` names the fields at fault."""
    return assert_problem


PLAN_NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """The backend's clock, held at 2026-03-11 15:00 UTC (``PLAN_NOW``) and moved by the test
    (``clock.to(...)``)."""
    import sys

    state = {"now": PLAN_NOW}
    original = backend.models.utcnow

    def fixed() -> dt.datetime:
        return state["now"]

    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", fixed)

    class Clock:
        def to(self, when: dt.datetime) -> None:
            state["now"] = when

        @property
        def now(self) -> dt.datetime:
            return state["now"]

    return Clock()
