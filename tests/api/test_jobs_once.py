"""Background jobs once per deployment (issue 19 item 3): with several server processes
on one database (``serve --workers N``, several hosts), the contactability re-check and
the daily sweep run in one of them, the one holding the job's lease; when it stops,
another takes over.

The lease on the suite's database (rolled back per test), then two apps (two "workers",
each its own holder) running their loops side by side on a database of their own (a
SQLite file, or a scratch database on the suite's PostgreSQL server).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.services import jobs
from config.settings import BackendSettings
from tests.procs import own_database

T0 = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def test_a_lease_is_held_renewed_lapses_and_is_released(session: Session) -> None:
    assert jobs.my_turn(session, "recheck", "a", MINUTE, now=T0)
    assert not jobs.my_turn(session, "recheck", "b", MINUTE, now=T0 + dt.timedelta(seconds=30))
    assert jobs.my_turn(session, "recheck", "a", MINUTE, now=T0 + dt.timedelta(seconds=50))  # renewed
    assert not jobs.my_turn(session, "recheck", "b", MINUTE, now=T0 + dt.timedelta(seconds=100))
    # a stopped renewing (died): once lapsed, b has it, and a does not get it back.
    assert jobs.my_turn(session, "recheck", "b", MINUTE, now=T0 + dt.timedelta(seconds=111))
    assert not jobs.my_turn(session, "recheck", "a", MINUTE, now=T0 + dt.timedelta(seconds=112))
    assert jobs.my_turn(session, "sweep", "a", MINUTE, now=T0 + dt.timedelta(seconds=112))  # one lease per job
    jobs.release(session, "b", now=T0 + dt.timedelta(seconds=113))  # b stops
    assert jobs.my_turn(session, "recheck", "a", MINUTE, now=T0 + dt.timedelta(seconds=114))
    jobs.ran(session, "recheck", now=T0 + dt.timedelta(seconds=115))
    assert jobs.last_run(session, "recheck") == T0 + dt.timedelta(seconds=115)
    assert jobs.last_run(session, "nothing") is None


PG_DATABASE = "collectdesk_jobs_once"


@pytest.fixture(scope="module")
def jobs_db(tmp_path_factory: pytest.TempPathFactory, scratch_postgres) -> Iterator[str]:  # noqa: ANN001
    """The backend's own database, migrated and seeded: on the suite's database server."""
    with own_database(PG_DATABASE, tmp_path_factory.mktemp("jobs-once"), scratch_postgres, accounts=12) as url:
        yield url


async def test_two_workers_run_each_job_once_and_the_other_takes_over(jobs_db: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    turns: list[tuple[str, str, bool]] = []
    sweeps: list[str] = []
    real_turn, real_sweep = jobs.my_turn, __import__("backend.services.plans", fromlist=["sweep"]).sweep

    def my_turn(session, job, holder, ttl, *, now=None):  # noqa: ANN001, ANN202
        got = real_turn(session, job, holder, ttl, now=now)
        turns.append((job, holder, got))
        return got

    def sweep(session, as_of):  # noqa: ANN001, ANN202
        sweeps.append(str(as_of))
        return real_sweep(session, as_of)

    monkeypatch.setattr(jobs, "my_turn", my_turn)
    monkeypatch.setattr("backend.services.plans.sweep", sweep)
    settings = BackendSettings(db=jobs_db, recheck_seconds=0.2, sweep_hours=1 / 3600)  # every 1 s
    first, second = create_app(settings), create_app(settings)
    a, b = first.state.job_holder, second.state.job_holder

    def rounds(holder: str, job: str) -> int:
        return sum(1 for j, h, _ in turns if h == holder and j == job)

    async def until(done, what: str, timeout: float = 60.0) -> None:  # noqa: ANN001
        deadline = asyncio.get_running_loop().time() + timeout
        while not done():
            assert asyncio.get_running_loop().time() < deadline, f"{what}: {turns[-20:]}"
            await asyncio.sleep(0.05)

    async with first.router.lifespan_context(first):
        await until(lambda: rounds(a, "recheck") >= 1 and rounds(a, "sweep") >= 1, "the first worker started")
        async with second.router.lifespan_context(second):
            await until(lambda: rounds(b, "recheck") >= 5 and rounds(b, "sweep") >= 3, "both working")
            both = list(turns)
        # Side by side, each job ran in one worker: the second never had a turn.
        for job in ("recheck", "sweep"):
            winners = {h for j, h, got in both if j == job and got}
            assert winners == {a}, (job, both)
        assert sweeps  # the first worker swept (at start-up)
        swept_while_both = len(sweeps)
    # The first stops (its leases lapse at once); the second, started again, takes over at its first round.
    turns.clear()
    third = create_app(settings)
    c = third.state.job_holder
    async with third.router.lifespan_context(third):
        await until(lambda: any(j == "recheck" and h == c and got for j, h, got in turns), "taken over")
        await until(lambda: any(j == "sweep" and h == c and got for j, h, got in turns), "sweep taken over")
    assert swept_while_both >= 1
