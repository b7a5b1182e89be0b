"""``GET /api/v1/worklist``: ranking, cursor pages, bucket and search (SPEC §5)."""

from __future__ import annotations

import base64

from sqlalchemy import select

from backend.models import User


async def _pages(http, headers, **params) -> list[list[dict]]:  # noqa: ANN001
    pages, cursor = [], None
    while True:
        response = await http.get("/api/v1/worklist", headers=headers, params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


async def test_ranked_by_priority_highest_first(http, auth, make_account) -> None:  # noqa: ANN001
    made = [
        make_account(dpd=5, overdue="10.00"),
        make_account(dpd=95, overdue="900.00"),
        make_account(dpd=35, overdue="300.00"),
        make_account(dpd=35, overdue="5000.00", balance="6000.00"),
        make_account(dpd=190, overdue="1000.00"),
    ]
    response = await http.get("/api/v1/worklist", headers=await auth("agent1"))
    assert response.status_code == 200
    items = response.json()["items"]
    # The champion strategy (config/strategies): expected recovery (overdue × chance
    # of paying) first, then the bucket; a large 30-day balance beats a small old one.
    assert [i["id"] for i in items] == [made[3].id, made[1].id, made[2].id, made[4].id, made[0].id]
    priorities = [i["priority"] for i in items]
    assert priorities == sorted(priorities, reverse=True)
    top = items[0]
    assert top["bucket"] == "30" and top["dpd"] == 35
    assert top["card"] == "•••• •••• •••• 1111"
    assert top["balance"] == {"amount_minor": 600000, "currency": "USD"}
    assert top["overdue"] == {"amount_minor": 500000, "currency": "USD"}
    assert {r["code"] for r in top["reasons"]} >= {"dpd", "expected_recovery"}
    assert set(top) >= {"id", "account_ref", "customer_name", "card", "dpd", "bucket", "balance", "overdue", "priority",
                        "reasons", "contactable_now", "next_contact_at"}


async def test_paused_accounts_rank_last(http, auth, make_account) -> None:  # noqa: ANN001
    old = make_account(dpd=170, overdue="900.00")
    young = make_account(dpd=3, overdue="5.00")
    admin = await auth("admin")
    detail = (await http.get(f"/api/v1/accounts/{old.id}", headers=admin)).json()
    response = await http.patch(f"/api/v1/accounts/{old.id}", json={"flags": {"dispute": True}},
                                headers={**admin, "If-Match": str(detail["version"])})
    assert response.status_code == 200, response.text
    items = (await http.get("/api/v1/worklist", headers=await auth("agent1"))).json()["items"]
    assert [i["id"] for i in items] == [young.id, old.id]
    assert items[1]["contactable_now"] is False and items[1]["priority"] == 0
    assert "dispute" in items[1]["flags"]


async def test_cursor_pages_cover_everything_once_in_order(http, auth, make_account) -> None:  # noqa: ANN001
    # Equal priorities (ties broken by id) and fractional ones, across page edges.
    made = [make_account(dpd=40, overdue="123.45") for _ in range(5)]
    made += [make_account(dpd=d, overdue=f"{d}.07") for d in (12, 61, 61, 150, 7, 33)]
    headers = await auth("agent1")
    everything = (await http.get("/api/v1/worklist", headers=headers, params={"limit": 200})).json()["items"]
    assert len(everything) == len(made)
    assert [(i["priority"], i["id"]) for i in everything] == sorted(((i["priority"], i["id"]) for i in everything),
                                                                     reverse=True)
    for limit in (1, 2, 3, 5):
        pages = await _pages(http, headers, limit=limit)
        assert all(len(p) == limit for p in pages[:-1]) and 1 <= len(pages[-1]) <= limit
        assert [i["id"] for p in pages for i in p] == [i["id"] for i in everything]


async def test_page_that_ends_exactly_has_no_cursor(http, auth, make_account) -> None:  # noqa: ANN001
    for _ in range(4):
        make_account()
    headers = await auth("agent1")
    first = (await http.get("/api/v1/worklist", headers=headers, params={"limit": 2})).json()
    second = (await http.get("/api/v1/worklist", headers=headers, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None


async def test_bad_cursor_limit_and_bucket_are_422_naming_the_field(http, auth, problem) -> None:  # noqa: ANN001
    headers = await auth("agent1")

    def cursor(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": cursor(b"nan|1")}, "cursor"),
        ({"cursor": cursor(b"inf|1")}, "cursor"), ({"cursor": cursor(b"1.0|99999999999999999999")}, "cursor"),
        ({"cursor": cursor(b"1.0|0")}, "cursor"), ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
        ({"limit": "many"}, "limit"), ({"bucket": "45"}, "bucket"), ({"q": "x" * 101}, "q"), ({"q": "a\x01b"}, "q"),
    ):
        body = problem(await http.get("/api/v1/worklist", headers=headers, params=params), 422)
        assert body["fields"] == {field}, (params, body)


async def test_bucket_filter(http, auth, make_account) -> None:  # noqa: ANN001
    by_bucket = {b: make_account(dpd=d) for b, d in (("current", 0), ("X", 12), ("30", 45), ("90", 100), ("180+", 400))}
    headers = await auth("agent1")
    for bucket, account in by_bucket.items():
        items = (await http.get("/api/v1/worklist", headers=headers, params={"bucket": bucket})).json()["items"]
        assert [(i["id"], i["bucket"]) for i in items] == [(account.id, bucket)]
    assert (await http.get("/api/v1/worklist", headers=headers, params={"bucket": "150"})).json()["items"] == []


async def test_search_by_name_in_any_case_and_script(http, auth, make_account) -> None:  # noqa: ANN001
    elodie = make_account(customer_name="Élodie Durand")
    zhang = make_account(customer_name="张伟")
    sigma = make_account(customer_name="ΣΊΣΥΦΟΣ Papadopoulos")
    make_account(customer_name="John Smith")
    headers = await auth("agent1")

    async def found(q: str) -> list[int]:
        response = await http.get("/api/v1/worklist", headers=headers, params={"q": q})
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    for q in ("élodie", "ÉLODIE", "Élodie", "durand", "DURAND", "lodie d", "  élodie  "):
        assert await found(q) == [elodie.id], q
    assert await found("张") == [zhang.id]
    assert await found("σίσυφ") == await found("ΣΊΣΥΦ") == [sigma.id]
    assert await found("nobody") == []
    assert len(await found("   ")) == 4


async def test_search_takes_wildcards_literally(http, auth, make_account) -> None:  # noqa: ANN001
    cotton = make_account(customer_name="100% Cotton Ltd")
    under = make_account(customer_name="Under_Score")
    quoted = make_account(customer_name="Mary O'Brien\\Sons")
    make_account(customer_name="Plain Name")
    headers = await auth("agent1")
    for q, expected in (("%", [cotton.id]), ("_", [under.id]), ("0% c", [cotton.id]), ("r_s", [under.id]),
                        ("\\", [quoted.id]), ("o'brien\\s", [quoted.id]), ("'; --", []), ('"', [])):
        items = (await http.get("/api/v1/worklist", headers=headers, params={"q": q})).json()["items"]
        assert [i["id"] for i in items] == expected, q


async def test_search_by_reference_and_card(http, auth, make_account) -> None:  # noqa: ANN001
    target = make_account(account_ref="BANK-778899", card_number="4539 8273 6150 4820")
    same_last4 = make_account(account_ref="BANK-000001", card_number="5500 0000 0000 4820")
    make_account(account_ref="BANK-000002", card_number="4111111111111111")
    headers = await auth("agent1")

    async def found(q: str) -> set[int]:
        return {i["id"] for i in (await http.get("/api/v1/worklist", headers=headers, params={"q": q})).json()["items"]}

    assert await found("778899") == {target.id}
    assert await found("bank-7788") == {target.id}
    assert await found("4820") == {target.id, same_last4.id}
    # A whole card number matches on its BIN and last four (the middle is never stored).
    for q in ("4539827361504820", "4539 8273 6150 4820", "4539-8273-6150-4820"):
        assert await found(q) == {target.id}, q
    assert await found("482") == set()


async def test_agents_see_their_own_supervisors_their_team(http, auth, make_account) -> None:  # noqa: ANN001
    mine = make_account(agent="agent1")
    colleague = make_account(agent="agent2")
    unassigned = make_account(agent=None)
    other_team = make_account(team="B", agent="agent3")

    async def ids(user: str) -> set[int]:
        return {i["id"] for i in (await http.get("/api/v1/worklist", headers=await auth(user))).json()["items"]}

    assert await ids("agent1") == {mine.id}
    assert await ids("agent2") == {colleague.id}
    assert await ids("agent3") == {other_team.id}
    assert await ids("super1") == {mine.id, colleague.id, unassigned.id}
    assert await ids("admin") == {mine.id, colleague.id, unassigned.id, other_team.id}
    assert await ids("trainer1") == set()


async def test_search_never_crosses_teams(http, auth, make_account) -> None:  # noqa: ANN001
    make_account(account_ref="TEAMA-42", customer_name="Alice Alpha", card_number="4539827361504820")
    headers = await auth("agent3")
    for q in ("TEAMA-42", "alice", "4820", "4539827361504820"):
        assert (await http.get("/api/v1/worklist", headers=headers, params={"q": q})).json()["items"] == [], q


async def test_worklist_views_are_audited(http, auth, session, make_account, new_audit) -> None:  # noqa: ANN001
    a, b = make_account(), make_account()
    await http.get("/api/v1/worklist", headers=await auth("agent1"))
    agent1 = session.scalar(select(User.id).where(User.username == "agent1"))
    [row] = new_audit(user_id=agent1, entity="worklist")
    assert row.action == "view" and sorted(row.detail["accounts"]) == sorted([a.id, b.id])
