"""``Idempotency-Key`` (SPEC §5, issue 15): the same key with the same request answers
the first response again; with another body it is refused 422 naming the header
(the IETF draft "The Idempotency-Key HTTP Header Field"), and nothing is written.
On SQLite and PostgreSQL, with the clock held."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from backend.models import IdempotencyKey
from tests.api.conftest import PLAN_NOW


@pytest.fixture
def opened(make_account, clock):  # noqa: ANN001, ANN201
    return make_account(agent="agent1", opened_on="2015-06-01")


async def test_a_key_reused_with_another_body_is_refused_and_writes_nothing(http, auth, problem, opened) -> None:  # noqa: ANN001
    headers = {**await auth("agent1"), "Idempotency-Key": "note-key-1"}
    url = f"/api/v1/accounts/{opened.id}/notes"
    first = await http.post(url, json={"text": "promised Friday"}, headers=headers)
    assert first.status_code == 201, first.text
    # The same request again, spaced and ordered otherwise, a default spelled out: the first answer.
    again = await http.post(url, content=json.dumps({"visibility": "team", "text": "promised Friday"}, indent=2),
                            headers={**headers, "content-type": "application/json"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # The same key with another body: refused, naming the header; nothing written.
    other = await http.post(url, json={"text": "promised Monday"}, headers=headers)
    body = problem(other, 422)
    assert body["fields"] == {"Idempotency-Key"} and "another" in body["detail"]
    timeline = (await http.get(f"/api/v1/accounts/{opened.id}/timeline", headers=await auth("agent1"))).json()
    assert [e["note"]["text"] for e in timeline["items"] if e["kind"] == "note"] == ["promised Friday"]
    # A key is the user's and the route's: another route takes it afresh.
    contact = {"channel": "phone", "direction": "inbound", "outcome": "NA",
               "started_at": (PLAN_NOW - dt.timedelta(minutes=2)).isoformat()}
    response = await http.post(f"/api/v1/accounts/{opened.id}/contacts", json=contact, headers=headers)
    assert response.status_code == 201, response.text


async def test_a_key_kept_before_fingerprints_is_replayed(http, auth, opened, session) -> None:  # noqa: ANN001
    """Rows stored before migration 0015 have no fingerprint: answered as they were."""
    headers = {**await auth("agent1"), "Idempotency-Key": "old-key"}
    url = f"/api/v1/accounts/{opened.id}/notes"
    first = await http.post(url, json={"text": "kept before"}, headers=headers)
    row = session.scalar(select(IdempotencyKey).where(IdempotencyKey.route == f"POST /accounts/{opened.id}/notes"))
    row.request_hash = None
    session.commit()
    again = await http.post(url, json={"text": "something else"}, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
