"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import Depends, FastAPI
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from backend.api import docs, errors, redact
from backend.api.collab import router as collab_router
from backend.api.deps import SessionDep, refuse_hostile_url
from backend.api.escalations import router as escalations_router
from backend.api.messages import router as messages_router
from backend.api.reports import router as reports_router
from backend.api.routes import router
from backend.api.segments import router as segments_router
from backend.api.treatments import router as treatments_router
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.db import Database
from backend.security import HashPool
from backend.services import signin
from backend_client.models import Health, SweepResult
from config.settings import BackendSettings

if TYPE_CHECKING:
    from backend.services.treatments import RunReport

VERSION = "0.1.0"
MAX_BODY_BYTES = 1 << 20
"""No request of this API needs more than a megabyte; larger bodies are refused 413."""


log = logging.getLogger("collectdesk.backend")

RECHECK_LEASE_S = 300.0
"""The re-check's lease (at least; three rounds if longer): a round that takes long (a zone's
windows opening for a large portfolio) must not lose it to another worker half-way. A killed
holder's job is taken over once it has lapsed; one stopped lets it go at once."""
SWEEP_LEASE_S = 600.0
"""The sweep's lease: long enough for one sweep."""

SUPERVISOR_ENV = "COLLECTDESK_SUPERVISOR_PID"
"""Set by ``collectdesk serve``'s supervisor (``collectdesk.supervisor``) for its workers: its process id."""

SWEEP_LOCK_KEY = 0x5CD_5EE9
"""PostgreSQL advisory lock held by the process that is running the daily sweep."""


def _recheck(db: Database, holder: str | None = None, ttl: float = 90.0) -> int | None:
    """One round of the re-check; None when another server process holds the job (``jobs``)."""
    from backend.services import jobs
    from backend.services.ranking import refresh_all_due

    with db.sessionmaker() as session:
        if holder is not None:
            turn = jobs.my_turn(session, "recheck", holder, dt.timedelta(seconds=ttl))
            session.commit()  # the lease is not held in a transaction while the batches run
            if not turn:
                return None
        done = refresh_all_due(session)
        if holder is not None:
            jobs.ran(session, "recheck")
            session.commit()
        return done


async def recheck_loop(db: Database, every: float, *, holder: str | None = None) -> None:
    """Evaluate again, every ``every`` seconds, the accounts whose phone answer has
    lapsed: call windows open and close through the day in every zone, and the
    worklist's order (contactable first) must follow them. With several server processes
    on one database, the one holding the job's lease does it (``RECHECK_LEASE_S``)."""
    from backend.services import jobs

    holder = holder or jobs.new_holder()
    while True:
        try:
            done = await run_in_threadpool(_recheck, db, holder, max(3 * every, RECHECK_LEASE_S))
            if done:
                log.info("contactability evaluated again for %d accounts", done)
        except Exception:  # noqa: BLE001 - a failed round must not stop the loop; the next one retries
            log.exception("contactability round failed")
        await asyncio.sleep(every)


NOT_DUE = "not due"


def _sweep(db: Database, holder: str | None = None, every: float | None = None) -> SweepResult | None | str:
    """The sweep for every account as of today (UTC), committed; ``None`` when another
    server process has the job (its lease, or on PostgreSQL the advisory lock of one
    sweeping just now); ``NOT_DUE`` when one ran it less than ``every`` seconds ago.
    Without ``holder`` (``collectdesk sweep``, tests) it just runs."""
    from backend.models import utcnow
    from backend.services import jobs
    from backend.services.plans import sweep

    with db.sessionmaker() as session:
        if holder is not None:
            # Long enough for one sweep; once a sweep has run, the period since the last one
            # (by any process) says when the next is due.
            turn = jobs.my_turn(session, "sweep", holder, dt.timedelta(seconds=SWEEP_LEASE_S))
            last = jobs.last_run(session, "sweep")
            session.commit()
            if not turn:
                return None
            slack = min(60.0, (every or 0) / 10)
            if every and last is not None and utcnow() - last < dt.timedelta(seconds=every - slack):
                return NOT_DUE
        if db.dialect == "postgresql":
            got = session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY})
            if not got:
                return None
        result = sweep(session, utcnow().date())
        session.commit()
        signin.forget_stale(session)
        if holder is not None:
            jobs.ran(session, "sweep")
        session.commit()
        return result


async def sweep_loop(db: Database, every: float, *,
                     sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, holder: str | None = None) -> None:
    """Run the sweep at start-up and then every ``every`` seconds (a day by default),
    so that an instalment unpaid by its date plus the grace days is marked broken
    and its account rises in the worklist, even on a day with no payments. It also forgets
    the failed sign-ins that hold nobody back any more (``signin.forget_stale``). With
    several server processes on one database it runs once a period in all: in the process
    that holds its lease, when the last sweep (by any of them) is a period old."""
    from backend.services import jobs

    holder = holder or jobs.new_holder()
    while True:
        try:
            result = await run_in_threadpool(_sweep, db, holder, every)
            if result is None:
                log.info("sweep skipped: another worker is sweeping")
            elif isinstance(result, str):
                pass  # swept less than a period ago, by this process or another
            elif result.items_kept or result.items_broken or result.plans_kept or result.plans_broken:
                log.info("sweep as of %s: %d plan items kept, %d broken; %d plans kept, %d broken", result.as_of,
                         result.items_kept, result.items_broken, result.plans_kept, result.plans_broken)
        except Exception:  # noqa: BLE001 - a failed sweep must not stop the loop; the next one retries
            log.exception("sweep failed")
        await sleep(every)


TREAT_LEASE_S = 900.0
"""The treatments' lease: long enough for one run (a large day of letters)."""


def _treat(db: Database, settings: BackendSettings, holder: str, ttl: float = TREAT_LEASE_S) -> RunReport | None:
    """One treatments run in the process holding the job's lease (once per deployment,
    however many workers or hosts); None when another holds it."""
    from backend.services import jobs, treatments

    with db.sessionmaker() as session:
        turn = jobs.my_turn(session, "treatments", holder, dt.timedelta(seconds=ttl))
        session.commit()
    if not turn:
        return None
    report = treatments.run(db.sessionmaker, settings)
    with db.sessionmaker() as session:
        jobs.ran(session, "treatments")
        session.commit()
    return report


async def treatments_loop(db: Database, settings: BackendSettings, every: float, *, holder: str | None = None,
                          sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
    """Run the treatments every ``every`` seconds (``treatments_minutes``): each day's first run
    finds the steps due; every run sends what may go now (``backend.services.treatments``)."""
    from backend.services import jobs

    holder = holder or jobs.new_holder()
    while True:
        try:
            report = await run_in_threadpool(_treat, db, settings, holder, max(TREAT_LEASE_S, 2 * every))
            if report is not None and (report.planned or report.counts):
                log.info("treatments as of %s: %d newly due; %s", report.as_of, report.planned,
                         ", ".join(f"{n} {k}" for k, n in sorted(report.counts.items())) or "nothing sent")
            for outage in report.outages if report is not None else ():
                log.error("treatments: the %s channel is down (%s: %s)", outage["channel"], outage["stage"],
                          outage["message"])
        except Exception:  # noqa: BLE001 - a failed run must not stop the loop; the next one retries
            log.exception("treatments run failed")
        await sleep(every)


def _release_jobs(db: Database, holder: str) -> None:
    from backend.services import jobs

    with db.sessionmaker() as session:
        jobs.release(session, holder)
        session.commit()


async def config_loop(every: float) -> None:
    """Every ``every`` seconds, take the configuration again if it was reloaded
    (``backend.services.configuration``: on ``collectdesk serve``'s SIGHUP)."""
    from backend.services import configuration

    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(configuration.refresh)
        except Exception:  # noqa: BLE001 - the next look retries; the old configuration stays
            log.exception("looking for a new configuration failed")


def _exit_with_supervisor() -> None:
    """In a worker of ``collectdesk serve``: stop (SIGTERM, gracefully) when the supervisor is
    gone (killed with ``kill -9``), rather than keep its port and its jobs as an orphan."""
    import os
    import signal
    import threading
    import time

    supervisor = os.environ.get(SUPERVISOR_ENV)
    if not supervisor or not supervisor.isdigit() or os.getpid() == int(supervisor):
        return

    def _watch() -> None:
        while os.getppid() == int(supervisor):
            time.sleep(0.5)
        log.warning("the supervisor [%s] is gone: stopping worker [%d]", supervisor, os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=_watch, name="exit-with-supervisor", daemon=True).start()


def create_app(settings: BackendSettings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or BackendSettings()
    db = db or Database(settings.db, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow,
                        pool_timeout=settings.db_pool_timeout_seconds)
    redact.install()
    from backend.services import compliance, configuration

    compliance.configure(settings.policies)
    configuration.configure(settings.config_dir)  # a worker cannot start without a good one

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # The routes' threads, sized with the connection pool (settings: capacity).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        from sqlalchemy.engine import make_url

        log.info("collectdesk backend %s on %s: %d threads, %d+%d connections, at most %s requests at once",
                 VERSION, make_url(db.url).render_as_string(hide_password=True), settings.threads,
                 settings.db_pool_size, settings.db_max_overflow, settings.max_in_flight or "unlimited")
        _exit_with_supervisor()
        tasks = []
        holder = app.state.job_holder
        if settings.config_check_seconds > 0:
            tasks.append(asyncio.create_task(config_loop(settings.config_check_seconds)))
        if settings.recheck_seconds > 0:
            tasks.append(asyncio.create_task(recheck_loop(db, settings.recheck_seconds, holder=holder)))
        if settings.sweep_hours > 0:
            tasks.append(asyncio.create_task(sweep_loop(db, settings.sweep_hours * 3600, holder=holder)))
        if settings.treatments_minutes > 0:
            tasks.append(asyncio.create_task(treatments_loop(db, settings, settings.treatments_minutes * 60,
                                                             holder=holder)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if tasks:
                # Stopping (a restart, a deploy): another process takes the jobs at once.
                with contextlib.suppress(Exception):
                    await run_in_threadpool(_release_jobs, db, holder)
            hash_pool.close()

    app = FastAPI(title="collectdesk", version=VERSION, openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  lifespan=lifespan, dependencies=[Depends(refuse_hostile_url)])
    app.add_middleware(errors.BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.state.pressure = errors.Pressure()
    """What this worker admitted and refused lately: the ``Retry-After`` of its 503 Busy."""
    if settings.max_in_flight or settings.max_queue_seconds:
        app.add_middleware(errors.Admission, limit=settings.max_in_flight, pressure=app.state.pressure)
    app.state.settings = settings
    app.state.db = db
    from backend.services import jobs

    app.state.job_holder = jobs.new_holder()
    """This process's name in the background jobs' leases (``backend.services.jobs``)."""
    hash_pool = HashPool(settings.hash_workers, settings.hash_queue, settings.hash_nice)
    app.state.hash_pool = hash_pool
    """Where passwords are checked: a few threads of their own, never the event loop's or the requests'."""
    app.state.login_turns = asyncio.Semaphore(settings.login_db_concurrency)
    """How many sign-ins may be at the database at once (the others wait on the event loop)."""
    app.state.login_limits = signin.configure(settings)
    app.state.login_bell = signin.TurnBell()
    """Rung when a sign-in gives its turn back: the ones waiting for a turn look again."""
    app.state.trusted_proxies = signin.trusted_networks(settings.trusted_proxies)
    errors.install(app)
    app.router.route_class = UnitOfWorkRoute  # the app's own routes too (/healthz)
    app.include_router(router)
    app.include_router(escalations_router)
    app.include_router(messages_router)
    app.include_router(reports_router)
    app.include_router(segments_router)
    app.include_router(collab_router)
    app.include_router(treatments_router)
    docs.install(app)  # /docs and /redoc, their JavaScript and CSS served from here, not a CDN

    @app.get("/healthz", response_model=Health, tags=["health"], responses=errors.problems(422, 503))
    def healthz(session: SessionDep) -> Health:
        """200 when the database answers (for load balancers and reverse proxies: README), with the
        configuration this worker serves; 503 when it does not (or is too busy to, Retry-After)."""
        from sqlalchemy.exc import DBAPIError

        try:
            session.execute(text("SELECT 1"))
        except DBAPIError as exc:
            if "database is locked" in str(exc.orig):
                raise  # busy, not down: errors.install's 503 with Retry-After
            log.warning("health check: the database does not answer: %s", type(exc.orig).__name__)
            raise errors.ProblemError(503, "Unavailable", "The database does not answer",
                                      headers={"Retry-After": "5"}) from None
        return Health(database=db.dialect, version=VERSION, config=configuration.current().digest)

    return app
