"""The synthetic portfolio: deterministic, realistic, on real histories, with no
protected characteristics, and the rows the service would write."""

from __future__ import annotations

import collections
import csv
import gzip
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import backend.seed as seed_module
from backend.domain.accounts import BUCKETS
from backend.models import Account, AuditEntry, User, utcnow
from backend.seed import (
    DEMO_USERS,
    SAMPLE_COLUMNS,
    SAMPLE_PATH,
    History,
    Portfolio,
    amounts_twd,
    dpd_for,
    histories_path,
    history_to_uci,
    insert_rows,
    load_pool,
    read_histories,
    seed_portfolio,
)
from backend.services.accounts import create_account
from backend.services.ranking import refresh_priority
from backend.services.users import get_or_create_team

PROTECTED = ("X2", "X3", "X4", "X5")
HISTORY_KEYS = {"currency", "months", "limit", "status", "bill", "paid"}


@pytest.fixture(scope="module")
def pool() -> list[History]:
    return load_pool()[0]


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# --------------------------------------------------------------------------
# The generator (no database)


def test_same_seed_same_portfolio_and_another_seed_another(pool) -> None:  # noqa: ANN001
    first = [r.account.model_dump() for r in Portfolio(7, pool).rows(300)]
    again = [r.account.model_dump() for r in Portfolio(7, pool).rows(300)]
    other = [r.account.model_dump() for r in Portfolio(8, pool).rows(300)]
    assert first == again
    assert [r["customer_name"] for r in first] != [r["customer_name"] for r in other]
    # A smaller portfolio of the same seed is the start of the larger one.
    assert [r.account.model_dump() for r in Portfolio(7, pool).rows(40)] == first[:40]


def test_bucket_spread_is_realistic(pool) -> None:  # noqa: ANN001
    buckets = collections.Counter(_bucket(r.account.dpd) for r in Portfolio(1, pool).rows(2000))
    assert set(buckets) == set(BUCKETS), buckets
    share = {b: n / 2000 for b, n in buckets.items()}
    assert 0.10 <= share["current"] <= 0.45
    assert 0.10 <= share["X"] <= 0.45
    assert 0.10 <= share["30"] <= 0.50
    assert max(share.values()) < 0.5
    # Later buckets are rarer than earlier ones, as in any collections book.
    assert buckets["30"] > buckets["60"] > buckets["90"]


def _bucket(dpd: int) -> str:
    from backend.domain.accounts import bucket_for

    return bucket_for(dpd)


def test_months_late_become_days_past_due() -> None:
    import random

    rng = random.Random(3)
    for k in range(-2, 1):
        assert dpd_for(k, rng) == 0
    for k in range(1, 9):
        values = {dpd_for(k, rng) for _ in range(300)}
        assert min(values) >= 30 * k - 29 and max(values) <= 30 * k
        assert len(values) > 20  # spread, not one value


def test_amounts_are_sensible(pool) -> None:  # noqa: ANN001
    for h in pool[:500] + [History(10000, (8, 7, 6, 5, 4, 3), (9000,) * 6, (0,) * 6)]:
        for dpd in (0, 15, 45, 200):
            if (dpd == 0) != (h.months_late == 0):
                continue
            limit, balance, overdue, minimum = amounts_twd(h, dpd)
            assert balance == h.bill[0] > 0
            assert 0 <= overdue <= balance and 0 < minimum <= balance
            assert limit == h.limit
            if dpd == 0:
                assert overdue == 0
            elif dpd >= 180:
                assert overdue == minimum == balance
            else:
                assert overdue > 0 and minimum > overdue or minimum == balance


def test_customers_are_english_and_chinese_with_their_zones(pool) -> None:  # noqa: ANN001
    rows = [r.account for r in Portfolio(2, pool).rows(1000)]
    by_country = collections.Counter(r.country for r in rows)
    assert set(by_country) == {"US", "CN", "TW"} and min(by_country.values()) > 150
    zones = collections.Counter(r.timezone for r in rows)
    assert zones["Asia/Shanghai"] > 50 and zones["Asia/Taipei"] > 50
    assert sum(n for z, n in zones.items() if z and z.startswith("America/")) > 150
    assert 150 < zones[None] < 450  # zones from the phones for about a third
    for r in rows:
        assert r.phones, r
        if r.country == "US":
            assert all(p.startswith("+1") for p in r.phones) and r.currency == "USD" and r.region
            assert r.customer_name.isascii()
        else:
            prefix = "+86" if r.country == "CN" else "+886"
            assert r.phones[0].startswith(prefix) and not r.phones[0].startswith("+8860")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in r.customer_name)
            assert r.currency == ("CNY" if r.country == "CN" else "TWD")
        assert _luhn_ok(r.card_number) and len(r.card_number) == 16
    # Some US customers kept a number from another state: they span two zones.
    from backend.domain.zones import customer_zones

    assert any(len(customer_zones(r.timezone, r.phones, None)) > 1 for r in rows if r.country == "US")


def test_accounts_are_spread_over_both_teams_and_their_agents(pool) -> None:  # noqa: ANN001
    rows = [r.account for r in Portfolio(4, pool).rows(1000)]
    pairs = collections.Counter((r.team, r.agent) for r in rows)
    assert {("A", "agent1"), ("A", "agent2"), ("B", "agent3")} <= set(pairs)
    assert all(team == {"agent1": "A", "agent2": "A", "agent3": "B", None: team}[agent] for team, agent in pairs)
    assert all(n > 250 for (team, agent), n in pairs.items() if agent)
    assert 0 < sum(n for (team, agent), n in pairs.items() if agent is None) < 100


# --------------------------------------------------------------------------
# Histories and protected characteristics


def test_histories_are_the_real_rows(pool) -> None:  # noqa: ANN001
    path, _source = histories_path()
    real = {(h.limit, h.status, h.bill, h.paid) for _id, h in read_histories(path)}
    for row in Portfolio(5, pool).rows(300):
        h = row.history
        assert set(h) == HISTORY_KEYS and h["currency"] == "TWD"
        assert (h["limit"], tuple(h["status"]), tuple(h["bill"]), tuple(h["paid"])) in real
        uci = history_to_uci(h)
        assert list(uci) == ["X1", *(f"X{i}" for i in range(6, 24))]
        assert uci["X6"] == h["status"][0] and uci["X12"] == h["bill"][0] and uci["X23"] == h["paid"][5]


def test_no_protected_characteristic_is_read_or_kept(tmp_path: Path) -> None:
    """A file whose sex, education, marital status, age and label hold unmistakable
    values: none of them reaches a history or a generated row."""
    path = tmp_path / "uci.csv"
    header = ["ID", "X1", *PROTECTED, *(f"X{i}" for i in range(6, 24)), "Y"]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for i in range(1, 41):
            status = [i % 4, 0, 1, 0, 0, 0]
            writer.writerow([i, 50000 + i, 777001, 777002, 777003, 777004, *status,
                             *(3000 + i for _ in range(6)), *(100 for _ in range(6)), 777005])
    pool, _source = load_pool(path)
    assert pool
    for row in Portfolio(1, pool).rows(80):
        text = row.account.model_dump_json() + repr(row.history)
        for marker in ("777001", "777002", "777003", "777004", "777005"):
            assert marker not in text


def test_the_bundled_sample_has_no_protected_columns_and_no_label() -> None:
    with gzip.open(SAMPLE_PATH, "rt", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
        count = sum(1 for _ in fh)
    assert tuple(header) == SAMPLE_COLUMNS
    assert not set(header) & {*PROTECTED, "Y"}
    assert count == 600


def test_no_table_has_a_protected_column(engine) -> None:  # noqa: ANN001
    from sqlalchemy import inspect

    inspector = inspect(engine)
    words = ("sex", "gender", "marital", "married", "age", "birth", "education")
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            name = column["name"].lower()
            assert not any(name == w or name.startswith(w + "_") or name.endswith("_" + w) for w in words), (table, name)


# --------------------------------------------------------------------------
# Where histories come from


def test_the_bundled_sample_is_used_when_the_shared_data_is_absent(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.delenv("COLLECTDESK_UCI_CSV", raising=False)
    monkeypatch.setattr(seed_module, "REPO_UCI_CSV", tmp_path / "absent" / "uci_credit_card.csv")
    path, source = histories_path()
    assert path == SAMPLE_PATH and "bundled sample" in source
    pool, _ = load_pool()
    assert 500 < len(pool) <= 600
    buckets = collections.Counter(_bucket(r.account.dpd) for r in Portfolio(1, pool).rows(2000))
    assert set(buckets) == set(BUCKETS)


def test_the_shared_data_is_used_when_present(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("COLLECTDESK_UCI_CSV", raising=False)
    if not seed_module.REPO_UCI_CSV.is_file():
        pytest.skip("../shared/data/uci_credit_card is not beside this checkout")
    path, source = histories_path()
    assert path == seed_module.REPO_UCI_CSV and "bundled" not in source
    assert len(load_pool()[0]) > 600


def test_the_environment_can_name_the_histories(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLLECTDESK_UCI_CSV", str(SAMPLE_PATH))
    assert histories_path()[0] == SAMPLE_PATH
    monkeypatch.setenv("COLLECTDESK_UCI_CSV", str(tmp_path / "nope.csv"))
    with pytest.raises(FileNotFoundError):
        histories_path()


def test_a_file_that_is_not_uci_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a UCI credit-card file"):
        read_histories(path)


def test_write_sample_reproduces_the_bundled_sample(tmp_path: Path) -> None:
    if not seed_module.REPO_UCI_CSV.is_file():
        pytest.skip("../shared/data/uci_credit_card is not beside this checkout")
    dest = tmp_path / "sample.csv.gz"
    assert seed_module.write_sample(seed_module.REPO_UCI_CSV, dest) == 600
    assert dest.read_bytes() == SAMPLE_PATH.read_bytes()


# --------------------------------------------------------------------------
# Writing (shared database: SQLite, or PostgreSQL under COLLECTDESK_TEST_DB)


def _last_audit_id(session: Session) -> int:
    """Audit rows are never deleted, and other tests commit some: look only past this id."""
    return session.scalar(select(func.max(AuditEntry.id))) or 0


def _snapshot(session: Session, account: Account, audit_after: int) -> dict:
    c = account.customer
    audit = session.scalars(select(AuditEntry).where(AuditEntry.id > audit_after, AuditEntry.entity == "account",
                                                     AuditEntry.entity_id == account.id)).all()
    # Derived from the history and the reference (the score, the strategy's split,
    # the ranking, the recheck instant): compared separately below.
    skip = {"id", "account_ref", "customer_id", "created_at", "updated_at", "history", "priority", "reasons", "risk",
            "strategy", "recheck_at"}
    return {
        "account": {k: getattr(account, k) for k in Account.__table__.columns.keys() if k not in skip},
        "customer": {k: getattr(c, k) for k in ("name", "email", "timezone", "country", "region", "language")},
        "phones": [(p.number, p.kind, p.position, p.region, p.timezones, p.do_not_call) for p in c.phones],
        "addresses": [(a.text, a.country, a.region) for a in c.addresses],
        "audit": [(e.user_id, e.action, e.entity) for e in audit],
    }


def test_bulk_rows_are_the_rows_the_service_writes(session: Session, pool) -> None:  # noqa: ANN001
    rows = list(Portfolio(11, pool).rows(60))
    audit_after = _last_audit_id(session)
    teams = {name: get_or_create_team(session, name).id for name in ("A", "B")}
    agents = {u.username: u.id for u in session.scalars(select(User).where(User.role == "agent"))}
    admin = session.scalar(select(User).where(User.username == "admin"))
    now = utcnow()
    insert_rows(session, rows, admin.id, teams, agents, now)
    for row in rows:
        create_account(session, row.account.model_copy(update={"account_ref": "svc-" + row.account.account_ref}), admin, now)
    session.flush()
    session.expire_all()
    compared = 0
    for row in rows:
        ref = row.account.account_ref
        bulk = session.scalar(select(Account).where(Account.account_ref == ref))
        service = session.scalar(select(Account).where(Account.account_ref == "svc-" + ref))
        assert _snapshot(session, bulk, audit_after) == _snapshot(session, service, audit_after), ref
        assert bulk.history == row.history and service.history is None
        # What the bulk rows hold is what the service computes from the same account.
        stored = (bulk.priority, bulk.reasons, bulk.risk, bulk.strategy)
        refresh_priority(session, bulk, now)
        assert (bulk.priority, bulk.reasons, bulk.risk, bulk.strategy) == stored, ref
        assert bulk.card_bin == row.account.card_number[:6] and bulk.card_last4 == row.account.card_number[-4:]
        compared += 1
    assert compared == 60


def test_seed_creates_users_and_accounts_and_is_idempotent(session: Session, pool) -> None:  # noqa: ANN001
    before_users = {u.username: u.password_hash for u in session.scalars(select(User))}
    audit_after = _last_audit_id(session)
    report = seed_portfolio(session, 250, 31, pool=pool, source="test pool")
    session.commit()
    assert (report.created, report.existing) == (250, 0)
    # The shared test database has the demo users already: none is re-created or reset.
    assert report.users_created == [u for u, *_ in DEMO_USERS if u not in before_users]
    assert {u.username: u.password_hash for u in session.scalars(select(User)) if u.username in before_users} == before_users

    refs = select(Account).where(Account.account_ref.like("S31-%"))
    accounts = session.scalars(refs).unique().all()
    assert len(accounts) == 250
    assert {(a.team.name, a.agent.username if a.agent else None) for a in accounts} >= {
        ("A", "agent1"), ("A", "agent2"), ("B", "agent3")}
    assert all(set(a.history) == HISTORY_KEYS for a in accounts)
    assert all(a.status == ("charged_off" if a.dpd >= 180 else "open") for a in accounts)
    audited = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.id > audit_after, AuditEntry.entity == "account", AuditEntry.action == "create",
        AuditEntry.entity_id.in_([a.id for a in accounts])))
    assert audited == 250

    again = seed_portfolio(session, 300, 31, pool=pool, source="test pool")
    session.commit()
    assert (again.created, again.existing) == (50, 250)
    assert len(session.scalars(refs).unique().all()) == 300


def test_seed_makes_the_demo_users_in_an_empty_database(migrated_url: str) -> None:
    from backend.db import make_engine
    from backend.security import verify_password

    engine = make_engine(migrated_url)
    with Session(engine) as session:
        report = seed_portfolio(session, 20, 1)
        session.commit()
        users = {u.username: u for u in session.scalars(select(User))}
    engine.dispose()
    assert report.users_created == [u for u, *_ in DEMO_USERS]
    for username, role, team, _display in DEMO_USERS:
        user = users[username]
        assert (user.role, user.team.name if user.team else None) == (role, team)
        assert verify_password(user.password_hash, username)


# --------------------------------------------------------------------------
# Through the console script


def _dump(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("""
            select a.account_ref, a.currency, a.card_bin, a.card_last4, a.credit_limit_minor, a.balance_minor,
                   a.overdue_minor, a.minimum_due_minor, a.dpd, a.bucket, a.status, a.opened_on, a.priority,
                   a.history, t.name, u.username, c.name, c.email, c.timezone, c.country, c.region,
                   (select group_concat(number, ';') from phones p where p.customer_id = c.id),
                   (select group_concat(text, ';') from addresses d where d.customer_id = c.id)
            from accounts a join customers c on c.id = a.customer_id join teams t on t.id = a.team_id
            left join users u on u.id = a.agent_id order by a.account_ref""").fetchall()


def test_seed_command_is_deterministic(cli, tmp_path: Path) -> None:  # noqa: ANN001
    dumps = []
    for name, seed in (("one", "5"), ("two", "5")):
        url = f"sqlite:///{tmp_path / name}.db"
        assert cli("db", "upgrade", "--db", url).code == 0
        run = cli("seed", "--accounts", "300", "--seed", seed, "--db", url)
        assert run.code == 0, run.err
        assert f"seed {seed}: 300 accounts created" in run.out
        assert "demo users created (password = user name): agent1, agent2, agent3" in run.out
        assert "seeding accounts [" in run.err and "300/300" in run.err
        dumps.append(_dump(tmp_path / f"{name}.db"))
    assert len(dumps[0]) == 300
    assert dumps[0] == dumps[1]
    assert len({r[16] for r in dumps[0]}) > 250  # customers' names vary
    # No full card number anywhere in the database file.
    data = (tmp_path / "one.db").read_bytes()
    for row in list(Portfolio(5, load_pool()[0]).rows(300))[:50]:
        assert row.account.card_number.encode() not in data


def test_seed_command_twice_adds_nothing(cli, migrated_url: str) -> None:  # noqa: ANN001
    assert cli("seed", "--accounts", "40", "--db", migrated_url).code == 0
    run = cli("seed", "--accounts", "40", "--db", migrated_url)
    assert run.code == 0
    assert "seed 1: 0 accounts created, 40 there already" in run.out
    assert "demo users created" not in run.out


def test_seed_command_falls_back_to_the_bundled_sample(cli, migrated_url, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(seed_module, "REPO_UCI_CSV", tmp_path / "absent.csv")
    run = cli("seed", "--accounts", "30", "--db", migrated_url)
    assert run.code == 0, run.err
    assert "on the bundled sample of UCI credit-card histories" in run.out


def test_seed_command_reports_a_bad_histories_file(cli, migrated_url, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLLECTDESK_UCI_CSV", str(tmp_path / "missing.csv"))
    run = cli("seed", "--accounts", "3", "--db", migrated_url)
    assert run.code == 1
    assert "cannot read the account histories: COLLECTDESK_UCI_CSV names" in run.err


def test_every_seeded_account_is_ranked_as_the_service_ranks_it(cli, migrated_url: str) -> None:  # noqa: ANN001
    """The seed's demo contacts (legal referrals ready and not) count in their accounts'
    rank, as logging them would: no account says "never contacted" beside its calls."""
    from backend.db import make_engine
    from backend.services.compliance import histories_of
    from backend.services.ranking import plan_rows, refresh_priority

    assert cli("seed", "--accounts", "600", "--db", migrated_url).code == 0
    engine = make_engine(migrated_url)
    with Session(engine) as session:
        accounts = session.scalars(select(Account)).all()
        ids, now = [a.id for a in accounts], utcnow()
        contacts, plans = histories_of(session, ids, now), plan_rows(session, ids)
        assert any(contacts.values())  # the demo has contacts to count
        wrong = []
        for account in accounts:
            stored = (account.risk, account.priority, account.reasons, account.strategy)
            v = refresh_priority(session, account, now, history=contacts[account.id], plans=plans[account.id],
                                 write=False)
            if stored != (v["risk"], v["priority"], v["reasons"], v["strategy"]):
                wrong.append(account.account_ref)
        session.rollback()
    engine.dispose()
    assert wrong == []
