"""What each number is (``phone_kinds`` on create, ``kind`` per phone on PATCH) and
where the zone on record came from (``timezone_source``: the bank's ``record`` or a
zone the ``customer`` confirmed), on ``POST`` and ``PATCH /api/v1/accounts`` and in
the account detail (SPEC §4, §5)."""

from __future__ import annotations

from sqlalchemy import select

from backend.models import Account, Customer

PHONES = ["+12125550123", "+13125550123", "+14155550123"]


def _row(**overrides: object) -> dict:
    row = {
        "account_ref": "KIND-0001", "customer_name": "Maria Garcia", "phones": PHONES[:2],
        "address": "5 Elm St, Springfield", "country": "US", "region": "IL", "currency": "USD",
        "credit_limit": "8000.00", "balance": "2500.50", "overdue": "400.25", "minimum_due": "75.00", "dpd": 62,
        "card_number": "4539 8273 6150 4820", "team": "A", "agent": "agent2",
    }
    row.update(overrides)
    return row


async def _create(http, auth, **overrides: object) -> dict:  # noqa: ANN001
    response = await http.post("/api/v1/accounts", json=_row(**overrides), headers=await auth("admin"))
    assert response.status_code == 201, response.text
    return response.json()


async def _patch(http, headers, account_id: int, body: dict):  # noqa: ANN001, ANN202
    version = (await http.get(f"/api/v1/accounts/{account_id}", headers=headers)).json()["version"]
    return await http.patch(f"/api/v1/accounts/{account_id}", json=body,
                            headers={**headers, "If-Match": str(version)})


def _kinds(body: dict) -> list[tuple[str, str]]:
    return [(p["number"], p["kind"]) for p in body["customer"]["phones"]]


# --------------------------------------------------------------------------
# Creating


async def test_kinds_given_on_create_are_kept_in_order(http, auth, session) -> None:  # noqa: ANN001
    created = await _create(http, auth, phones=PHONES, phone_kinds=["home", "work", "mobile"])
    assert _kinds(created) == [(PHONES[0], "home"), (PHONES[1], "work"), (PHONES[2], "mobile")]
    read = (await http.get(f"/api/v1/accounts/{created['id']}", headers=await auth("agent2"))).json()
    assert _kinds(read) == _kinds(created)
    assert read["customer"]["phones"][0]["is_primary"] is True
    stored = session.scalar(select(Account).where(Account.account_ref == "KIND-0001"))
    assert [p.kind for p in stored.customer.phones] == ["home", "work", "mobile"]


async def test_missing_kinds_default_first_mobile_then_other(http, auth) -> None:  # noqa: ANN001
    none_given = await _create(http, auth, account_ref="KIND-0001", phones=PHONES)
    assert [k for _n, k in _kinds(none_given)] == ["mobile", "other", "other"]
    # Fewer kinds than phones: the rest by the same rule.
    one_given = await _create(http, auth, account_ref="KIND-0002", phones=PHONES, phone_kinds=["work"])
    assert [k for _n, k in _kinds(one_given)] == ["work", "other", "other"]
    two_given = await _create(http, auth, account_ref="KIND-0003", phones=PHONES, phone_kinds=["home", "mobile"])
    assert [k for _n, k in _kinds(two_given)] == ["home", "mobile", "other"]
    assert none_given["customer"]["timezone_source"] == "record"


async def test_more_kinds_than_phones_or_an_unknown_kind_is_422(http, auth, problem, count) -> None:  # noqa: ANN001
    headers = await auth("admin")
    cases = [
        ({"phone_kinds": ["mobile", "home", "work"]}, {"phone_kinds"}),  # two phones
        ({"phones": [], "phone_kinds": ["mobile"]}, {"phone_kinds"}),
        ({"phone_kinds": ["mobile", "fax"]}, {"phone_kinds.1"}),
        ({"phone_kinds": ["Mobile"]}, {"phone_kinds.0"}),
        ({"phone_kinds": "mobile"}, {"phone_kinds"}),
    ]
    for n, (change, blamed) in enumerate(cases):
        body = problem(await http.post("/api/v1/accounts", json=_row(account_ref=f"BAD-{n}") | change,
                                       headers=headers), 422)
        assert body["fields"] == blamed, (change, body)
    # Named beside the row's other problems.
    body = problem(await http.post("/api/v1/accounts", json=_row(phone_kinds=["home"] * 3, timezone="Nowhere"),
                                   headers=headers), 422)
    assert body["fields"] == {"phone_kinds", "timezone"}
    assert count(Customer) == 0


async def test_timezone_source_on_create(http, auth, problem, count) -> None:  # noqa: ANN001
    confirmed = await _create(http, auth, timezone="America/Chicago", timezone_source="customer")
    assert (confirmed["customer"]["timezone"], confirmed["customer"]["timezone_source"]) == (
        "America/Chicago", "customer")
    record = await _create(http, auth, account_ref="KIND-0002", timezone="America/Chicago", timezone_source="record")
    assert record["customer"]["timezone_source"] == "record"
    headers = await auth("admin")
    # A confirmed zone needs the zone.
    for zone in (None, ""):
        body = problem(await http.post("/api/v1/accounts", headers=headers, json=_row(
            account_ref="KIND-0003", timezone=zone, timezone_source="customer")), 422)
        assert body["fields"] == {"timezone_source"}
        assert "zone" in body["detail"]
    body = problem(await http.post("/api/v1/accounts", headers=headers, json=_row(
        account_ref="KIND-0003", timezone="America/Chicago", timezone_source="bank")), 422)
    assert body["fields"] == {"timezone_source"}
    assert count(Account, Account.account_ref == "KIND-0003") == 0


# --------------------------------------------------------------------------
# Changing


async def test_patch_sets_a_numbers_kind(http, auth, make_account, new_audit) -> None:  # noqa: ANN001
    account = make_account(phones=PHONES[:2])
    headers = await auth("agent1")
    response = await _patch(http, headers, account.id, {"phones": [
        {"number": PHONES[0], "kind": "home"}, {"number": PHONES[1]}]})
    assert response.status_code == 200, response.text
    assert _kinds(response.json()) == [(PHONES[0], "home"), (PHONES[1], "other")]
    # No kind keeps a listed number's (also when it moves); a new number is ``other`` unless given.
    body = (await _patch(http, headers, account.id, {"phones": [
        {"number": PHONES[1], "kind": "work"}, {"number": PHONES[0], "do_not_call": True},
        {"number": PHONES[2]}]})).json()
    assert _kinds(body) == [(PHONES[1], "work"), (PHONES[0], "home"), (PHONES[2], "other")]
    assert [p["do_not_call"] for p in body["customer"]["phones"]] == [False, True, False]
    body = (await _patch(http, headers, account.id, {"phones": [
        {"number": PHONES[0]}, {"number": "+16175550123", "kind": "mobile"}]})).json()
    assert _kinds(body) == [(PHONES[0], "home"), ("+16175550123", "mobile")]
    read = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert _kinds(read) == _kinds(body)
    first, *_rest, last = new_audit(entity="account", entity_id=account.id, action="update")
    assert [p["kind"] for p in first.detail["phones"]] == ["home", "other"]
    assert [p["kind"] for p in last.detail["phones"]] == ["home", "mobile"]
    assert all(p["number"].endswith("••••") for p in last.detail["phones"])


async def test_patch_refuses_an_unknown_kind(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    body = problem(await _patch(http, headers, account.id, {"phones": [{"number": "+12125550100", "kind": "pager"}]}),
                   422)
    assert body["fields"] == {"phones.0.kind"}
    after = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert after["version"] == before["version"] and _kinds(after) == _kinds(before)


async def test_patch_timezone_source(http, auth, make_account, problem, new_audit) -> None:  # noqa: ANN001
    account = make_account(timezone="America/New_York", timezone_source="record")
    headers = await auth("agent1")
    customer = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()["customer"]
    assert customer["timezone_source"] == "record"

    # Alone: the customer confirmed the zone on record.
    body = (await _patch(http, headers, account.id, {"timezone_source": "customer"})).json()
    assert (body["customer"]["timezone"], body["customer"]["timezone_source"]) == ("America/New_York", "customer")
    # A new zone alone keeps the source.
    body = (await _patch(http, headers, account.id, {"timezone": "America/Denver"})).json()
    assert (body["customer"]["timezone"], body["customer"]["timezone_source"]) == ("America/Denver", "customer")
    # Back to the record's.
    body = (await _patch(http, headers, account.id, {"timezone_source": "record"})).json()
    assert (body["customer"]["timezone"], body["customer"]["timezone_source"]) == ("America/Denver", "record")
    # With the zone, together.
    body = (await _patch(http, headers, account.id, {"timezone": "Asia/Shanghai", "timezone_source": "customer"})).json()
    assert (body["customer"]["timezone"], body["customer"]["timezone_source"]) == ("Asia/Shanghai", "customer")
    assert body["customer"]["timezones"] == ["Asia/Shanghai"]
    # Clearing the zone makes the source the record's again.
    body = (await _patch(http, headers, account.id, {"timezone": ""})).json()
    assert (body["customer"]["timezone"], body["customer"]["timezone_source"]) == (None, "record")

    rows = new_audit(entity="account", entity_id=account.id, action="update")
    assert [(r.detail.get("timezone", "-"), r.detail.get("timezone_source", "-")) for r in rows] == [
        ("-", "customer"), ("America/Denver", "-"), ("-", "record"), ("Asia/Shanghai", "customer"), ("", "record")]


async def test_patch_a_confirmed_zone_needs_the_zone(http, auth, make_account, problem, session) -> None:  # noqa: ANN001
    account = make_account(timezone=None)
    headers = await auth("agent1")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    for change in ({"timezone_source": "customer"}, {"timezone_source": "customer", "timezone": ""},
                   {"timezone_source": "customer", "timezone": None}):
        body = problem(await _patch(http, headers, account.id, change), 422)
        assert body["fields"] == {"timezone_source"}, change
    assert problem(await _patch(http, headers, account.id, {"timezone_source": "bank"}), 422)["fields"] == {
        "timezone_source"}
    # A zone given with the source is enough; clearing it while confirming is refused and changes nothing.
    body = (await _patch(http, headers, account.id, {"timezone": "America/Chicago", "timezone_source": "customer"})).json()
    assert body["customer"]["timezone_source"] == "customer"
    problem(await _patch(http, headers, account.id, {"timezone": None, "timezone_source": "customer"}), 422)
    after = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert after["version"] == before["version"] + 1
    assert (after["customer"]["timezone"], after["customer"]["timezone_source"]) == ("America/Chicago", "customer")
    session.expire_all()
    assert session.get(Account, account.id).customer.timezone_source == "customer"
