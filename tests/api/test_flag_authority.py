"""Authority over flags (issue 15 item 2, ``config/flags.toml``): agents set the flags
that protect a customer, only a supervisor, legal officer or admin lifts most of
them, a lift always says why, and each change is on the timeline with who and why.
Trainers and customer service change no account; another team's account header is
reachable only where a note about it was shared."""

from __future__ import annotations

import pytest

from backend.services.flags import load_authority


async def _patch(http, headers, account_id: int, body: dict):  # noqa: ANN001, ANN202
    version = (await http.get(f"/api/v1/accounts/{account_id}", headers=headers)).json().get("version", 1)
    return await http.patch(f"/api/v1/accounts/{account_id}", json=body,
                            headers={**headers, "If-Match": str(version)})


@pytest.mark.parametrize("flag", ["cease", "dispute", "attorney", "complaint", "fraud", "bankruptcy", "deceased"])
async def test_an_agent_sets_but_only_a_supervisor_lifts(http, auth, make_account, problem, flag) -> None:  # noqa: ANN001
    account = make_account()
    agent, boss = await auth("agent1"), await auth("super1")
    on = {"cease": ["phone"]} if flag == "cease" else {flag: True}
    off = {"cease": []} if flag == "cease" else {flag: False}
    r = await _patch(http, agent, account.id, {"flags": on, "flags_note": "the customer said so on the phone"})
    assert r.status_code == 200, r.text
    body = problem(await _patch(http, agent, account.id, {"flags": off, "flags_note": "resolved"}), 403)
    assert body["rule"] == "flag-authority" and "supervisor" in body["detail"] and flag in body["detail"]
    # A supervisor lifts it, but only saying why.
    body = problem(await _patch(http, boss, account.id, {"flags": off}), 422)
    assert body["fields"] == {"flags_note"}
    r = await _patch(http, boss, account.id, {"flags": off, "flags_note": "court order of 3 March seen"})
    assert r.status_code == 200, r.text
    items = (await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=boss)).json()["items"]
    changes = [(e["data"]["change"], e["actor"], e["data"]["note"]) for e in items if e["kind"] == "flag"]
    assert changes == [("lifted", "super1", "court order of 3 March seen"),
                       ("set", "agent1", "the customer said so on the phone")]


async def test_an_agent_lifts_hardship_with_a_note(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    agent = await auth("agent1")
    assert (await _patch(http, agent, account.id, {"flags": {"hardship": True}})).status_code == 200
    problem(await _patch(http, agent, account.id, {"flags": {"hardship": False}}), 422)
    r = await _patch(http, agent, account.id, {"flags": {"hardship": False}, "flags_note": "back in work"})
    assert r.status_code == 200, r.text


async def test_nothing_changes_when_one_change_is_refused(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    agent = await auth("agent1")
    await _patch(http, agent, account.id, {"flags": {"deceased": True}, "flags_note": "letter from the estate"})
    problem(await _patch(http, agent, account.id, {"flags": {"deceased": False, "hardship": True},
                                                   "flags_note": "oops"}), 403)
    flags = (await http.get(f"/api/v1/accounts/{account.id}", headers=agent)).json()["flags"]
    assert flags["deceased"] is True and flags["hardship"] is False


async def test_trainers_and_customer_service_change_no_account(http, auth, make_account, problem) -> None:  # noqa: ANN001
    account = make_account()
    for user in ("trainer1", "service1"):
        r = await http.patch(f"/api/v1/accounts/{account.id}", json={"flags": {"hardship": True}},
                             headers={**await auth(user), "If-Match": "1"})
        assert problem(r, 403)["detail"] == "Your role does not change accounts"
    assert load_authority().patch == {"agent", "supervisor", "legal", "admin"}


async def test_the_shared_notes_header_only_where_a_note_was_shared(http, auth, make_account, problem) -> None:  # noqa: ANN001
    quiet = make_account(account_ref="SH-QUIET")
    shared = make_account(account_ref="SH-SHARED")
    r = await http.post(f"/api/v1/accounts/{shared.id}/notes", headers=await auth("agent1"),
                        json={"text": "customer asked about a limit increase", "visibility": "shared"})
    assert r.status_code == 201, r.text
    service = await auth("service1")
    problem(await http.get("/api/v1/shared-notes", params={"account_ref": "SH-QUIET"}, headers=service), 404)
    problem(await http.get(f"/api/v1/accounts/{quiet.id}/shared-notes", headers=service), 404)
    got = await http.get("/api/v1/shared-notes", params={"account_ref": "SH-SHARED"}, headers=service)
    assert got.status_code == 200 and got.json()["account"]["account_ref"] == "SH-SHARED"
    # The account's own team sees its header, shared notes or not.
    assert (await http.get(f"/api/v1/accounts/{quiet.id}/shared-notes", headers=await auth("agent1"))).status_code == 200
