"""The account import file (SPEC §5): all or nothing, every bad row listed by
line and field, idempotent, audited as the importing admin."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.importer import COLUMNS, ImportRefused, RowError, import_accounts, parse_accounts
from backend.models import Account, AuditEntry, Customer, User
from collectdesk.progress import ProgressBar

HEADER = ",".join(COLUMNS)
GOOD = [
    'IMP-001,Jane Roe,+12125550123;+13125550188,jane@example.com,"1 Main St, New York, NY 10001",US,NY,'
    'America/New_York,USD,5000.00,1200.50,300.00,50.00,35,4111 1111 1111 1111,2020-01-15,A,agent1',
    "IMP-002,王小明,+8613812345678,,北京市朝阳区建国路 1 号,CN,,,CNY,20000,8000,2000,500,95,6228480000001234,,B,agent3",
    "IMP-003,Joe Doe,+16175550100,,,US,MA,,USD,1000,100,0,25,0,••••••••••••4321,,A,",
]


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def refs_in_db(session: Session, prefix: str) -> list[str]:
    return sorted(session.scalars(select(Account.account_ref).where(Account.account_ref.like(prefix + "%"))))


def count(session: Session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


# --------------------------------------------------------------------------
# Through the service (shared database: SQLite, or PostgreSQL)


def last_audit_id(session: Session) -> int:
    """Audit rows are never deleted, and other tests commit some: look only past this id."""
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def test_a_good_file_is_imported_through_the_service(session: Session) -> None:
    audit_before = last_audit_id(session)
    progress: list[tuple[int, int]] = []
    result = import_accounts(session, csv_bytes(*GOOD), progress=lambda d, t: progress.append((d, t)))
    assert result.ok, result.errors
    assert (result.rows, result.created, result.unchanged) == (3, 3, 0)
    assert progress[0] == (0, 3) and progress[-1] == (3, 3)

    jane = session.scalar(select(Account).where(Account.account_ref == "IMP-001"))
    assert [p.number for p in jane.customer.phones] == ["+12125550123", "+13125550188"]
    assert (jane.balance_minor, jane.overdue_minor, jane.minimum_due_minor, jane.credit_limit_minor) == (
        120050, 30000, 5000, 500000)
    assert (jane.card_bin, jane.card_last4, jane.dpd, jane.bucket) == ("411111", "1111", 35, "30")
    assert (jane.team.name, jane.agent.username, jane.customer.timezone) == ("A", "agent1", "America/New_York")
    assert jane.customer.addresses[0].text == "1 Main St, New York, NY 10001"
    wang = session.scalar(select(Account).where(Account.account_ref == "IMP-002"))
    assert (wang.customer.name, wang.currency, wang.customer.email, wang.agent.username) == ("王小明", "CNY", None, "agent3")
    joe = session.scalar(select(Account).where(Account.account_ref == "IMP-003"))
    assert (joe.card_bin, joe.card_last4, joe.agent, joe.bucket) == ("", "4321", None, "current")

    admin = session.scalar(select(User).where(User.username == "admin"))
    audited = session.scalars(select(AuditEntry).where(AuditEntry.id > audit_before, AuditEntry.entity == "account",
                                                       AuditEntry.entity_id.in_([jane.id, wang.id, joe.id]))).all()
    assert {(e.user_id, e.action) for e in audited} == {(admin.id, "create")} and len(audited) == 3


def test_a_file_with_bad_rows_imports_nothing_and_lists_every_one(session: Session) -> None:
    accounts_before, customers_before = count(session, Account), count(session, Customer)
    bad = [
        GOOD[0],
        "IMP-101,Ann,+1212,,,US,,,USD,10,5,1,1,3,4111111111111111,,A,agent1",  # line 3
        "IMP-102,Ben,+12125550124,,,US,,Mars/Base,USD,100,50,80,10,3,4111111111111111,,A,agent1",  # line 4
        "IMP-103,Cy,+12125550125,,,US,,,USD,100,50,10,10,3,4111111111111111,,A,nobody",  # line 5
        "IMP-104,Di,+12125550126,,,US,,,usd,100,50,10,10,3,4111111111111111,,A,agent1",  # line 6
        GOOD[2],
        "IMP-105,Ed,+12125550127,,,US,,,JPY,100.5,50,10,10,3,4111111111111111,,A,agent1",  # line 8
        "IMP-106,Fay,+12125550128,,,US,,,USD,100,50,10,10,3,4111111111111111,,B,agent1",  # line 9
        "IMP-101,Ann again,+12125550129,,,US,,,USD,10,5,1,1,3,4111111111111111,,A,agent1",  # line 10
        "IMP-107,Gus,+12125550130,,,US,,,USD,100,50,10,10,,4111111111111111,,A",  # line 11
        ",,,,,,,,USD,1,1,0,0,0,4111111111111111,,A,",  # line 12
    ]
    result = import_accounts(session, csv_bytes(*bad))
    assert not result.ok
    assert [str(e) for e in result.errors] == [
        "line 3: phones.0: not an E.164 number (like +12125550100)",
        "line 4: overdue: cannot exceed the balance",
        "line 4: timezone: unknown IANA time zone 'Mars/Base'",
        "line 5: agent: no user 'nobody'",
        "line 6: currency: not an ISO 4217 code (like USD)",
        "line 8: credit_limit: JPY has 0 decimal places at most",
        "line 9: agent: agent1 is not in team B",
        "line 10: account_ref: IMP-101 is also on line 3",
        "line 11: row: 17 values for 18 columns",
        "line 12: account_ref: is required",
        "line 12: customer_name: is required",
    ]
    assert result.created == 0
    assert refs_in_db(session, "IMP-") == []
    assert (count(session, Account), count(session, Customer)) == (accounts_before, customers_before)


def test_importing_the_same_file_again_changes_nothing(session: Session) -> None:
    data = csv_bytes(*GOOD)
    assert import_accounts(session, data).created == 3
    counts = (count(session, Account), count(session, Customer), count(session, AuditEntry))
    versions = {a.account_ref: a.version for a in session.scalars(select(Account).where(Account.account_ref.like("IMP-%")))}
    again = import_accounts(session, data)
    assert again.ok and (again.created, again.unchanged, again.differing) == (0, 3, [])
    assert (count(session, Account), count(session, Customer), count(session, AuditEntry)) == counts
    assert {a.account_ref: a.version
            for a in session.scalars(select(Account).where(Account.account_ref.like("IMP-%")))} == versions


def test_a_file_with_new_and_known_rows_adds_only_the_new(session: Session) -> None:
    import_accounts(session, csv_bytes(GOOD[0]))
    result = import_accounts(session, csv_bytes(*GOOD))
    assert (result.created, result.unchanged) == (2, 1)
    assert refs_in_db(session, "IMP-") == ["IMP-001", "IMP-002", "IMP-003"]


def test_a_changed_row_is_left_as_it_is_and_named(session: Session) -> None:
    import_accounts(session, csv_bytes(*GOOD))
    changed = GOOD[0].replace("1200.50,300.00", "999.00,300.00").replace(",35,", ",40,")
    result = import_accounts(session, csv_bytes(changed, GOOD[1]))
    assert result.ok and (result.created, result.unchanged) == (0, 2)
    assert result.differing == [(2, "IMP-001", ["balance", "dpd"])]
    jane = session.scalar(select(Account).where(Account.account_ref == "IMP-001"))
    assert (jane.balance_minor, jane.dpd) == (120050, 35)


def test_a_reference_to_another_customer_or_card_is_an_error(session: Session) -> None:
    import_accounts(session, csv_bytes(*GOOD))
    other = GOOD[0].replace("Jane Roe", "Jane Other").replace("4111 1111 1111 1111", "4111111111119999")
    new = GOOD[1].replace("IMP-002", "IMP-009")
    result = import_accounts(session, csv_bytes(new, other))
    assert [str(e) for e in result.errors] == [
        "line 3: account_ref: IMP-001 exists already for another account (its customer_name, card_number differ)"]
    assert refs_in_db(session, "IMP-") == ["IMP-001", "IMP-002", "IMP-003"]  # IMP-009 not imported


def test_imports_are_audited_as_the_named_admin(session: Session) -> None:
    from backend.services.users import add_user

    root = add_user(session, "root2", "a long passphrase", "admin")
    session.commit()
    audit_before = last_audit_id(session)
    import_accounts(session, csv_bytes(GOOD[2]), actor="root2")
    joe = session.scalar(select(Account).where(Account.account_ref == "IMP-003"))
    entry = session.scalar(select(AuditEntry).where(AuditEntry.id > audit_before, AuditEntry.entity == "account",
                                                    AuditEntry.entity_id == joe.id))
    assert entry.user_id == root.id


@pytest.mark.parametrize(("actor", "needle"), [("nobody", "no user 'nobody'"), ("agent1", "only an admin")])
def test_import_as_someone_who_may_not(session: Session, actor: str, needle: str) -> None:
    with pytest.raises(ImportRefused, match=needle):
        import_accounts(session, csv_bytes(*GOOD), actor=actor)
    assert refs_in_db(session, "IMP-") == []


# --------------------------------------------------------------------------
# Optional columns: phone_kinds and timezone_source

KINDS_HEADER = HEADER + ",phone_kinds,timezone_source"


def test_phone_kinds_and_timezone_source_are_imported(session: Session) -> None:
    result = import_accounts(session, csv_bytes(
        GOOD[0] + ",home;work,customer",  # both numbers given
        GOOD[1] + ",work,",  # one number; the source left blank: the record's
        GOOD[2] + ",,",  # no kinds: the first number mobile
        header=KINDS_HEADER))
    assert result.ok, result.errors
    assert result.created == 3
    jane, wang, joe = (session.scalar(select(Account).where(Account.account_ref == ref))
                       for ref in ("IMP-001", "IMP-002", "IMP-003"))
    assert [(p.number, p.kind) for p in jane.customer.phones] == [("+12125550123", "home"), ("+13125550188", "work")]
    assert (jane.customer.timezone, jane.customer.timezone_source) == ("America/New_York", "customer")
    assert ([p.kind for p in wang.customer.phones], wang.customer.timezone_source) == (["work"], "record")
    assert ([p.kind for p in joe.customer.phones], joe.customer.timezone_source) == (["mobile"], "record")

    # Without the columns, the kinds default (the second number other).
    again = import_accounts(session, csv_bytes(GOOD[0].replace("IMP-001", "IMP-004").replace("4111 1111 1111 1111",
                                                                                             "4111111111114444")))
    assert again.ok and again.created == 1
    plain = session.scalar(select(Account).where(Account.account_ref == "IMP-004"))
    assert [p.kind for p in plain.customer.phones] == ["mobile", "other"]
    assert plain.customer.timezone_source == "record"

    # An existing account the file describes otherwise is left as it is and named.
    changed = import_accounts(session, csv_bytes(GOOD[0] + ",mobile;work,record", GOOD[1] + ",work,",
                                                 header=KINDS_HEADER))
    assert changed.ok and changed.differing == [(2, "IMP-001", ["phone_kinds", "timezone_source"])]
    session.expire_all()
    assert [p.kind for p in jane.customer.phones] == ["home", "work"]


def test_a_file_with_a_bad_kind_is_refused_whole(session: Session) -> None:
    accounts_before, customers_before = count(session, Account), count(session, Customer)
    result = import_accounts(session, csv_bytes(
        GOOD[0] + ",home;work,customer",
        GOOD[1] + ",fax,",  # line 3
        GOOD[2] + ",mobile;home,",  # line 4: two kinds for one number
        "IMP-104,Di,+12125550126;+13125550126,,,US,,,USD,100,50,10,10,3,4111111111111111,,A,agent1,;work,",  # line 5
        "IMP-105,Ed,+12125550127,,,US,,,USD,100,50,10,10,3,4111111111111111,,A,agent1,mobile,customer",  # line 6
        "IMP-106,Fay,+12125550128,,,US,,,USD,100,50,10,10,3,4111111111111111,,A,agent1,mobile,bank",  # line 7
        header=KINDS_HEADER))
    assert not result.ok and result.created == 0
    assert [str(e) for e in result.errors] == [
        "line 3: phone_kinds.0: Input should be 'home', 'mobile', 'work' or 'other'",
        "line 4: phone_kinds: 2 kinds for 1 phone",
        "line 5: phone_kinds.0: Input should be 'home', 'mobile', 'work' or 'other'",
        "line 6: timezone_source: a confirmed zone needs the zone (timezone)",
        "line 7: timezone_source: Input should be 'record' or 'customer'",
    ]
    assert refs_in_db(session, "IMP-") == []
    assert (count(session, Account), count(session, Customer)) == (accounts_before, customers_before)


def test_phone_kinds_are_split_like_phones() -> None:
    rows, errors, _count = parse_accounts(csv_bytes(GOOD[0] + ", home ; work; ,", header=KINDS_HEADER).decode())
    assert errors == []
    assert [str(k) for k in rows[0][1].phone_kinds] == ["home", "work"]
    assert rows[0][1].timezone_source is None


# --------------------------------------------------------------------------
# Parsing (no database)


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["line 1: header: the file is empty"]),
    ("account_ref,customer_name\nA,B\n",
     ["line 1: header: missing columns currency, credit_limit, balance, overdue, minimum_due, dpd, card_number, team"]),
    (HEADER + ",colour\n", ["line 1: header: unknown column 'colour'"]),
    (HEADER + ",team\n", ["line 1: header: column team given more than once"]),
])
def test_header_problems(text: str, expected: list[str]) -> None:
    rows, errors, _count = parse_accounts(text)
    assert rows == [] and [str(e) for e in errors] == expected


def test_optional_columns_may_be_left_out_and_a_bom_is_fine() -> None:
    from backend.importer import REQUIRED, decode

    text = decode("\ufeff".encode() + (",".join(REQUIRED) + "\nR1,Ann,USD,10,5,1,1,3,4111111111111111,A\n").encode())
    rows, errors, count = parse_accounts(text)
    assert errors == [] and count == 1
    line, data = rows[0]
    assert (line, data.account_ref, data.phones, data.agent, data.email) == (2, "R1", [], None, None)


def test_line_numbers_count_physical_lines() -> None:
    # A quoted cell spanning two lines: an address (a customer's name is one line: issue 15).
    note_row = GOOD[2].replace("IMP-003,Joe Doe,+16175550100,,", 'IMP-004,Joe Doe,+16175550100,,"1 Main St\nBoston"')
    text = csv_bytes(note_row, "IMP-005,Kim,+1212,,,US,,,USD,1,1,0,0,0,4111111111111111,,A,").decode()
    rows, errors, count = parse_accounts(text)
    assert count == 2 and rows[0][0] == 2
    assert [str(e) for e in errors] == ["line 4: phones.0: not an E.164 number (like +12125550100)"]


def test_text_that_is_not_utf8_is_refused_naming_its_line() -> None:
    from backend.importer import decode

    with pytest.raises(ImportRefused, match=r"line 3: file: not UTF-8 text \(byte 0xe9\)"):
        decode(csv_bytes(GOOD[0]) + b"IMP-9,Ren\xe9\n")


def test_a_card_number_in_the_wrong_column_is_never_shown_whole(session: Session) -> None:
    swapped = "IMP-301,Ann,+12125550123,,,US,,4539827361504820,USD,10,5,1,1,3,4539827361504820,,A,4539827361504820"
    result = import_accounts(session, csv_bytes(swapped))
    lines = [str(e) for e in result.errors]
    assert lines == ["line 2: agent: no user '453982******4820'",
                     "line 2: timezone: unknown IANA time zone '453982******4820'"]
    assert refs_in_db(session, "IMP-") == []


def test_row_errors_sort_by_line() -> None:
    assert sorted([RowError(10, "a", "x"), RowError(2, "b", "y")])[0].line == 2


# --------------------------------------------------------------------------
# Through the console script (its own SQLite file)


@pytest.fixture
def seeded_url(cli, migrated_url: str) -> str:  # noqa: ANN001
    """A migrated database with the demo users (and no accounts)."""
    assert cli("seed", "--accounts", "0", "--db", migrated_url).code == 0
    return migrated_url


def _refs(url: str) -> list[str]:
    from backend.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        refs = refs_in_db(session, "")
    engine.dispose()
    return refs


def test_import_command_good_file_then_again(cli, seeded_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "accounts.csv"
    path.write_bytes(csv_bytes(*GOOD))
    run = cli("import", "accounts", str(path), "--db", seeded_url)
    assert run.code == 0, run.err
    assert run.out.strip() == "accounts.csv: 3 accounts imported as admin"
    assert "importing accounts.csv [" in run.err and "3/3" in run.err
    assert _refs(seeded_url) == ["IMP-001", "IMP-002", "IMP-003"]

    again = cli("import", "accounts", str(path), "--db", seeded_url)
    assert again.code == 0
    assert again.out.strip() == "accounts.csv: 0 accounts imported as admin, 3 there already (left as they are)"
    assert _refs(seeded_url) == ["IMP-001", "IMP-002", "IMP-003"]


def test_import_command_bad_file_lists_every_row_and_imports_nothing(cli, seeded_url, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(
        GOOD[0],
        "IMP-201,Ann,+1212,,,US,,,USD,10,5,1,1,3,4111111111111111,,A,agent1",
        GOOD[1],
        "IMP-202,Ben,+12125550124,,,US,,,USD,100,50,10,10,-4,4111111111111111,,A,agent1",
        "IMP-203,Cy,+12125550125,,,US,,,USD,100,50,10,10,3,4111111111111111,1999-02-30,A,agent1",
    ))
    run = cli("import", "accounts", str(path), "--db", seeded_url)
    assert run.code == 1
    lines = [line for line in run.err.splitlines() if line.startswith("line ")]
    assert lines == [
        "line 3: phones.0: not an E.164 number (like +12125550100)",
        "line 5: dpd: Input should be greater than or equal to 0",
        "line 6: opened_on: Input should be a valid date or datetime, day value is outside expected range",
    ]
    assert "collectdesk: error: nothing imported: 3 bad rows in bad.csv (5 rows)" in run.err
    assert _refs(seeded_url) == []


def test_import_command_refuses_a_file_with_a_bad_kind(cli, seeded_url, tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "kinds.csv"
    path.write_bytes(csv_bytes(GOOD[0] + ",home;work,customer", GOOD[1] + ",home;fax,", GOOD[2] + ",,",
                               header=KINDS_HEADER))
    run = cli("import", "accounts", str(path), "--db", seeded_url)
    assert run.code == 1
    lines = [line for line in run.err.splitlines() if line.startswith("line ")]
    assert lines == ["line 3: phone_kinds.1: Input should be 'home', 'mobile', 'work' or 'other'"]
    assert "collectdesk: error: nothing imported: 1 bad row in kinds.csv (3 rows)" in run.err
    assert _refs(seeded_url) == []

    path.write_bytes(csv_bytes(GOOD[0] + ",home;work,customer", GOOD[1] + ",home,", GOOD[2] + ",,",
                               header=KINDS_HEADER))
    run = cli("import", "accounts", str(path), "--db", seeded_url)
    assert run.code == 0, run.err
    assert _refs(seeded_url) == ["IMP-001", "IMP-002", "IMP-003"]


def test_import_command_friendly_failures(cli, seeded_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    run = cli("import", "accounts", str(tmp_path / "missing.csv"), "--db", seeded_url)
    assert run.code == 1 and "cannot read" in run.err and "missing.csv" in run.err
    path = tmp_path / "a.csv"
    path.write_bytes(csv_bytes(*GOOD))
    run = cli("import", "accounts", str(path), "--as", "agent1", "--db", seeded_url)
    assert run.code == 1 and "only an admin may do" in run.err
    assert "Traceback" not in run.err


# --------------------------------------------------------------------------
# The progress bar


def test_progress_bar_on_a_pipe_writes_a_line_per_tenth() -> None:
    stream = io.StringIO()
    bar = ProgressBar("importing", stream=stream, width=10)
    for done in range(0, 101):
        bar(done, 100)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "importing [..........]   0%  0/100"
    assert lines[5] == "importing [#####.....]  50%  50/100"
    assert lines[-1] == "importing [##########] 100%  100/100"


def test_progress_bar_on_a_terminal_redraws_in_place() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = ProgressBar("seeding", stream=stream, width=4)
    bar(0, 2000)
    bar(1000, 2000)  # within 0.1 s of the last draw: skipped
    bar(2000, 2000)  # the end is always drawn
    bar.close()
    out = stream.getvalue()
    assert out.count("\r") == 2 and out.endswith("\n")
    assert "\rseeding [####] 100%  2,000/2,000" in out
    assert "1,000/2,000" not in out
