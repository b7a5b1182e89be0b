"""The API's documentation matches the API (issue 15 item 6).

Schemathesis reads the app's OpenAPI schema from the ASGI app itself (in-process,
no network) and throws requests generated from it at every operation, signed in
as an agent (``agent1``) and as an admin, valid ones (positive) and invalid ones
(negative), and checks every answer against the schema:

- ``not_a_server_error``: no 5xx (503 with ``Retry-After``, the busy answer, is
  documented, but this test's database is never busy);
- ``status_code_conformance``: every status answered is one the operation declares;
- ``content_type_conformance``: the answer's media type is one declared for its status
  (``application/problem+json`` for every error);
- ``response_schema_conformance``: the body matches the declared schema;
- ``response_headers_conformance``: the declared headers are there and match
  (``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503);
- ``negative_data_rejection``: a request the schema says is invalid (a wrong JSON
  type, a missing field, a value out of range) is refused 4xx, never served.

``positive_data_acceptance`` (a request valid by the schema gets 2xx) is left out,
and cannot hold for a good reason: the schema says what a well-formed request is,
not what the records and the clock allow. Well-formed requests are refused 422 by
rules the schema cannot state: a team or agent by that name must exist, a plan's
first due date may not be in the past, a contact may not be in the future, a
payment's account must exist, an IANA zone must be known, a legal referral needs
its preconditions (409) ... Those refusals are problems naming the field or rule,
which the checks above do cover.

Bounded in time: ``COLLECTDESK_SCHEMATHESIS_EXAMPLES`` examples per operation, per
mode and per user (default 10: about 40 s per user on SQLite or PostgreSQL on two
busy cores; CI runs both databases side by side); Hypothesis' deadline is off (a
PDF letter takes a while to make).
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from backend.app import create_app
from backend.db import Database
from backend.services import users as users_svc
from config.settings import BackendSettings
from tests.conftest import on_test_session

EXAMPLES = int(os.environ.get("COLLECTDESK_SCHEMATHESIS_EXAMPLES", "10"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@pytest.fixture(autouse=True)
def cheap_passwords(session, monkeypatch):  # noqa: ANN001, ANN201
    """Generated sign-ins check a password hash each (~20 ms at the production cost): the
    demo users, and the hash unknown users are checked against, get cheap ones here
    (rolled back with the test). What is checked (the answers' shapes) is unchanged."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from backend import security
    from backend.models import User

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(security, "_hasher", cheap)
    monkeypatch.setattr(security, "_DUMMY_HASH", cheap.hash("collectdesk-dummy-password"))
    for user in session.scalars(select(User)):
        user.password_hash = cheap.hash(user.username)
    session.commit()


@pytest.fixture
def st_app(engine, db_url: str, session: Session):  # noqa: ANN001, ANN201
    """The app as the API tests make it (each request on the test's session, whatever it
    did not commit rolled back), without the background loops: schemathesis runs the
    app's lifespan, and the recheck and sweep loops would work on the database beside
    the test's transaction."""
    app = create_app(BackendSettings(db=db_url, recheck_seconds=0, sweep_hours=0), Database(db_url, engine=engine))
    return on_test_session(app, session)


def _seed(app, session: Session, account_id: int) -> dict[str, int]:  # noqa: ANN001
    """A record behind each kind of path parameter, made through the API: a plan, an
    escalation, a document, a segment and its letter run. The cases ask for these
    some of the time (and for generated ids the rest), so that they reach the services."""
    from schemathesis.python import asgi

    today = dt.datetime.now(dt.UTC).date()
    tokens = {name: users_svc.login(session, name, name, 1.0)[0] for name in ("agent1", "super1")}
    session.commit()
    with asgi.get_client(app) as client:
        def post(user: str, path: str, body: dict) -> dict:
            response = client.post(path, json=body, headers={"Authorization": f"Bearer {tokens[user]}"})
            assert response.status_code in (200, 201), (path, response.text)
            return response.json()

        plan = post("agent1", f"/api/v1/accounts/{account_id}/plans", {
            "kind": "instalment", "amount": "300.00", "count": 3, "frequency": "monthly",
            "first_due": (today + dt.timedelta(days=7)).isoformat()})
        escalation = post("agent1", f"/api/v1/accounts/{account_id}/escalations",
                          {"kind": "supervisor", "reason": "asks for a manager"})
        document = post("agent1", f"/api/v1/accounts/{account_id}/documents", {"kind": "statement", "format": "md"})
        segment = post("super1", "/api/v1/segments", {"name": "seeded", "filter": {"team": "A"}, "to_team": "A"})
        run = post("super1", f"/api/v1/segments/{segment['id']}/letters", {})
    return {"account_id": account_id, "plan_id": plan["id"], "escalation_id": escalation["id"],
            "document_id": document["id"], "segment_id": segment["id"], "run_id": run["id"]}


def _operations(schema) -> list:  # noqa: ANN001
    found = []
    for result in schema.get_all_operations():
        found.append(result.ok())  # an operation schemathesis cannot read is a failure of the schema
    return found


@pytest.mark.parametrize("username", ["agent1", "admin"])
def test_the_api_answers_as_its_schema_says(username: str, st_app, session: Session, make_account) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    records = _seed(st_app, session, account.id)
    schema = schemathesis.openapi.from_asgi("/openapi.json", st_app)
    operations = _operations(schema)
    assert len(operations) >= 50, [op.label for op in operations]
    token = users_svc.login(session, username, username, 1.0)[0]
    session.commit()

    signed = {"Authorization": f"Bearer {token}"}

    def headers_for(operation) -> dict[str, str] | None:  # noqa: ANN001
        if operation.label == "POST /api/v1/auth/logout":
            # Signing out ends the token that signs the request: each case its own.
            fresh = users_svc.login(session, username, username, 1.0)[0]
            session.commit()
            return {"Authorization": f"Bearer {fresh}"}
        return None

    failures: list[str] = []
    answered: dict[str, Counter[int]] = defaultdict(Counter)
    for operation in operations:
        strategies = []
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            # The token is part of the case (not added when it is sent), so that a negative
            # case is never one whose only fault was a missing token put back on the way.
            strategies.append(operation.as_strategy(generation_mode=mode, headers=signed))
            known = {name: value for name, value in records.items() if "{" + name + "}" in operation.path}
            if known:
                # Also records that exist (the caller may or may not see them), so that the
                # case reaches the service rather than stopping at "no such record".
                strategies.append(operation.as_strategy(generation_mode=mode, headers=signed,
                                                        path_parameters=known))

        @settings(max_examples=EXAMPLES * 2, deadline=None, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def run(case) -> None:  # noqa: ANN001
            response = case.call_and_validate(headers=headers_for(case.operation), checks=CHECKS)
            answered[case.operation.label][response.status_code] += 1

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is tried; all are reported
            failures.append(f"== {operation.label} as {username}\n{exc}")
    assert not failures, "\n\n".join(failures)
    # The cases were signed in: each operation answered something beyond 401, and the
    # caller's own details and account were served.
    print(*(f"{label}: {dict(sorted(c.items()))}" for label, c in sorted(answered.items())), sep="\n")
    # (Not the SMS gateway's webhook: a bearer token is nothing to it, and without an HMAC
    # signature everything is 401; tests/api/test_treatment_day.py signs its requests.)
    assert not [label for label, c in answered.items() if set(c) == {401} and label != "POST /api/v1/inbound/sms"], \
        answered
    assert answered["GET /api/v1/me"][200] and answered["GET /api/v1/accounts/{account_id}"][200], answered
