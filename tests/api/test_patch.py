"""``PATCH /api/v1/accounts/{id}``: ``If-Match: <version>`` required and checked
first (412 when stale, 428 when missing), flags merged, phones' do-not-call,
contact details, and assignment by a supervisor or an admin only (SPEC §5)."""

from __future__ import annotations


async def _version(http, headers, account_id: int) -> int:  # noqa: ANN001
    return (await http.get(f"/api/v1/accounts/{account_id}", headers=headers)).json()["version"]


async def _patch(http, headers, account_id: int, body: dict, version: int | str | bytes | None = "current"):  # noqa: ANN001, ANN202
    if version == "current":
        version = await _version(http, headers, account_id)
    extra = {} if version is None else {"If-Match": version if isinstance(version, bytes) else str(version).encode()}
    return await http.patch(f"/api/v1/accounts/{account_id}", json=body, headers={**headers, **extra})


async def test_if_match_is_required_and_checked(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    version = await _version(http, headers, account.id)
    body = problem(await _patch(http, headers, account.id, {"flags": {"hardship": True}}, None), 428)
    assert body["fields"] == {"If-Match"}
    for bad in (b"abc", "²".encode("latin-1"), "١".encode(), b"1.0", b"", b"1, 2", b"*", b"9999999999", b"-1"):
        body = problem(await _patch(http, headers, account.id, {"flags": {"hardship": True}}, bad), 422)
        assert body["fields"] == {"If-Match"}, bad
    stale = problem(await _patch(http, headers, account.id, {"flags": {"hardship": True}}, version + 1), 412)
    assert stale["current_version"] == version
    # Both spellings of an entity tag are understood.
    for spelling in ('"{}"', 'W/"{}"', ' {} '):
        response = await _patch(http, headers, account.id, {"flags": {"hardship": True}}, spelling.format(version))
        assert response.status_code == 200, response.text
        version = response.json()["version"]


async def test_each_change_gives_a_new_version_and_stale_writers_lose(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    alice, bob = await auth("agent1"), await auth("agent2")
    seen = await _version(http, alice, account.id)
    first = await _patch(http, alice, account.id, {"email": "new@example.com"}, seen)
    assert first.status_code == 200
    assert first.json()["version"] == seen + 1 and first.headers["etag"] == f'"{seen + 1}"'
    # Bob read the same version: his change is refused, not lost over Alice's.
    problem(await _patch(http, bob, account.id, {"email": "bob@example.com"}, seen), 412)
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=bob)).json()["customer"]["email"] == "new@example.com"


async def test_flags_merge(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    flags = (await _patch(http, headers, account.id, {"flags": {"hardship": True, "cease": ["sms", "email"]}})).json()["flags"]
    assert flags["hardship"] is True and flags["cease"] == ["email", "sms"]
    flags = (await _patch(http, headers, account.id, {"flags": {"attorney": True}})).json()["flags"]
    assert flags["hardship"] is True and flags["attorney"] is True and flags["cease"] == ["email", "sms"]
    # Lifting takes a note, and a cease is lifted by a supervisor (config/flags.toml).
    flags = (await _patch(http, await auth("super1"), account.id, {
        "flags": {"hardship": False, "cease": []}, "flags_note": "back at work; wants mail again"})).json()["flags"]
    assert flags["hardship"] is False and flags["attorney"] is True and flags["cease"] == []


async def test_pause_flags_stop_contact(http, auth, make_account, open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone)
    headers = await auth("agent1")
    assert (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()["contactable_now"] is True
    body = (await _patch(http, headers, account.id, {"flags": {"complaint": True}})).json()
    assert body["contactable_now"] is False and body["priority"] == 0
    assert {r["code"] for r in body["reasons"]} == {"paused"}


async def test_phones_and_do_not_call(http, auth, make_account, open_zone) -> None:  # noqa: ANN001
    account = make_account(timezone=open_zone, phones=["+12125550100", "+13125550100"])
    headers = await auth("agent1")
    body = (await _patch(http, headers, account.id, {"phones": [
        {"number": "+13125550100", "do_not_call": True}, {"number": "+12125550100"}, {"number": "+14155550100"}]})).json()
    phones = body["customer"]["phones"]
    assert [(p["number"], p["do_not_call"], p["is_primary"]) for p in phones] == [
        ("+13125550100", True, True), ("+12125550100", False, False), ("+14155550100", False, False)]
    assert "America/Los_Angeles" in phones[2]["timezones"]
    assert body["contactable_now"] is True
    body = (await _patch(http, headers, account.id, {"phones": [{"number": "+12125550100", "do_not_call": True}]})).json()
    assert [p["number"] for p in body["customer"]["phones"]] == ["+12125550100"]
    assert body["contactable_now"] is False and body["next_contact_at"] is None
    item = (await http.get("/api/v1/worklist", headers=headers)).json()["items"][0]
    assert item["contactable_now"] is False and [b["rule"] for b in item["blocks"]] == ["do-not-call"]


async def test_contact_details(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    body = (await _patch(http, headers, account.id, {"email": "x@example.org", "address": "9 New Rd",
                                                     "timezone": "Asia/Shanghai"})).json()
    customer = body["customer"]
    assert customer["email"] == "x@example.org" and customer["addresses"][0]["text"] == "9 New Rd"
    # A zone from the record is one place among the New York phone's and address's (SPEC §4) …
    assert customer["timezone"] == "Asia/Shanghai" and customer["timezones"] == ["America/New_York", "Asia/Shanghai"]
    assert {p["zone"]: p["sources"] for p in customer["places"]} == {
        "America/New_York": ["phone", "address"], "Asia/Shanghai": ["record"]}
    # … and one the customer confirmed overrides them.
    customer = (await _patch(http, headers, account.id, {"timezone_source": "customer"})).json()["customer"]
    assert customer["timezones"] == ["Asia/Shanghai"] and customer["places"][0]["sources"] == ["customer"]
    # Clearing the zone on record falls back to every zone the customer could be in.
    customer = (await _patch(http, headers, account.id, {"timezone": None})).json()["customer"]
    assert customer["timezone"] is None and "America/New_York" in customer["timezones"]
    for change, field in (({"timezone": "Mars/Olympus"}, "timezone"), ({"email": "nope"}, "email"),
                          ({"phones": [{"number": "0212"}]}, "phones.0.number"),
                          ({"phones": [{"number": "+12125550100"}, {"number": "+12125550100"}]}, "phones"),
                          ({"flags": {"cease": ["fax"]}}, "flags.cease.0"), ({"flags": {"bogus": True}}, "flags.bogus"),
                          ({"address": "x" * 501}, "address")):
        body = problem(await _patch(http, headers, account.id, change), 422)
        assert body["fields"] == {field}, (change, body)


async def test_assignment_by_supervisor_or_admin_only(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    agent, supervisor, admin = await auth("agent1"), await auth("super1"), await auth("admin")
    problem(await _patch(http, agent, account.id, {"agent": "agent2"}), 403)
    problem(await _patch(http, agent, account.id, {"team": "B"}), 403)
    body = (await _patch(http, supervisor, account.id, {"agent": "agent2"})).json()
    assert (body["team"], body["agent"]) == ("A", "agent2")
    # A supervisor assigns within their own team; an agent must belong to the account's team.
    problem(await _patch(http, supervisor, account.id, {"team": "B"}), 403)
    assert problem(await _patch(http, supervisor, account.id, {"agent": "agent3"}), 422)["fields"] == {"agent"}
    assert problem(await _patch(http, admin, account.id, {"agent": "nobody"}), 422)["fields"] == {"agent"}
    assert problem(await _patch(http, admin, account.id, {"team": "Z"}), 422)["fields"] == {"team"}
    body = (await _patch(http, admin, account.id, {"team": "B", "agent": "agent3"})).json()
    assert (body["team"], body["agent"]) == ("B", "agent3")
    # The account has left team A: its agents and supervisor no longer see it.
    problem(await http.get(f"/api/v1/accounts/{account.id}", headers=agent), 404)
    problem(await _patch(http, supervisor, account.id, {"agent": ""}, body["version"]), 404)
    body = (await _patch(http, admin, account.id, {"agent": ""})).json()
    assert body["agent"] is None


async def test_a_refused_patch_changes_nothing(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent1")
    before = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    # The flags are valid, the zone is not: the whole change is refused.
    problem(await _patch(http, headers, account.id, {"flags": {"fraud": True}, "timezone": "Nowhere/Land"}), 422)
    after = (await http.get(f"/api/v1/accounts/{account.id}", headers=headers)).json()
    assert after["flags"] == before["flags"] and after["version"] == before["version"]


async def test_changes_are_audited(http, auth, make_account, new_audit) -> None:  # noqa: ANN001
    account = make_account()
    await _patch(http, await auth("agent1"), account.id, {"flags": {"dispute": True}})
    [row] = new_audit(entity="account", entity_id=account.id, action="update")
    assert row.detail["flags"]["dispute"] is True
