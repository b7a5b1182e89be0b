"""The payment file (SPEC §2, §5; issue 4 items 5 and 6) and ``collectdesk sweep``:
all or nothing, every bad row listed by line and field, idempotent on
``bank_ref``, audited as the importing admin, matched to plan items, and a
sweep that changes nothing the second time. The clock is held still."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import backend.models
import backend.services.plans as plans_svc
from backend.importer import ImportRefused
from backend.models import Account, AuditEntry, Payment, Plan, PlanEvent, PlanItem, User
from backend.payments_import import COLUMNS, import_payments, parse_payments
from backend_client.models import PlanCreate

TODAY = dt.date(2026, 3, 11)
NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
HEADER = ",".join(COLUMNS)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend's clock, held at ``NOW`` (payments may not be in the future, plans not in the past)."""
    original = backend.models.utcnow
    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", lambda: NOW)


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def count(session: Session, model, *where) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model).where(*where))


def draft_active_plan(session: Session, account_ref: str, *, first_due: dt.date, amount: str = "300.00",
                      count_: int = 3) -> Plan:
    """An instalment plan within agent1's authority, drafted and submitted (so active)."""
    agent = session.scalar(select(User).where(User.username == "agent1"))
    account = session.scalar(select(Account).where(Account.account_ref == account_ref))
    plan = plans_svc.draft(session, agent, account.id, PlanCreate(kind="instalment", amount=amount, count=count_,
                                                                  first_due=first_due))
    plan = plans_svc.act(session, agent, plan.id, "submit")
    assert plan.status == "active"
    session.commit()
    return plan


# --------------------------------------------------------------------------
# Parsing (no database)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["line 1: header: the file is empty"]),
    ("bank_ref,account_ref,amount\nB,A,1\n", ["line 1: header: missing columns currency, paid_at"]),
    (HEADER + ",note\n", ["line 1: header: unknown column 'note'"]),
])
def test_header_problems(text: str, expected: list[str]) -> None:
    parsed = parse_payments(text)
    assert parsed.rows == [] and [str(e) for e in parsed.errors] == expected


@pytest.mark.parametrize(("paid_at", "message"), [
    ("2026-03-11T09:00:00", "has no UTC offset; write it with one, like 2026-03-11T15:00:00+08:00 or "
                            "2026-03-11T07:00:00Z"),
    ("2026-03-11", "a date without a time and UTC offset; write the time with its offset, like "
                   "2026-03-11T15:00:00+08:00"),
    ("1773241200", "not an ISO 8601 date and time (like 2026-03-11T15:00:00+08:00)"),
    ("11/03/2026 09:00", "not an ISO 8601 date and time (like 2026-03-11T15:00:00+08:00)"),
    ("2026-02-30T09:00:00Z", "Input should be a valid datetime or date, day value is outside expected range"),
    ("", "is required"),
])
def test_a_paid_at_without_an_offset_or_not_iso_is_refused_naming_the_field(paid_at: str, message: str) -> None:
    parsed = parse_payments(csv_bytes(f"B1,P-1,10.00,USD,{paid_at}").decode())
    assert [str(e) for e in parsed.errors] == [f"line 2: paid_at: {message}"]


def test_offsets_are_instants_and_an_exact_repeat_in_the_file_is_skipped() -> None:
    parsed = parse_payments(csv_bytes(
        "B1,P-1,10.00,USD,2026-03-11T09:00:00+08:00",
        "B1,P-1,10,USD,2026-03-11T01:00:00Z",  # the same payment: same instant, same amount
        "B2,P-1,5.5,USD,2026-03-11 01:00:00-05:00",
    ).decode())
    assert parsed.errors == [] and parsed.repeated == 1 and parsed.count == 3
    assert [(line, d.bank_ref, d.paid_at.astimezone(dt.UTC)) for line, d in parsed.rows] == [
        (2, "B1", dt.datetime(2026, 3, 11, 1, 0, tzinfo=dt.UTC)),
        (4, "B2", dt.datetime(2026, 3, 11, 6, 0, tzinfo=dt.UTC)),
    ]


def test_a_bank_ref_twice_with_other_details_names_both_lines() -> None:
    parsed = parse_payments(csv_bytes(
        "B1,P-1,10.00,USD,2026-03-11T09:00:00Z",
        "B1,P-2,12.00,USD,2026-03-11T09:00:00Z",
    ).decode())
    assert [str(e) for e in parsed.errors] == [
        "line 3: bank_ref: B1 is also on line 2 with other details (its account_ref, amount differ)"]


# --------------------------------------------------------------------------
# Through the service (shared database: SQLite, or PostgreSQL)


def test_a_good_file_is_imported_through_the_service_and_again_changes_nothing(session: Session, make_account) -> None:  # noqa: ANN001
    usd = make_account(balance="1200.00", overdue="300.00", dpd=35)
    cny = make_account(currency="CNY", balance="8000.00", overdue="2000.00", minimum_due="500.00", dpd=95, team="B",
                       agent="agent3")
    data = csv_bytes(f"SVC-1,{usd.account_ref},100.00,USD,2026-03-11T10:00:00-04:00",
                     f"SVC-2,{cny.account_ref},500,CNY,2026-03-10T09:00:00+08:00",
                     f"SVC-3,{usd.account_ref},0.50,USD,2026-03-11T14:00:00Z")
    progress: list[tuple[int, int]] = []
    result = import_payments(session, data, progress=lambda d, t: progress.append((d, t)))
    assert result.ok, result.errors
    assert (result.rows, result.created, result.recorded_already, result.accounts) == (3, 3, 0, 2)
    assert result.totals == {"USD": 10050, "CNY": 50000}
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)
    session.refresh(usd)
    session.refresh(cny)
    assert (usd.balance_minor, usd.overdue_minor) == (109950, 19950)
    assert (cny.balance_minor, cny.overdue_minor) == (750000, 150000)

    admin = session.scalar(select(User).where(User.username == "admin"))
    payments = session.scalars(select(Payment).where(Payment.bank_ref.like("SVC-%")).order_by(Payment.bank_ref)).all()
    assert [(p.bank_ref, p.amount_minor, p.paid_at, p.created_by_id) for p in payments] == [
        ("SVC-1", 10000, dt.datetime(2026, 3, 11, 14, 0, tzinfo=dt.UTC), admin.id),
        ("SVC-2", 50000, dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC), admin.id),
        ("SVC-3", 50, dt.datetime(2026, 3, 11, 14, 0, tzinfo=dt.UTC), admin.id),
    ]
    audited = count(session, AuditEntry, AuditEntry.entity == "payment",
                    AuditEntry.entity_id.in_([p.id for p in payments]), AuditEntry.user_id == admin.id)
    assert audited == 3

    before = (count(session, Payment), count(session, AuditEntry), usd.version, cny.version)
    again = import_payments(session, data)
    assert again.ok and (again.created, again.recorded_already, again.totals) == (0, 3, {})
    session.refresh(usd)
    session.refresh(cny)
    assert (count(session, Payment), count(session, AuditEntry), usd.version, cny.version) == before
    assert usd.balance_minor == 109950


def test_a_bad_file_writes_nothing_and_every_problem_is_named(session: Session, make_account) -> None:  # noqa: ANN001
    usd = make_account(balance="1200.00", overdue="300.00")
    ref = usd.account_ref
    import_payments(session, csv_bytes(f"SVC-9,{ref},20.00,USD,2026-03-01T10:00:00Z"))
    payments_before = count(session, Payment)
    result = import_payments(session, csv_bytes(
        f"SVC-10,{ref},100.00,USD,2026-03-11T10:00:00Z",  # good
        f"SVC-11,{ref},12.345,USD,2026-03-11T10:00:00Z",
        "SVC-12,NO-SUCH,1.00,USD,2026-03-11T10:00:00Z",
        f"SVC-13,{ref},1.00,CNY,2026-03-11T10:00:00Z",
        f"SVC-14,{ref},0,USD,2026-03-11T10:00:00Z",
        f"SVC-15,{ref},1.00,USD,2026-03-12T10:00:00Z",
        f"SVC-9,{ref},25.00,USD,2026-03-01T10:00:00Z",
        f"SVC-10,{ref},100.00,USD,2026-03-11T11:00:00Z",
        "SVC-16,NO-SUCH,-1,EUR,2026-03-11T10:00:00",
    ))
    assert [str(e) for e in result.errors] == [
        "line 3: amount: USD has 2 decimal places at most",
        "line 4: account_ref: no account NO-SUCH",
        "line 5: currency: the account is in USD",
        "line 6: amount: must be more than zero",
        "line 7: paid_at: is in the future",
        "line 8: bank_ref: SVC-9 was recorded already with other details (its amount differs)",
        "line 9: bank_ref: SVC-10 is also on line 2 with other details (its paid_at differs)",
        "line 10: account_ref: no account NO-SUCH",
        "line 10: paid_at: has no UTC offset; write it with one, like 2026-03-11T15:00:00+08:00 or 2026-03-11T07:00:00Z",
    ]
    assert result.created == 0 and result.totals == {}
    assert count(session, Payment) == payments_before
    session.refresh(usd)
    assert usd.balance_minor == 118000  # only the first file's 20.00


@pytest.mark.parametrize(("actor", "needle"), [("nobody", "no user 'nobody'"), ("agent1", "an agent;"),
                                               ("super1", "a supervisor;")])
def test_import_as_someone_who_may_not(session: Session, make_account, actor: str, needle: str) -> None:  # noqa: ANN001
    usd = make_account()
    with pytest.raises(ImportRefused, match=needle):
        import_payments(session, csv_bytes(f"SVC-20,{usd.account_ref},1.00,USD,2026-03-11T10:00:00Z"), actor=actor)
    assert count(session, Payment, Payment.bank_ref == "SVC-20") == 0


def test_a_payment_file_marks_the_first_instalment_kept_through_the_service(session: Session, make_account) -> None:  # noqa: ANN001
    usd = make_account(balance="1200.00", overdue="300.00")
    plan = draft_active_plan(session, usd.account_ref, first_due=TODAY + dt.timedelta(days=7))
    result = import_payments(session, csv_bytes(f"SVC-30,{usd.account_ref},100.00,USD,2026-03-11T10:00:00Z"))
    assert result.ok and (result.items_kept, result.items_broken, result.plans_kept) == (1, 0, 0)
    session.refresh(plan)
    assert [(i.seq, i.paid_minor, i.status) for i in plan.items] == [(1, 10000, "kept"), (2, 0, "due"), (3, 0, "due")]
    assert plan.status == "active"


# --------------------------------------------------------------------------
# Through the console script (its own SQLite file)

ACCOUNTS = (
    "account_ref,customer_name,phones,currency,credit_limit,balance,overdue,minimum_due,dpd,card_number,team,agent\n"
    "P-1,Ann Lee,+12125550101,USD,5000,1200.00,300.00,50.00,35,4111111111111111,A,agent1\n"
    "P-2,王小明,+8613812345678,CNY,20000,8000,2000,500,95,6228480000001234,B,agent3\n"
)
GOOD = [
    "B-1,P-1,100.00,USD,2026-03-11T10:00:00-04:00",
    "B-2,P-2,500,CNY,2026-03-10T09:00:00+08:00",
    "B-3,P-1,25.50,USD,2026-03-11T14:00:00Z",
]


@pytest.fixture
def bank_url(cli, migrated_url: str, tmp_path: Path) -> str:  # noqa: ANN001
    """A migrated database with the demo users and the accounts P-1 (USD) and P-2 (CNY)."""
    assert cli("seed", "--accounts", "0", "--db", migrated_url).code == 0
    path = tmp_path / "accounts.csv"
    path.write_text(ACCOUNTS, encoding="utf-8")
    run = cli("import", "accounts", str(path), "--db", migrated_url)
    assert run.code == 0, run.err
    return migrated_url


@contextmanager
def db(url: str) -> Iterator[Session]:
    from backend.db import make_engine

    engine = make_engine(url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            yield session
    finally:
        engine.dispose()


def rows(session: Session, *columns) -> list[tuple]:  # noqa: ANN002
    return sorted(tuple(r) for r in session.execute(select(*columns)))


def state(url: str) -> dict:
    """What an import may change: payments, audit rows, balances, plan items and plans."""
    with db(url) as s:
        return {
            "payments": rows(s, Payment.bank_ref, Payment.amount_minor),
            "audit": count(s, AuditEntry),
            "accounts": rows(s, Account.account_ref, Account.balance_minor, Account.overdue_minor, Account.dpd,
                             Account.version),
            "items": rows(s, PlanItem.id, PlanItem.paid_minor, PlanItem.status),
            "plans": rows(s, Plan.id, Plan.status),
            "events": count(s, PlanEvent),
        }


def write(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_bytes(csv_bytes(*rows))
    return path


def test_import_payments_command_good_file_then_again(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    path = write(tmp_path, "payments.csv", *GOOD)
    run = cli("import", "payments", str(path), "--db", bank_url)
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "payments.csv: 3 payments imported as admin, 0 recorded already",
        "total: CNY 500.00, USD 125.50",
        "swept 2 accounts: 0 plan items kept, 0 broken; 0 plans kept, 0 broken",
    ]
    assert "importing payments.csv [" in run.err and "3/3" in run.err
    after = state(bank_url)
    assert after["payments"] == [("B-1", 10000), ("B-2", 50000), ("B-3", 2550)]
    assert [a[:3] for a in after["accounts"]] == [("P-1", 107450, 17450), ("P-2", 750000, 150000)]
    with db(bank_url) as s:
        admin = s.scalar(select(User.id).where(User.username == "admin"))
        assert count(s, AuditEntry, AuditEntry.entity == "payment", AuditEntry.user_id == admin) == 3

    again = cli("import", "payments", str(path), "--db", bank_url)
    assert again.code == 0, again.err
    assert again.out.splitlines() == ["payments.csv: 0 payments imported as admin, 3 recorded already"]
    assert state(bank_url) == after


def test_import_payments_command_one_bad_row_imports_nothing(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    before = state(bank_url)
    path = write(tmp_path, "bad.csv", GOOD[0], "B-9,P-1,12.345,USD,2026-03-11T10:00:00Z", GOOD[1])
    run = cli("import", "payments", str(path), "--db", bank_url)
    assert run.code == 1
    assert [line for line in run.err.splitlines() if line.startswith("line ")] == [
        "line 3: amount: USD has 2 decimal places at most"]
    assert "collectdesk: error: nothing imported: 1 bad row in bad.csv (3 rows)" in run.err
    assert run.out == ""
    assert state(bank_url) == before


def test_import_payments_command_lists_every_bad_row(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    assert cli("import", "payments", str(write(tmp_path, "first.csv", GOOD[0])), "--db", bank_url).code == 0
    before = state(bank_url)
    path = write(tmp_path, "bad.csv",
                 GOOD[1],
                 "B-1,P-1,100.01,USD,2026-03-11T10:00:00-04:00",  # line 3: recorded already, other amount
                 "B-10,P-1,abc,USD,2026-03-11T10:00:00Z",  # line 4
                 "B-11,P-3,1.00,USD,2026-03-11T10:00:00Z",  # line 5
                 "B-12,P-2,1.00,USD,2026-03-11T10:00:00Z",  # line 6
                 "B-13,P-1,1.00,USD,2026-03-11 10:00:00",  # line 7: no offset
                 "B-14,P-1,1.00,USD,2026-03-13T00:00:00Z",  # line 8: future
                 GOOD[2],
                 "B-2,P-2,600,CNY,2026-03-10T09:00:00+08:00",  # line 10: B-2 on line 2 with another amount
                 "B-15,P-1,1.00",  # line 11
                 )
    run = cli("import", "payments", str(path), "--db", bank_url)
    assert run.code == 1
    assert [line for line in run.err.splitlines() if line.startswith("line ")] == [
        "line 3: bank_ref: B-1 was recorded already with other details (its amount differs)",
        "line 4: amount: must be a decimal number in major units, like 1234.50",
        "line 5: account_ref: no account P-3",
        "line 6: currency: the account is in CNY",
        "line 7: paid_at: has no UTC offset; write it with one, like 2026-03-11T15:00:00+08:00 or 2026-03-11T07:00:00Z",
        "line 8: paid_at: is in the future",
        "line 10: bank_ref: B-2 is also on line 2 with other details (its amount differs)",
        "line 11: row: 3 values for 5 columns",
    ]
    assert "nothing imported: 8 bad rows in bad.csv (10 rows)" in run.err
    assert "Traceback" not in run.err
    assert state(bank_url) == before


def test_import_payments_command_only_an_admin(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    before = state(bank_url)
    path = write(tmp_path, "p.csv", *GOOD)
    run = cli("import", "payments", str(path), "--as", "agent1", "--db", bank_url)
    assert run.code == 1
    assert "collectdesk: error: agent1 is an agent; payments from the bank's feed are recorded by an admin only" in run.err
    run = cli("import", "payments", str(path), "--as", "ghost", "--db", bank_url)
    assert run.code == 1 and "no user 'ghost'" in run.err
    run = cli("import", "payments", str(tmp_path / "missing.csv"), "--db", bank_url)
    assert run.code == 1 and "cannot read" in run.err and "missing.csv" in run.err
    assert state(bank_url) == before


def test_import_payments_command_as_another_admin_is_audited_as_them(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    from backend.services.users import add_user

    with db(bank_url) as s:
        root = add_user(s, "root2", "a long passphrase", "admin")
        s.commit()
        root_id = root.id
    run = cli("import", "payments", str(write(tmp_path, "p.csv", GOOD[0])), "--as", "root2", "--db", bank_url)
    assert run.code == 0, run.err
    assert run.out.startswith("p.csv: 1 payment imported as root2, 0 recorded already")
    with db(bank_url) as s:
        payment = s.scalar(select(Payment).where(Payment.bank_ref == "B-1"))
        assert payment.created_by_id == root_id
        entry = s.scalar(select(AuditEntry).where(AuditEntry.entity == "payment", AuditEntry.entity_id == payment.id))
        assert entry.user_id == root_id


def test_import_payments_marks_the_first_instalment_of_an_active_plan_kept(cli, bank_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    with db(bank_url) as s:
        plan_id = draft_active_plan(s, "P-1", first_due=TODAY + dt.timedelta(days=7)).id
    path = write(tmp_path, "p.csv", "B-100,P-1,100.00,USD,2026-03-11T12:00:00Z")
    run = cli("import", "payments", str(path), "--db", bank_url)
    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == "swept 1 account: 1 plan item kept, 0 broken; 0 plans kept, 0 broken"
    with db(bank_url) as s:
        plan = s.get(Plan, plan_id)
        assert plan.status == "active"
        assert [(i.seq, i.due, i.paid_minor, i.status) for i in plan.items] == [
            (1, dt.date(2026, 3, 18), 10000, "kept"), (2, dt.date(2026, 4, 18), 0, "due"),
            (3, dt.date(2026, 5, 18), 0, "due")]
        account = s.scalar(select(Account).where(Account.account_ref == "P-1"))
        assert (account.balance_minor, account.overdue_minor) == (110000, 20000)
        payment = s.scalar(select(Payment).where(Payment.bank_ref == "B-100"))
        assert payment.allocations == [{"plan_id": plan_id, "seq": 1, "amount_minor": 10000}]
    after = state(bank_url)
    again = cli("import", "payments", str(path), "--db", bank_url)
    assert again.code == 0 and again.out.splitlines() == ["p.csv: 0 payments imported as admin, 1 recorded already"]
    assert state(bank_url) == after


def test_sweep_command_twice_changes_nothing_the_second_time(cli, bank_url: str) -> None:  # noqa: ANN001
    with db(bank_url) as s:
        broken_id = draft_active_plan(s, "P-1", first_due=TODAY + dt.timedelta(days=1)).id
    run = cli("sweep", "--db", bank_url)  # today: nothing is late yet
    assert run.code == 0, run.err
    assert run.out.strip() == "sweep as of 2026-03-11: 0 plan items kept, 0 broken; 0 plans kept, 0 broken"

    run = cli("sweep", "--as-of", "2026-03-20", "--db", bank_url)  # due the 12th, 3 grace days: broken
    assert run.code == 0, run.err
    assert run.out.strip() == "sweep as of 2026-03-20: 0 plan items kept, 1 broken; 0 plans kept, 1 broken"
    after = state(bank_url)
    with db(bank_url) as s:
        plan = s.get(Plan, broken_id)
        assert plan.status == "broken" and [i.status for i in plan.items] == ["broken", "due", "due"]
        assert [e.status for e in s.scalars(select(PlanEvent).where(PlanEvent.plan_id == broken_id)
                                            .order_by(PlanEvent.id))] == ["draft", "active", "broken"]

    again = cli("sweep", "--as-of", "2026-03-20", "--db", bank_url)
    assert again.code == 0
    assert again.out.strip() == "sweep as of 2026-03-20: 0 plan items kept, 0 broken; 0 plans kept, 0 broken"
    assert state(bank_url) == after


def test_sweep_command_friendly_failures(cli, migrated_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        cli("sweep", "--as-of", "2026-02-30", "--db", migrated_url)
    assert exit_info.value.code == 2
    run = cli("sweep", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert run.code == 1 and "has no collectdesk tables yet" in run.err and "Traceback" not in run.err


@pytest.mark.parametrize("args", [("import", "payments", "--help"), ("sweep", "--help")])
def test_the_new_commands_have_help(cli, args: tuple[str, ...]) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        cli(*args)
    assert exit_info.value.code == 0


def test_documented_options_are_accepted() -> None:
    from collectdesk.cli.entry import build_parser

    parser = build_parser()
    imp = parser.parse_args(["import", "payments", "f.csv", "--as", "root", "--db", "sqlite:///x.db"])
    assert (str(imp.file), imp.as_user, imp.db) == ("f.csv", "root", "sqlite:///x.db")
    assert parser.parse_args(["import", "payments", "f.csv"]).as_user == "admin"
    sweep = parser.parse_args(["sweep", "--as-of", "2026-03-11", "--db", "sqlite:///x.db"])
    assert (sweep.as_of, sweep.db) == (dt.date(2026, 3, 11), "sqlite:///x.db")
    assert parser.parse_args(["sweep"]).as_of is None


@pytest.mark.parametrize("args", [("sweep", "--as-of", "0001-01-01"), ("report", "team", "--to", "9999-12-31"),
                                  ("report", "agent", "--from", "1999-12-31")])
def test_dates_out_of_range_are_refused_by_the_parser(args: tuple[str, ...], capsys) -> None:  # noqa: ANN001
    """The API's range (2000 to 2099, issue 15): a usage error naming it, never a traceback
    (``--to 9999-12-31`` overflowed a day later)."""
    from collectdesk.cli.entry import build_parser

    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(list(args))
    assert exit_info.value.code == 2
    assert "must be from 2000-01-01 to 2099-12-31" in capsys.readouterr().err
