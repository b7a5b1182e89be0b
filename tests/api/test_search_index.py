"""The search indexes of migration 0002 exist, are used, and follow the rows they
index (SQLite: the FTS5 table kept by triggers; PostgreSQL: accounts.search_text
kept by triggers, with a trigram index)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import delete, inspect, select, text, update

from backend.db import make_engine, upgrade
from backend.models import Account, Customer
from backend.services.accounts import search_index, worklist_statement


def test_the_database_has_its_search_index(session) -> None:  # noqa: ANN001
    expected = "trgm" if session.get_bind().dialect.name == "postgresql" else "fts"
    assert search_index(session) == expected


def test_search_goes_through_the_index(session, make_account) -> None:  # noqa: ANN001
    from backend.models import User

    agent = session.scalar(select(User).where(User.username == "agent1"))
    sql = str(worklist_statement(agent, q="smith", index=search_index(session)).compile(dialect=session.get_bind().dialect))
    assert ("search_text" in sql) if search_index(session) == "trgm" else ("account_search MATCH" in sql)
    # One or two characters cannot use a trigram: they are tested row by row.
    sql = str(worklist_statement(agent, q="张伟", index=search_index(session)).compile(dialect=session.get_bind().dialect))
    assert "search_text" not in sql and "MATCH" not in sql


async def test_the_index_follows_renames_and_deletions(http, auth, session, make_account) -> None:  # noqa: ANN001
    account = make_account(customer_name="Original Name", account_ref="IDX-0001")
    headers = await auth("agent1")

    async def found(q: str) -> list[int]:
        return [i["id"] for i in (await http.get("/api/v1/worklist", headers=headers, params={"q": q})).json()["items"]]

    assert await found("original") == [account.id]
    session.execute(update(Customer).where(Customer.id == account.customer_id).values(name="Renamed Person"))
    session.commit()
    assert await found("original") == [] and await found("renamed") == [account.id]
    session.execute(update(Account).where(Account.id == account.id).values(account_ref="IDX-7777"))
    session.commit()
    assert await found("idx-0001") == [] and await found("idx-7777") == [account.id]
    if session.get_bind().dialect.name == "sqlite":
        session.execute(delete(Account).where(Account.id == account.id))
        session.commit()
        left = session.execute(text("SELECT count(*) FROM account_search WHERE rowid = :id"), {"id": account.id}).scalar()
        assert left == 0


def test_migrations_go_down_and_up_again(tmp_path: Path) -> None:
    from alembic import command

    from backend.db import alembic_config

    url = f"sqlite:///{tmp_path / 'round.db'}"
    engine = make_engine(url)
    upgrade(url, engine)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert "account_search" not in inspect(engine).get_table_names()
    upgrade(url, engine)
    tables = inspect(engine).get_table_names()
    assert "account_search" in tables and {"accounts", "customers", "audit_log"} <= set(tables)
    engine.dispose()


async def test_many_matches_and_few_find_the_same_accounts(http, auth, session, make_account,  # noqa: ANN001
                                                          monkeypatch) -> None:  # noqa: ANN001
    """SQLite plans a search by how many accounts match in all (``search_plan``): few,
    the page starts from them; many, it walks the caller's list and tests each. Both
    find the same accounts, in the same order, with cards and pages alike."""
    import backend.services.accounts as accounts_svc

    smiths = [make_account(customer_name=f"Ann Smith {n}", account_ref=f"SMI-{n:03d}") for n in range(7)]
    smiths.append(make_account(customer_name="Card Holder", card_number="4539 8273 6150 7777"))
    make_account(customer_name="Someone Else", agent="agent2")
    bob = make_account(customer_name="Bob Smithers", team="B", agent="agent3")  # matches, not agent1's
    headers = await auth("agent1")

    async def pages(q: str) -> list[list[int]]:
        out, cursor = [], None
        while True:
            params = {"q": q, "limit": 3} | ({"cursor": cursor} if cursor else {})
            body = (await http.get("/api/v1/worklist", headers=headers, params=params)).json()
            out.append([i["id"] for i in body["items"]])
            cursor = body["next_cursor"]
            if not cursor:
                return out

    few = {q: await pages(q) for q in ("smith", "SMI-00", "7777", "nobody")}
    if session.get_bind().dialect.name == "sqlite":
        plan, matches = accounts_svc.search_plan(session, "smith")
        assert plan == "fts" and sorted(matches) == sorted([s.id for s in smiths[:7]] + [bob.id])
        monkeypatch.setattr(accounts_svc, "FTS_FEW", 2)
        assert accounts_svc.search_plan(session, "smith") == ("fts-walk", None)
    many = {q: await pages(q) for q in few}
    assert many == few
    assert sorted(i for page in few["smith"] for i in page) == sorted(s.id for s in smiths[:7])
    assert [i for page in few["7777"] for i in page] == [smiths[7].id]
    assert few["nobody"] == [[]]
