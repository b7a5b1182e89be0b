"""``GET /api/v1/accounts/{id}`` and ``POST /api/v1/accounts`` (admin): the
account detail, and creating an account from an import row as JSON (SPEC §5)."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Account, Customer


def _row(**overrides: object) -> dict:
    row = {
        "account_ref": "NEW-0001", "customer_name": "Maria Garcia", "phones": ["+12125550123", "+13125550123"],
        "email": "maria@example.com", "address": "5 Elm St, Springfield", "country": "US", "region": "IL",
        "timezone": None, "currency": "USD", "credit_limit": "8000.00", "balance": "2500.50", "overdue": "400.25",
        "minimum_due": "75.00", "dpd": 62, "card_number": "4539 8273 6150 4820", "opened_on": "2019-05-01",
        "team": "A", "agent": "agent2",
    }
    row.update(overrides)
    return row


async def test_detail_has_the_contract_fields(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(dpd=95, balance="1500.00", overdue="600.00", minimum_due="60.00", credit_limit="3000.00")
    response = await http.get(f"/api/v1/accounts/{account.id}", headers=await auth("agent1"))
    assert response.status_code == 200
    body = response.json()
    assert response.headers["etag"] == f'"{body["version"]}"'
    assert body["id"] == account.id and body["account_ref"] == account.account_ref
    assert body["currency"] == "USD"
    assert body["card"] == "•••• •••• •••• 1111"
    assert body["balance"] == {"amount_minor": 150000, "currency": "USD"}
    assert body["overdue"] == {"amount_minor": 60000, "currency": "USD"}
    assert body["minimum_due"] == {"amount_minor": 6000, "currency": "USD"}
    assert body["credit_limit"] == {"amount_minor": 300000, "currency": "USD"}
    assert (body["dpd"], body["bucket"], body["status"]) == (95, "90", "open")
    customer = body["customer"]
    assert customer["timezone"] == "America/New_York" and customer["timezones"] == ["America/New_York"]
    assert customer["country"] == "US" and customer["region"] == "NY"
    assert customer["phones"][0]["number"] == "+12125550100" and customer["phones"][0]["is_primary"] is True
    assert customer["addresses"][0]["text"] == "1 Main St, New York, NY"
    assert body["flags"] == {"cease": [], "dispute": False, "bankruptcy": False, "deceased": False, "attorney": False,
                             "complaint": False, "fraud": False, "hardship": False}
    assert (body["team"], body["agent"]) == ("A", "agent1")
    assert isinstance(body["version"], int) and isinstance(body["priority"], float)


async def test_unknown_account_is_404_and_bad_ids_are_422(http, auth, problem) -> None:  # noqa: ANN001
    headers = await auth("agent1")
    problem(await http.get("/api/v1/accounts/999999", headers=headers), 404)
    for bad in ("0", "-1", "abc", "2147483648", "99999999999999999999999", "1.5"):
        body = problem(await http.get(f"/api/v1/accounts/{bad}", headers=headers), 422)
        assert body["fields"] == {"account_id"}


async def test_a_colleagues_account_is_visible_to_the_team(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    for user in ("agent2", "super1", "admin", "legal1"):
        assert (await http.get(f"/api/v1/accounts/{account.id}", headers=await auth(user))).status_code == 200, user
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=await auth("trainer1"))).status_code == 404


async def test_admin_creates_an_account_201(http, auth, session, new_audit) -> None:  # noqa: ANN001
    response = await http.post("/api/v1/accounts", json=_row(), headers=await auth("admin"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["account_ref"] == "NEW-0001" and body["card"] == "•••• •••• •••• 4820"
    assert body["balance"] == {"amount_minor": 250050, "currency": "USD"}
    assert body["overdue"] == {"amount_minor": 40025, "currency": "USD"}
    assert (body["dpd"], body["bucket"], body["team"], body["agent"]) == (62, "60", "A", "agent2")
    assert [p["number"] for p in body["customer"]["phones"]] == ["+12125550123", "+13125550123"]
    # No zone on record: every zone the phones could ring in (New York, Chicago).
    assert body["customer"]["timezone"] is None
    assert {"America/New_York", "America/Chicago"} <= set(body["customer"]["timezones"])
    stored = session.scalar(select(Account).where(Account.account_ref == "NEW-0001"))
    assert (stored.card_bin, stored.card_last4) == ("453982", "4820")
    assert len(new_audit(entity="account", entity_id=stored.id, action="create")) == 1


async def test_currencies_keep_their_own_minor_units(http, auth) -> None:  # noqa: ANN001
    headers = await auth("admin")
    for ref, currency, amount, minor in (("JP-1", "JPY", "123456", 123456), ("BH-1", "BHD", "12.345", 12345),
                                         ("CN-1", "CNY", "99.9", 9990)):
        row = _row(account_ref=ref, currency=currency, credit_limit=amount, balance=amount, overdue="0",
                   minimum_due="0")
        response = await http.post("/api/v1/accounts", json=row, headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["balance"] == {"amount_minor": minor, "currency": currency}


async def test_charge_off_at_180_days(http, auth) -> None:  # noqa: ANN001
    response = await http.post("/api/v1/accounts", json=_row(dpd=180), headers=await auth("admin"))
    assert (response.json()["bucket"], response.json()["status"]) == ("180+", "charged_off")


async def test_only_an_admin_creates_accounts(http, auth, problem, count) -> None:  # noqa: ANN001
    for user in ("agent1", "super1", "legal1", "trainer1"):
        problem(await http.post("/api/v1/accounts", json=_row(), headers=await auth(user)), 403)
    problem(await http.post("/api/v1/accounts", json=_row()), 401)
    assert count(Account, Account.account_ref == "NEW-0001") == 0


async def test_duplicate_account_ref_is_409(http, auth, problem, count) -> None:  # noqa: ANN001
    headers = await auth("admin")
    assert (await http.post("/api/v1/accounts", json=_row(), headers=headers)).status_code == 201
    body = problem(await http.post("/api/v1/accounts", json=_row(customer_name="Someone Else"), headers=headers), 409)
    assert body["fields"] == {"account_ref"}
    assert count(Account, Account.account_ref == "NEW-0001") == 1


async def test_invalid_rows_are_422_naming_each_field(http, auth, problem, count) -> None:  # noqa: ANN001
    headers = await auth("admin")
    cases = [
        ({"credit_limit": "12.345"}, {"credit_limit"}),  # USD has two decimals
        ({"currency": "JPY", "credit_limit": "800", "balance": "100.5", "overdue": "40", "minimum_due": "7"},
         {"balance"}),  # JPY has none
        ({"balance": "1,000.00"}, {"balance"}),
        ({"overdue": "-5.00"}, {"overdue"}),
        ({"overdue": "9999.00"}, {"overdue"}),  # more than the balance
        ({"currency": "usd"}, {"currency"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"phones": ["12125550123"]}, {"phones.0"}),
        ({"phones": ["+12125550123", "+12125550123"]}, {"phones"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"card_number": "4539-82"}, {"card_number"}),
        ({"card_number": "4539 8273 6150 48XX"}, {"card_number"}),
        ({"agent": "nobody"}, {"agent"}),
        ({"agent": "agent3"}, {"agent"}),  # team B
        ({"agent": "legal1"}, {"agent"}),
        ({"dpd": -1}, {"dpd"}),
        ({"dpd": 10**12}, {"dpd"}),
        ({"opened_on": "2019-02-30"}, {"opened_on"}),
        ({"opened_on": "2999-01-01"}, {"opened_on"}),
        ({"country": "USA"}, {"country"}),
        ({"customer_name": ""}, {"customer_name"}),
        ({"customer_name": "a\x00b"}, {"customer_name"}),
        ({"account_ref": "x" * 65}, {"account_ref"}),
        ({"unexpected": 1}, {"unexpected"}),
    ]
    for n, (change, blamed) in enumerate(cases):
        body = problem(await http.post("/api/v1/accounts", json=_row(account_ref=f"BAD-{n}") | change,
                                       headers=headers), 422)
        assert body["fields"] == blamed, (change, body)
    missing = _row()
    del missing["balance"]
    assert problem(await http.post("/api/v1/accounts", json=missing, headers=headers), 422)["fields"] == {"balance"}
    # Every problem at once, each named.
    body = problem(await http.post("/api/v1/accounts", json=_row(credit_limit="1.001", timezone="Nowhere", email="x"),
                                   headers=headers), 422)
    assert body["fields"] == {"credit_limit", "timezone", "email"}
    assert count(Customer) == 0


async def test_create_with_an_idempotency_key_replays(http, auth, count) -> None:  # noqa: ANN001
    headers = {**await auth("admin"), "Idempotency-Key": "import-row-7"}
    first = await http.post("/api/v1/accounts", json=_row(), headers=headers)
    again = await http.post("/api/v1/accounts", json=_row(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert count(Account, Account.account_ref == "NEW-0001") == 1
