"""The lapse storm (issue 19 item 5): when a call window opens or closes for whole
zones, many stored phone answers lapse at once, and ``refresh_all_due`` evaluates
accounts with no contact history by kind (``ranking.Kinds``: one engine evaluation
per kind). Every account must get exactly what the engine, account by account
(``refresh_priority``), gives it.

The portfolio mixes zones (US states, China, Taiwan; several phones of several
kinds), contacts, ceases, pauses, legal holds, numbers marked do not call, a zone
the customer confirmed and an address abroad. The test owns its clock: it starts
after every stored answer has lapsed and moves forward through a day, so that
windows open and close in every zone. It runs on a scratch SQLite file, and on a
scratch PostgreSQL database when ``COLLECTDESK_TEST_DB`` names a server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from backend.compliance.engine import Place, contact_state
from backend.db import make_engine, normalize_url, upgrade
from backend.models import Account, Address, Contact, User
from backend.seed import seed_portfolio
from backend.services import compliance
from backend.services.ranking import Kinds, answer_values, plan_rows, refresh_all_due, refresh_due, refresh_priority

TEST_DB = os.environ.get("COLLECTDESK_TEST_DB", "")
ACCOUNTS = 300
PG_DATABASE = "collectdesk_lapse_storm"
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DB.startswith(("postgresql", "postgres:")) else [])
STORED = ("priority", "reasons", "contactable", "risk", "strategy", "next_contact_at", "contact_blocks", "recheck_at")


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           scratch_postgres) -> Iterator[Engine]:  # noqa: ANN001
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = normalize_url(f"sqlite:///{tmp_path_factory.mktemp('storm') / 'storm.db'}")
        else:
            url = normalize_url(stack.enter_context(scratch_postgres(PG_DATABASE)))
        upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            seed_portfolio(session, ACCOUNTS, seed=23)
            session.commit()
            _mix(session)
            session.commit()
        yield engine
        engine.dispose()


def _mix(session: Session) -> None:
    """Accounts made unlike the seeded ones: contacts (recent, old, a call back asked
    for), pauses, ceases, legal holds, numbers marked do not call, a confirmed zone,
    an address in another country. Their stored answers are left as they were: the
    storm re-evaluates everything."""
    start = session.scalar(select(func.max(Account.recheck_at)))
    agent = session.scalar(select(User).where(User.username == "agent1"))
    accounts = list(session.scalars(select(Account).order_by(Account.id)))
    for n, account in enumerate(accounts[:30]):  # contact histories: these go one by one
        session.add(Contact(account_id=account.id, agent_id=agent.id, channel="phone", direction="outbound",
                            party="debtor", outcome="RPC" if n % 3 else "NA", result=("CB" if n % 5 == 0 else None),
                            callback_at=start + dt.timedelta(hours=2 + n % 7) if n % 5 == 0 else None,
                            started_at=start - dt.timedelta(hours=1 + 7 * n)))
    for n, account in enumerate(accounts[30:]):
        customer = account.customer
        match n % 12:
            case 0:
                account.flags = {"dispute": True}
            case 1:
                account.flags = {"cease": ["phone"]}
            case 2:
                account.flags = {"cease": ["email"]}
            case 3:
                account.status = "legal"
            case 4:
                for phone in customer.phones:
                    phone.do_not_call = True
            case 5:
                customer.phones[0].do_not_call = True
            case 6:
                customer.timezone, customer.timezone_source = "Europe/London", "customer"
            case 7:
                customer.addresses.append(Address(text="1 High St", country="GB", region=None))
            case 8:
                account.flags = {"complaint": True, "cease": ["phone", "sms"]}
    # The same flags written in either order: a kind's key must not depend on their order.
    for account in accounts[60:70]:
        account.flags = {"cease": ["email"], "attorney": False} if account.id % 2 else {"attorney": False,
                                                                                       "cease": ["email"]}


def _answers(session: Session, ids: list[int] | None = None) -> dict[int, dict]:
    stmt = select(Account.id, *(getattr(Account, name) for name in STORED))
    if ids is not None:
        stmt = stmt.where(Account.id.in_(ids))
    return {r[0]: dict(zip(STORED, r[1:], strict=True)) for r in session.execute(stmt)}


def _one_by_one(session: Session, ids: list[int], now: dt.datetime) -> dict[int, dict]:
    """What the engine gives each account, one by one (nothing written)."""
    accounts = session.scalars(select(Account).where(Account.id.in_(ids))).all()
    histories, plans = compliance.histories_of(session, ids, now), plan_rows(session, ids)
    out = {a.id: refresh_priority(session, a, now, history=histories[a.id], plans=plans[a.id], write=False)
           for a in accounts}
    session.rollback()
    return out


def test_a_storm_by_kind_gives_every_account_the_engine_s_own_answer(engine: Engine) -> None:
    with Session(engine) as session:
        clock = session.scalar(select(func.max(Account.recheck_at))) + dt.timedelta(minutes=1)
        everyone = list(session.scalars(select(Account.id).where(Account.status != "closed").order_by(Account.id)))
    contactable_seen = set()
    for step, hours in enumerate((0, 3, 5, 7, 11, 13, 17, 23)):
        now = clock + dt.timedelta(hours=hours, minutes=7 * step)
        with Session(engine) as session:
            before = _answers(session)
            due = [i for i in everyone if before[i]["recheck_at"] <= now]
            done = refresh_all_due(session, now, batch=37)
            assert done == len(due)
            after = _answers(session)
            assert {i: after[i] for i in due} == _one_by_one(session, due, now), f"at {now}"
            untouched = set(before) - set(due)
            assert {i: after[i] for i in untouched} == {i: before[i] for i in untouched}
            assert all(after[i]["recheck_at"] > now for i in due)
            contactable_seen |= {after[i]["contactable"] for i in due}
        if step == 0:
            assert len(due) == len(everyone)  # the first instant: every answer had lapsed
    assert contactable_seen == {True, False}  # windows opened and closed through the day


def test_kinds_are_few_and_accounts_with_history_go_one_by_one(engine: Engine) -> None:
    with Session(engine) as session:
        now = session.scalar(select(func.max(Account.recheck_at))) + dt.timedelta(hours=2)
        session.execute(update(Account).values(recheck_at=now - dt.timedelta(seconds=1)))
        with_history = set(session.scalars(select(Contact.account_id).distinct()))
        kinds = Kinds(now)
        done = refresh_due(session, now, limit=10_000, kinds=kinds)
        by_kind = done - len(with_history)
        assert by_kind > 200
        assert 0 < kinds.evaluated < by_kind  # one engine evaluation per kind, not per account
        session.rollback()
        # The same instant again (the next batches of one storm): every kind is known already.
        session.execute(update(Account).values(recheck_at=now - dt.timedelta(seconds=1)))
        evaluated = kinds.evaluated
        assert refresh_due(session, now, limit=10_000, kinds=kinds) == done
        assert kinds.evaluated == evaluated
        session.rollback()


def test_a_kind_ignores_which_numbers_the_phones_have() -> None:
    """With no contact history and no number named, the engine reads numbers as names
    only: two accounts alike but for their numbers get the same answer (the soundness
    of ``Kinds``' key), including the do-not-call marks and kinds of each phone."""
    zones = ["America/New_York", "America/Los_Angeles", "Asia/Shanghai", "Asia/Taipei", "Pacific/Honolulu",
             "Europe/London"]

    @settings(max_examples=150, deadline=None)
    @given(country=st.sampled_from([("US", "NY"), ("US", "CA"), ("US", None), ("CN", None), ("TW", None)]),
           places=st.lists(st.sampled_from(zones), min_size=1, max_size=3, unique=True),
           flags=st.sampled_from([{}, {"dispute": True}, {"cease": ["phone"]}, {"cease": ["sms"]}, {"legal": True},
                                  {"attorney": True}]),
           phones=st.lists(st.tuples(st.sampled_from(["mobile", "home", "work", "other"]), st.booleans()),
                           min_size=0, max_size=3),
           minutes=st.integers(min_value=0, max_value=14 * 24 * 60))
    def check(country, places, flags, phones, minutes) -> None:  # noqa: ANN001
        at = dt.datetime(2026, 12, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)
        where = tuple(Place(z, ("phone",)) for z in sorted(places))
        answers = []
        for prefix in ("+1212555", "+8613812"):
            numbers = [(f"{prefix}{n:04d}", kind, dnc) for n, (kind, dnc) in enumerate(phones)]
            subject = compliance.make_subject(flags, *country, where, numbers)
            answers.append(answer_values(contact_state(compliance.policies_at(*country), subject, (), "phone", at)))
        assert answers[0] == answers[1]

    check()

