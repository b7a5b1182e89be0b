"""The OpenAPI schema declares what each route answers (issue 15 item 6), derived from
the routes themselves, so that a route added without its statuses fails here; and
the wire models take the JSON types the schema says, no others (through the app).

What a route's dependencies say it answers:

- every route: 422 (``deps.refuse_hostile_url`` checks every URL) and 503 (a busy
  database, ``errors.install``: every route has a session);
- a bearer token (``deps.get_current_token``): 401 with ``WWW-Authenticate``;
- a role required (``deps.require_role``): 403;
- a path parameter (a record by id or name): 404;
- a body: 413 (``errors.BodyLimit``) and 422;
- ``If-Match``: 412 (stale) and 428 (missing);
- signing in: 401 (a wrong password) and 429 with ``Retry-After`` (the throttle);
- the SMS gateway's signed webhook: 401 (no signature, a wrong or stale one).

And none of 401, 412, 413, 428 or 429 where nothing in the route can answer it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.routing import APIRoute

from backend.api import deps
from backend.app import create_app
from config.settings import BackendSettings

APP = create_app(BackendSettings(db="sqlite:///:memory:"))
SCHEMA = APP.openapi()


def _api_routes() -> list[Any]:
    """Every API route as the app serves it (its router's and the app's dependencies in its
    ``dependant``). Newer FastAPI keeps an included router whole and gives its routes
    through ``iter_route_contexts``; before, they were copied into ``app.routes``."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI
        return [r for r in APP.routes if isinstance(r, APIRoute) and r.include_in_schema]
    return [c for c in iter_route_contexts(APP.routes)
            if isinstance(c.original_route, APIRoute) and c.include_in_schema]


ROUTES = _api_routes()
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _calls(dependant: Any) -> set[Any]:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def _headers(dependant: Any) -> set[str]:
    found = {p.alias for p in dependant.header_params}
    for sub in dependant.dependencies:
        found |= _headers(sub)
    return found


def _expected(route: Any) -> tuple[set[int], set[int]]:
    """(the statuses the route must declare, the ones it must not)."""
    calls = _calls(route.dependant)
    headers = _headers(route.dependant)
    must = {422}
    if deps.get_session in calls:
        must.add(503)
    signs_in = route.path == "/api/v1/auth/login"
    auth = deps.get_current_token in calls
    signed = route.path == "/api/v1/inbound/sms"  # the gateway's webhook: an HMAC signature, not a token
    if auth or signs_in or signed:
        must.add(401)
    if signs_in:
        must.add(429)
    if any(getattr(c, "__qualname__", "").startswith("require_role.") for c in calls):
        must.add(403)
    if route.dependant.path_params:
        must.add(404)
    if route.body_field is not None:
        must |= {413, 422}
    if "If-Match" in headers:
        must |= {412, 428}
    never = {401, 412, 413, 428, 429} - must
    return must, never


def _operations() -> list[tuple[Any, str]]:
    return [(r, m) for r in ROUTES for m in sorted(r.methods)]


@pytest.mark.parametrize(("route", "method"), _operations(), ids=[f"{m} {r.path}" for r, m in _operations()])
def test_each_operation_declares_the_statuses_its_route_answers(route: Any, method: str) -> None:
    operation = SCHEMA["paths"][route.path_format][method.lower()]
    declared = {int(code) for code in operation["responses"] if code.isdigit()}
    must, never = _expected(route)
    assert must <= declared, f"{method} {route.path} does not declare {sorted(must - declared)}"
    assert not declared & never, f"{method} {route.path} declares {sorted(declared & never)}, which it cannot answer"
    for code, response in operation["responses"].items():
        if int(code) >= 400:
            # A problem, as the app answers it (no ``application/json`` it never sends).
            assert response["content"] == PROBLEM, (code, response)
            assert response["description"]
    if 401 in declared:
        assert operation["responses"]["401"]["headers"]["WWW-Authenticate"]["required"] is True
    for code in {429, 503} & declared:
        assert operation["responses"][str(code)]["headers"]["Retry-After"]["required"] is True


def test_every_operation_is_checked() -> None:
    documented = {(m.upper(), p) for p, ops in SCHEMA["paths"].items() for m in ops}
    assert documented == {(m, r.path_format) for r, m in _operations()}
    assert "Problem" in SCHEMA["components"]["schemas"]
    assert "HTTPValidationError" not in SCHEMA["components"]["schemas"]  # 422 is a problem, as answered


# --------------------------------------------------------------------------
# Strict types: what the schema says is a date, an instant, an integer, a number
# or a boolean is refused 422 naming the field when it comes as another JSON type.


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def _contact(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": "phone", "direction": "inbound", "outcome": "NA"}
    body.update(overrides)
    return body


@pytest.mark.parametrize(("body", "field"), [
    (_contact(started_at=1_700_000_000), "started_at"),  # an epoch number is not an instant
    (_contact(started_at="1700000000"), "started_at"),  # nor is it as a string
    (_contact(started_at=1_700_000_000.5), "started_at"),
    (_contact(outcome="RPC", result="CB", callback_at=1_800_000_000), "callback_at"),
    (_contact(outcome="RPC", result="PTP", ptp={"amount": "10.00", "date": 20_500}), "ptp.date"),  # nor a day
    (_contact(outcome="RPC", result="PTP", ptp={"amount": "10.00", "date": "20500"}), "ptp.date"),
    (_contact(outcome="RPC", result="PTP", ptp={"amount": "10.00", "date": "2026-12-01T00:00:00"}), "ptp.date"),
    (_contact(duration_s="120"), "duration_s"),  # a string is not an integer
    (_contact(duration_s=120.0), "duration_s"),  # nor is a float
    (_contact(duration_s=True), "duration_s"),  # nor a boolean
    (_contact(identity_verified="yes"), "identity_verified"),  # nor is "yes" a boolean
    (_contact(identity_verified=1), "identity_verified"),
])
async def test_a_contact_with_a_value_of_the_wrong_json_type_is_refused(body, field, http, auth, make_account,  # noqa: ANN001
                                                                        problem) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    response = await http.post(f"/api/v1/accounts/{account.id}/contacts", json=body, headers=await auth("agent1"))
    assert field in problem(response, 422)["fields"]


async def test_an_iso_instant_is_still_taken(http, auth, make_account) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    response = await http.post(f"/api/v1/accounts/{account.id}/contacts", headers=await auth("agent1"),
                               json=_contact(started_at=_iso(started), duration_s=60, identity_verified=True))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(("query", "status"), [
    ("at=1700000000", 422), ("at=2026-12-01", 422), ("at=2026-12-01T09:00:00-05:00", 200),
])
async def test_the_compliance_question_takes_an_iso_instant_only(query, status, http, auth, make_account,  # noqa: ANN001
                                                                 problem) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    response = await http.get(f"/api/v1/accounts/{account.id}/compliance?{query}", headers=await auth("agent1"))
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert problem(response, 422)["fields"] == {"at"}


@pytest.mark.parametrize(("change", "field"), [
    ({"dpd": "35"}, "dpd"), ({"dpd": 35.0}, "dpd"), ({"opened_on": 0}, "opened_on"),
    ({"opened_on": 1_600_000_000}, "opened_on"),
])
async def test_an_account_with_a_value_of_the_wrong_json_type_is_refused(change, field, http, auth,  # noqa: ANN001
                                                                         problem) -> None:  # noqa: ANN001
    body = {
        "account_ref": "STRICT-1", "customer_name": "Strict Customer", "phones": ["+12125550100"],
        "currency": "USD", "credit_limit": "5000.00", "balance": "1200.00", "overdue": "300.00",
        "minimum_due": "50.00", "dpd": 35, "card_number": "4111111111111111", "team": "A", **change,
    }
    response = await http.post("/api/v1/accounts", json=body, headers=await auth("admin"))
    assert field in problem(response, 422)["fields"]


@pytest.mark.parametrize(("filter_", "field"), [
    ({"min_risk": "0.5"}, "filter.min_risk"), ({"min_dpd": "30"}, "filter.min_dpd"),
    ({"min_dpd": 30.5}, "filter.min_dpd"), ({"currency": "USD", "min_balance_minor": "100"}, "filter.min_balance_minor"),
    ({"max_priority": True}, "filter.max_priority"),
])
async def test_a_segment_filter_with_a_value_of_the_wrong_json_type_is_refused(filter_, field, http, auth,  # noqa: ANN001
                                                                               problem) -> None:  # noqa: ANN001
    response = await http.post("/api/v1/segments", json={"name": "strict", "filter": filter_},
                               headers=await auth("super1"))
    assert field in problem(response, 422)["fields"]


async def test_a_body_that_is_not_utf8_is_an_invalid_request(http, auth, make_account, problem) -> None:  # noqa: ANN001
    """FastAPI alone answers it 400 "error parsing the body", a status no route declared
    (schemathesis found it): like any malformed JSON, it is 422 naming the body."""
    account = make_account(agent="agent1")
    response = await http.post(f"/api/v1/accounts/{account.id}/notes", content=b'{"text": "caf\xe9"}',
                               headers={**await auth("agent1"), "Content-Type": "application/json"})
    assert problem(response, 422)["fields"] == {"body"}
