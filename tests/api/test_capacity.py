"""Capacity (issue 19 item 1): a request holds one pooled connection at most, a request
that cannot get one soon is answered 503 at once, and a worker past its admission limit
refuses quickly instead of slowing everyone.

The app runs in-process (httpx's ASGI transport) on a database of its own (a SQLite file,
or a scratch database on the suite's PostgreSQL server), migrated and seeded by the
``collectdesk`` commands, with the pool and limits these tests set.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from backend.api.deps import SessionDep
from backend.api.errors import RETRY_AFTER_AT_MOST, Pressure, busy_retry_after
from backend.app import create_app
from config.settings import BackendSettings
from tests.procs import own_database

PG_DATABASE = "collectdesk_capacity"

pytestmark = pytest.mark.timers  # real waits: not under faketime (.ci/run)


@pytest.fixture(scope="module")
def capacity_db(tmp_path_factory: pytest.TempPathFactory, scratch_postgres) -> Iterator[str]:  # noqa: ANN001
    """The backend's own database, migrated and seeded: on the suite's database server."""
    with own_database(PG_DATABASE, tmp_path_factory.mktemp("capacity"), scratch_postgres) as url:
        yield url


def make_app(url: str, **settings: object):  # noqa: ANN201
    return create_app(BackendSettings(db=url, recheck_seconds=0, sweep_hours=0, **settings))


async def test_a_whole_working_cycle_runs_on_one_pooled_connection(capacity_db: str) -> None:
    """Pool size 1, no overflow: a request that asked for a second connection while holding
    one (the token check, the route and the audit each their own) would wait for itself
    and be answered 503 after the pool's timeout. Every step of an agent's and a
    supervisor's work answers, and no connection is left checked out after any of them."""
    app = make_app(capacity_db, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=1.0)
    pool = app.state.db.engine.pool
    answers: list[tuple[str, int]] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        async def step(method: str, url: str, **kw: object) -> httpx.Response:
            r = await http.request(method, url, **kw)  # type: ignore[arg-type]
            answers.append((f"{method} {url.split('?')[0]}", r.status_code))
            assert r.status_code < 400, (method, url, r.status_code, r.text[:300])
            assert pool.checkedout() == 0, f"{method} {url} left a connection checked out"
            return r

        token = (await step("POST", "/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        await step("GET", "/api/v1/worklist?limit=50", headers=auth)
        lease = (await step("POST", "/api/v1/worklist/next", headers=auth)).json()
        account = lease["account"]["id"]
        for path in ("", "/timeline", "/compliance", "/escalations/check", "/documents"):
            await step("GET", f"/api/v1/accounts/{account}{path}", headers=auth)
        await step("POST", f"/api/v1/accounts/{account}/contacts",
                   json={"channel": "phone", "direction": "inbound", "outcome": "RPC", "result": "RTP",
                         "note": "rang in", "identity_verified": True, "disclosure_given": True},
                   headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        await step("POST", f"/api/v1/accounts/{account}/notes", json={"text": "one connection"},
                   headers={**auth, "Idempotency-Key": uuid.uuid4().hex})
        await step("PATCH", f"/api/v1/accounts/{account}", json={"flags": {"hardship": True}},
                   headers={**auth, "If-Match": (await step("GET", f"/api/v1/accounts/{account}",
                                                            headers=auth)).headers["etag"]})
        await step("POST", f"/api/v1/accounts/{account}/release", headers=auth)
        await step("GET", "/api/v1/me", headers=auth)
        await step("GET", "/api/v1/reports/agent", headers=auth)
        await step("POST", "/api/v1/auth/logout", headers=auth)

        sup = (await step("POST", "/api/v1/auth/login", json={"username": "super1", "password": "super1"})).json()
        sup_auth = {"Authorization": f"Bearer {sup['access_token']}"}
        for path in ("/api/v1/reports/overview", "/api/v1/plans?status=pending", "/api/v1/breaches",
                     "/api/v1/escalations", "/api/v1/segments", "/api/v1/reports/team"):
            await step("GET", path, headers=sup_auth)
        await step("GET", "/healthz")
    assert len(answers) > 20


async def test_a_request_that_cannot_get_a_connection_soon_is_answered_503_at_once(capacity_db: str) -> None:
    app = make_app(capacity_db, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.3)
    holding = threading.Event()

    @app.get("/hold")
    def hold(session: SessionDep) -> dict[str, int]:
        session.execute(text("SELECT 1"))  # the pool's one connection, held
        holding.set()
        time.sleep(2.0)
        return {"held": 1}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        first = asyncio.create_task(http.get("/hold"))
        while not holding.is_set():
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        second = await http.get("/healthz")
        waited = time.perf_counter() - t0
        assert (await first).status_code == 200
    assert second.status_code == 503 and second.headers["retry-after"] == "1"
    assert second.json()["title"] == "Busy"
    assert waited < 1.5, f"answered after {waited:.2f} s: the pool's timeout is 0.3 s"


async def test_past_the_admission_limit_a_request_is_refused_at_once_and_the_admitted_are_served() -> None:
    app = make_app("sqlite:///:memory:", max_in_flight=2)
    gate = asyncio.Event()
    inside = 0

    @app.get("/slow")
    async def slow() -> dict[str, int]:
        nonlocal inside
        inside += 1
        await gate.wait()
        return {"ok": 1}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        admitted = [asyncio.create_task(http.get("/slow")) for _ in range(2)]
        while inside < 2:
            await asyncio.sleep(0.01)
        t0 = time.perf_counter()
        refused = await http.get("/slow")
        waited = time.perf_counter() - t0
        gate.set()
        served = await asyncio.gather(*admitted)
        after = await http.get("/slow")  # room again
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert waited < 0.5
    assert [r.status_code for r in served] == [200, 200] and after.status_code == 200


def test_capacity_settings_are_sized_together_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """No thread waits for a connection with the defaults: threads ≤ pool + overflow; and
    each is a setting (``COLLECTDESK_*``), passed to the engine the app makes."""
    settings = BackendSettings(db="sqlite://")
    assert (settings.threads, settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds,
            settings.max_in_flight) == (2, 10, 10, 2.0, 50)
    assert settings.threads <= settings.db_pool_size + settings.db_max_overflow
    for name, value in {"THREADS": "8", "DB_POOL_SIZE": "4", "DB_MAX_OVERFLOW": "4", "DB_POOL_TIMEOUT_SECONDS": "0.5",
                        "MAX_IN_FLIGHT": "30"}.items():
        monkeypatch.setenv(f"COLLECTDESK_{name}", value)
    settings = BackendSettings(db="sqlite:///" + str(Path(tempfile.gettempdir()) / "capacity-settings.db"))
    assert (settings.threads, settings.db_pool_size, settings.db_max_overflow, settings.db_pool_timeout_seconds,
            settings.max_in_flight) == (8, 4, 4, 0.5, 30)
    pool = create_app(settings).state.db.engine.pool
    assert (pool.size(), pool._max_overflow, pool.timeout()) == (4, 4, 0.5)  # type: ignore[attr-defined]


async def test_the_server_runs_the_routes_in_as_many_threads_as_configured(capacity_db: str) -> None:
    import anyio.to_thread

    app = make_app(capacity_db, threads=7)
    limiter = anyio.to_thread.current_default_thread_limiter()
    before = limiter.total_tokens
    try:
        async with app.router.lifespan_context(app):
            assert limiter.total_tokens == 7
    finally:
        limiter.total_tokens = before


async def test_a_request_takes_two_turns_of_the_thread_pool(capacity_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token check and the route, each in one turn; the session is made and closed, the
    URL and the role checked and the answer checked against its model on the loop. With two
    threads a worker, every extra turn is one more wait for a thread (it was eight turns)."""
    import anyio.to_thread

    turns: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(func, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        turns.append(getattr(getattr(func, "func", func), "__qualname__", repr(func)))
        return await run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    app = make_app(capacity_db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        async def agent(name: str) -> dict[str, str]:
            token = (await http.post("/api/v1/auth/login", json={"username": name, "password": name})).json()
            return {"Authorization": f"Bearer {token['access_token']}"}

        auth, boss = await agent("agent1"), await agent("super1")
        for method, url, headers in [("GET", "/api/v1/worklist", auth), ("POST", "/api/v1/worklist/next", auth),
                                     ("GET", "/api/v1/me", auth), ("GET", "/api/v1/reports/team", boss)]:
            turns.clear()
            response = await http.request(method, url, headers=headers)
            assert response.status_code == 200, response.text
            assert len(turns) == 2 and turns[0] == "get_current_token", (method, url, turns)


def test_only_a_requests_first_turn_is_bounded() -> None:
    """Refused at its first turn when it waited past the bound; once begun, never refused at a
    later turn (the route after its token check), however late: that would throw work away."""
    import contextvars

    from backend.api.errors import LATE_AFTER, FirstWait, ProblemError, refuse_if_late

    def first_turn_then_route(after: float) -> list[str]:
        LATE_AFTER.set(FirstWait(after, Pressure()))
        seen = []
        for _ in range(2):
            try:
                contextvars.copy_context().run(refuse_if_late)  # each turn runs in a copy of the context
                seen.append("ran")
            except ProblemError as refused:
                seen.append(f"{refused.status} after {refused.headers['Retry-After']} s")
        return seen

    now = time.monotonic()
    assert contextvars.copy_context().run(first_turn_then_route, now - 1) == ["503 after 1 s", "ran"]
    assert contextvars.copy_context().run(first_turn_then_route, now + 3600) == ["ran", "ran"]
    assert contextvars.copy_context().run(refuse_if_late) is None  # no bound armed: nothing to refuse


@pytest.mark.parametrize("bound", [0.3, 0.0])
async def test_a_request_that_waited_too_long_for_a_thread_is_refused_when_its_turn_comes(
        capacity_db: str, bound: float) -> None:
    """One thread, held 0.8 s by a slow route: the next request waits for it. With
    ``max_queue_seconds`` 0.3 it is answered 503 Busy with Retry-After as soon as it gets
    the thread (it is not served late); with no bound (0) it is served, late."""
    import anyio.to_thread

    app = make_app(capacity_db, max_queue_seconds=bound)
    holding, release = threading.Event(), threading.Event()

    @app.get("/hold")
    def hold() -> dict[str, int]:
        holding.set()
        release.wait(5)
        return {"held": 1}

    limiter = anyio.to_thread.current_default_thread_limiter()
    before = limiter.total_tokens
    limiter.total_tokens = 1  # as the lifespan sets it from ``threads``; not run by the ASGI transport
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
            first = asyncio.create_task(http.get("/hold"))
            while not holding.is_set():
                await asyncio.sleep(0.01)
            second = asyncio.create_task(http.get("/healthz"))
            await asyncio.sleep(0.8)
            release.set()
            t0 = time.perf_counter()
            answered = await second
            after_release = time.perf_counter() - t0
            assert (await first).status_code == 200
    finally:
        limiter.total_tokens = before
    if bound:
        assert answered.status_code == 503 and answered.headers["retry-after"] == "1"
        assert answered.json()["title"] == "Busy"
        assert after_release < 0.5, "refused as soon as it had the thread"
    else:
        assert answered.status_code == 200


# -- Retry-After follows the pressure ---------------------------------------------------------

@given(served=st.integers(0, 10_000), refused=st.integers(0, 100_000))
def test_a_busy_answer_asks_to_wait_as_long_as_refusals_outnumber_answers(served: int, refused: int) -> None:
    """``busy_retry_after``: 1 s while no more are refused than served; then as many seconds
    as were refused for each one served, never past ``RETRY_AFTER_AT_MOST``; more refused (or
    fewer served) never asks for a shorter wait."""
    wait = busy_retry_after(served, refused)
    assert 1 <= wait <= RETRY_AFTER_AT_MOST
    if refused <= max(served, 1):
        assert wait == 1
    assert busy_retry_after(served, refused + 1) >= wait
    assert busy_retry_after(served + 1, refused) <= wait
    if served and 0 < refused <= RETRY_AFTER_AT_MOST * served:
        assert wait * served >= refused > (wait - 1) * served


def test_the_pressure_is_that_of_the_last_two_seconds() -> None:
    now = [100.2]
    pressure = Pressure(clock=lambda: now[0])
    for _ in range(10):
        pressure.served()
    assert [pressure.refused() for _ in range(10)] == [1] * 10  # as many refused as served
    assert pressure.refused() == 2  # 11 for 10
    now[0] = 101.5  # the next second: the last one's counts still weigh
    for _ in range(18):
        pressure.refused()
    assert pressure.refused() == 3  # 30 refused for 10 served
    pressure.served()
    assert pressure.refused(admitted=True) == 4  # served, then refused after its wait: 31 for 10
    assert (pressure.now, pressure.before) == ([0, 20], [10, 11])
    now[0] = 102.1  # the second before last is forgotten
    assert pressure.refused() == 21  # 21 refused, none served
    now[0] = 110.0  # quiet for seconds: all forgotten
    assert pressure.refused() == 1


async def test_past_the_limit_the_refused_are_asked_to_wait_longer_the_more_they_are() -> None:
    """One request admitted (the limit) and held: the refusals that follow are asked to wait
    1, 2, 3… seconds, as many as have been refused for the one served."""
    app = make_app("sqlite:///:memory:", max_in_flight=1)
    gate, inside = asyncio.Event(), asyncio.Event()

    @app.get("/slow")
    async def slow() -> dict[str, int]:
        inside.set()
        await gate.wait()
        return {"ok": 1}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        held = asyncio.create_task(http.get("/slow"))
        await inside.wait()
        waits = [(await http.get("/slow")).headers["retry-after"] for _ in range(4)]
        gate.set()
        assert (await held).status_code == 200
    assert waits == ["1", "2", "3", "4"]
