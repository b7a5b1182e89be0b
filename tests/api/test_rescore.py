"""The portfolio rescore (issue 6): ``rescore_portfolio`` and ``collectdesk rescore``
give every account exactly what ``refresh_priority`` gives it, write only what
changed, never overwrite a save that raced the pass, and hand accounts whose
phone answer lapsed to the compliance engine.

The pass commits batch by batch, so it runs on a scratch database of its own:
a SQLite file, and when ``COLLECTDESK_TEST_DB`` is PostgreSQL also a database
``collectdesk_rescore`` made on that server (and dropped at the end).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.db import make_engine, normalize_url, upgrade
from backend.domain.strategy import load_split
from backend.models import Account, Contact, Plan, PlanItem, User, utcnow
from backend.seed import seed_portfolio
from backend.services import rescore as rescore_svc
from backend.services.compliance import histories_of
from backend.services.ranking import plan_rows, refresh_priority
from backend.services.rescore import rescore_portfolio

TEST_DB = os.environ.get("COLLECTDESK_TEST_DB", "")
ACCOUNTS = 240
PG_DATABASE = "collectdesk_rescore"


BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DB.startswith(("postgresql", "postgres:")) else [])


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
        scratch_postgres) -> Iterator[str]:  # noqa: ANN001
    """A migrated scratch database with a seeded portfolio, contacts and plans."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = normalize_url(f"sqlite:///{tmp_path_factory.mktemp('rescore') / 'rescore.db'}")
        else:
            url = normalize_url(stack.enter_context(scratch_postgres(PG_DATABASE)))
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_portfolio(session, ACCOUNTS, seed=11)
            session.commit()
            _add_work(session)
            session.commit()
        engine.dispose()
        yield url


def _add_work(session: Session) -> None:
    """Contacts and plans on some accounts, so every input of the rank is exercised:
    a promise due today, a broken promise, a call-back due, a recent contact, an old
    one, a broken plan, an active plan with an item due today."""
    now = utcnow()
    today = now.date()
    agent = session.scalar(select(User).where(User.username == "agent1"))
    ids = list(session.scalars(select(Account.id).order_by(Account.id).limit(40)))
    kinds = [
        {"result": "PTP", "ptp_date": today, "hours": 30},
        {"result": "PTP", "ptp_date": today - dt.timedelta(days=5), "hours": 200},
        {"result": "CB", "callback_at": now + dt.timedelta(minutes=30), "hours": 3},
        {"result": None, "hours": 2},
        {"result": None, "hours": 24 * 40},
    ]
    for n, account_id in enumerate(ids[:25]):
        kind = kinds[n % len(kinds)]
        session.add(Contact(account_id=account_id, agent_id=agent.id, channel="phone", direction="outbound",
                            party="debtor", outcome="RPC" if kind["result"] else "NA", result=kind["result"],
                            ptp_date=kind.get("ptp_date"), callback_at=kind.get("callback_at"),
                            started_at=now - dt.timedelta(hours=kind["hours"])))
    for n, account_id in enumerate(ids[25:35]):
        account = session.get(Account, account_id)
        status = "broken" if n % 2 else "active"
        plan = Plan(account_id=account_id, team_id=account.team_id, kind="instalment", status=status,
                    currency=account.currency, total_minor=30_000, balance_at_draft_minor=account.balance_minor,
                    created_by_id=agent.id)
        plan.items.append(PlanItem(seq=1, due=today if status == "active" else today - dt.timedelta(days=20),
                                   amount_minor=10_000, status="due" if status == "active" else "broken"))
        plan.items.append(PlanItem(seq=2, due=today + dt.timedelta(days=30), amount_minor=20_000, status="due"))
        session.add(plan)
    session.flush()
    # As the services do after a contact or a plan: the account's stored answer and rank follow.
    for account in session.scalars(select(Account).where(Account.id.in_(ids[:35]))):
        refresh_priority(session, account, now)


def _expected(engine: Engine, now: dt.datetime) -> dict[int, tuple]:
    """What ``refresh_priority`` computes for every account, nothing written."""
    with Session(engine) as session:
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        ids = [a.id for a in accounts]
        contacts, plans = histories_of(session, ids, now), plan_rows(session, ids)
        out = {}
        for account in accounts:
            v = refresh_priority(session, account, now, history=contacts[account.id], plans=plans[account.id],
                                 write=False)
            out[account.id] = (v["risk"], v["priority"], v["reasons"], v["strategy"])
        session.rollback()
    return out


def _stored(engine: Engine) -> dict[int, tuple]:
    with Session(engine) as session:
        rows = session.execute(select(Account.id, Account.risk, Account.priority, Account.reasons, Account.strategy))
        return {i: (risk, priority, reasons, strategy) for i, risk, priority, reasons, strategy in rows}


def _spoil(engine: Engine) -> None:
    """Every account's score and rank made wrong, as if the scorecard and strategies had changed."""
    with engine.begin() as conn:
        conn.execute(update(Account).values(risk=None, priority=-1.0, reasons=[], strategy="old"))


def test_rescore_gives_every_account_what_refresh_priority_gives(url: str) -> None:
    engine = make_engine(url)
    try:
        _spoil(engine)
        now = utcnow()
        done = rescore_portfolio(url, now, workers=1, batch=50)
        assert done.accounts == ACCOUNTS and done.lapsed == 0
        assert done.changed == ACCOUNTS and done.raced == 0
        expected, stored = _expected(engine, now), _stored(engine)
        assert stored == expected
        reasons = {r["code"] for _, _, rs, _ in stored.values() for r in rs}
        # The work added above reached the rank, through the same rules as refresh_priority.
        assert {"promise_due", "broken_promise", "callback_due", "worked_recently", "days_since_contact"} <= reasons
        # Nothing changed since: a second pass writes nothing.
        again = rescore_portfolio(url, now, workers=1, batch=50)
        assert (again.accounts, again.changed, again.raced) == (ACCOUNTS, 0, 0)
    finally:
        engine.dispose()


def test_several_processes_give_the_same_answer(url: str) -> None:
    engine = make_engine(url)
    try:
        _spoil(engine)
        now = utcnow()
        done = rescore_portfolio(url, now, workers=2, batch=37)
        assert (done.accounts, done.changed, done.workers) == (ACCOUNTS, ACCOUNTS, 2)
        assert _stored(engine) == _expected(engine, now)
    finally:
        engine.dispose()


def test_a_save_during_the_pass_is_not_overwritten(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An account written by someone else between the pass's read and its write keeps
    what that save wrote: the pass counts it as raced and leaves it."""
    engine = make_engine(url)
    try:
        _spoil(engine)
        with Session(engine) as session:
            victim = session.scalar(select(Account.id).order_by(Account.id).offset(5).limit(1))
        write = rescore_svc._Batch._write
        raced = []

        def save_first(self, conn, changed):  # noqa: ANN001, ANN202
            if not raced and any(c[0] == victim for c in changed):
                # Another request saves the account now (its own refresh_priority, here a marker).
                with engine.begin() as other:
                    other.execute(update(Account).where(Account.id == victim).values(priority=123.0))
                raced.append(victim)
            return write(self, conn, changed)

        monkeypatch.setattr(rescore_svc._Batch, "_write", save_first)
        done = rescore_portfolio(url, utcnow(), workers=1, batch=20)
        assert raced == [victim]
        assert (done.changed, done.raced) == (ACCOUNTS - 1, 1)
        assert _stored(engine)[victim][1] == 123.0
    finally:
        engine.dispose()


def test_lapsed_phone_answers_go_to_the_compliance_engine(url: str) -> None:
    engine = make_engine(url)
    try:
        now = utcnow()
        with engine.begin() as conn:
            ids = list(conn.execute(select(Account.id).order_by(Account.id.desc()).limit(7)).scalars())
            conn.execute(update(Account).where(Account.id.in_(ids))
                         .values(recheck_at=now - dt.timedelta(minutes=1), priority=-1.0))
        done = rescore_portfolio(url, now, workers=1)
        assert done.lapsed == 7 and done.accounts == ACCOUNTS - 7
        with Session(engine) as session:
            still = session.scalar(select(func.count()).select_from(Account)
                                   .where(Account.id.in_(ids), Account.recheck_at <= now))
            assert still == 0  # evaluated again: each answer now holds until some later instant
        stored, expected = _stored(engine), _expected(engine, now)
        assert {i: stored[i] for i in ids} == {i: expected[i] for i in ids}
    finally:
        engine.dispose()


def test_a_changed_strategy_reaches_every_account(url: str) -> None:
    """The reason for a whole-portfolio pass: new strategy weights rank every account anew."""
    import dataclasses

    engine = make_engine(url)
    try:
        now = utcnow()
        rescore_portfolio(url, now, workers=1)
        split = load_split()
        heavier = dataclasses.replace(split, champion=dataclasses.replace(
            split.champion, expected_recovery=split.champion.expected_recovery * 2),
            challenger=dataclasses.replace(split.challenger, expected_recovery=split.challenger.expected_recovery * 2))
        before = _stored(engine)
        done = rescore_portfolio(url, now, workers=1, split=heavier)
        after = _stored(engine)
        moved = sum(1 for i in before if before[i][1] != after[i][1])
        assert done.changed == moved > ACCOUNTS // 2
        assert all(before[i][0] == after[i][0] for i in before)  # the risk is the scorecard's, not the strategy's
    finally:
        engine.dispose()


def test_cli_rescore(tmp_path: Path) -> None:
    from collectdesk.cli.entry import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        seed_portfolio(session, 30, seed=5)
        session.commit()
    _spoil(engine)
    engine.dispose()
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["rescore", "--db", url]) == 0
    line = out.getvalue().strip()
    assert line.startswith("rescored 30 accounts in ") and ": 30 changed, 0 as they were" in line, line
    assert main(["rescore", "--db", url, "--workers", "-1"]) == 1  # refused with a clear error


def test_reasons_json_is_json_dumps() -> None:
    import json

    from backend.domain.priority import Why
    from backend.services.rescore import reasons_json

    reasons = [Why("dpd", "45 days past due", {"days": 45}), Why("current", "not past due", {}),
               Why("x", "利率 “quoted”\n", {"bucket": "30", "share": 0.5})]
    for some in ([], reasons[:1], reasons, reasons[::-1], reasons):  # twice: from the cache too
        assert reasons_json(some) == json.dumps([r.as_dict() for r in some])


def test_sqlite_writer_settings_are_the_pass_s_only(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass's big page cache and rare checkpoints (SQLite) hold while it writes;
    the pooled connections go back to the application as they were."""
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's per-connection settings")
    names = rescore_svc.SQLITE_WRITER_PRAGMAS

    def settings(conn) -> dict[str, int]:  # noqa: ANN001
        raw = conn.connection.driver_connection
        return {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

    seen: list[dict[str, int]] = []
    real_write = rescore_svc._Batch._write

    def write(self: rescore_svc._Batch, conn, changed):  # noqa: ANN001, ANN202
        seen.append(settings(conn))
        return real_write(self, conn, changed)

    monkeypatch.setattr(rescore_svc._Batch, "_write", write)
    engine = make_engine(url)
    try:
        _spoil(engine)
        with engine.connect() as a, engine.connect() as b:
            before = settings(a)
            assert settings(b) == before != names
        done = rescore_svc.rescore_range(engine, 1, 10**9, utcnow(), batch=50)
        assert done.changed == ACCOUNTS and seen and all(s == names for s in seen)
        with engine.connect() as a, engine.connect() as b:  # the pool's two: the pass's writer and reader
            assert engine.pool.checkedout() == 2 and engine.pool.size() >= 2
            assert settings(a) == settings(b) == before
    finally:
        engine.dispose()


def test_a_big_portfolio_is_rescored_by_one_process_a_cpu_and_one_more_on_postgresql() -> None:
    """``default_workers``: one process for a small portfolio; past ``SMALL`` accounts one a CPU
    on SQLite (its writes are the processes' own, one at a time) and one more on PostgreSQL
    (one computes while another waits for the server to write its batch)."""
    from backend.services.rescore import SMALL, default_workers

    assert default_workers("postgresql", 2, SMALL) == default_workers("sqlite", 8, SMALL) == 1
    assert default_workers("postgresql", 2, SMALL + 1) == 3
    assert default_workers("postgresql", 16, 1_000_000) == 17
    assert default_workers("sqlite", 2, 1_000_000) == 2
    assert default_workers("sqlite", 1, 1_000_000) == 1
