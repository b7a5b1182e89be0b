"""Background jobs run once per deployment (issue 19 item 3): a lease per job.

Every server process (each uvicorn worker, each host) runs the same loops; at each
round a loop asks ``my_turn`` and runs its job only when this process holds the job's
lease. The holder renews the lease at each of its rounds (``ttl`` past now); another
process takes it only once it has lapsed, i.e. when the holder stopped renewing it
(killed, stopped, stuck). On PostgreSQL the conditional UPDATE takes the row's lock,
so two processes asking at once see one winner; on SQLite writers take turns.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import BackgroundJob, utcnow


def new_holder() -> str:
    """A name for one server process (one app): ``host:pid:random``."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def my_turn(session: Session, job: str, holder: str, ttl: dt.timedelta, *, now: dt.datetime | None = None) -> bool:
    """Whether ``holder`` runs ``job`` now: it holds the job's lease (taken if it was free or
    had lapsed, renewed if it was its own) until ``now + ttl``. Flushed, not committed."""
    now = now or utcnow()
    taken = session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.name == job, or_(BackgroundJob.holder == holder, BackgroundJob.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        return True
    try:
        with session.begin_nested():
            session.add(BackgroundJob(name=job, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False  # another process holds it
    return True


def ran(session: Session, job: str, *, now: dt.datetime | None = None) -> None:
    """``job`` has just run (its holder says so)."""
    session.execute(update(BackgroundJob).where(BackgroundJob.name == job).values(last_run_at=now or utcnow())
                    .execution_options(synchronize_session=False))


def release(session: Session, holder: str, *, now: dt.datetime | None = None) -> None:
    """``holder`` is stopping: its leases lapse now, for another process to take at once."""
    session.execute(update(BackgroundJob).where(BackgroundJob.holder == holder).values(expires_at=now or utcnow())
                    .execution_options(synchronize_session=False))


def last_run(session: Session, job: str) -> dt.datetime | None:
    row = session.get(BackgroundJob, job)
    return row.last_run_at if row is not None else None
