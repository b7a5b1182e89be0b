"""No input, however malformed, gets a 500 (issue 2).

Hypothesis throws malformed JSON, wrong types, huge numbers, NUL bytes, very
long strings, odd unicode, bad dates and bad headers (``Authorization``,
``If-Match``, ``Idempotency-Key``, ``Content-Type``) at every route the app
declares. Most requests start from a valid body and break one or two fields of
it, so that the fuzz reaches the services and the database rather than stopping
at the first validation. Every answer must be below 500, and every error a
problem+json body.

``COLLECTDESK_FUZZ_EXAMPLES`` raises the number of examples per route.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.app import create_app
from backend.services import users as users_svc
from config.settings import BackendSettings

EXAMPLES = int(os.environ.get("COLLECTDESK_FUZZ_EXAMPLES", "120"))


def _openapi() -> dict[str, Any]:
    return create_app(BackendSettings(db="sqlite:///:memory:")).openapi()


def _routes(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """Every operation the app documents, plus the documents themselves."""
    found = [(method.upper(), path) for path, ops in schema["paths"].items() for method in ops]
    return sorted(found) + [("GET", "/openapi.json"), ("GET", "/docs")]


def _query_params(schema: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    return {
        (method.upper(), path): [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for path, ops in schema["paths"].items() for method, op in ops.items()
    }


SCHEMA = _openapi()
ROUTES = _routes(SCHEMA)
QUERY_PARAMS = _query_params(SCHEMA)

# --------------------------------------------------------------------------
# Nasty values

SURROGATE = "\ud800"
BAD_STRINGS = [
    "", " ", "\x00", "a\x00b", "\x1b[31m", "\r\n", "\u202e", "\ufeff", "🦄" * 3, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "é" * 300,
    "张伟", "ﷺ" * 50, "a" * 65, "a" * 257, "x" * 5000, "9" * 40, "-1", "1e309", "NaN", "null", "true",
    SURROGATE, "a" + SURROGATE + "b", "\udfff", "%00", "%", "_", "\\", "'; DROP TABLE accounts; --",
    "../../etc/passwd", "Etc/Unknown", "Mars/Olympus", "America/New_York\x00", "localtime", "UTC ",
    "+1", "+99999999999999999999", "+12125550100", "4111111111111111", "4111 1111 1111 1111",
]
BAD_DATES = [
    "2024-02-30", "2023-02-29", "0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2024-13-01", "24-01-01",
    "2024-01-01T00:00:00", "2024-03-10T02:30:00-05:00", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59.999999+00:00", "2024-06-01T12:00:00+25:00",
    "2024-06-01T12:00:00Z", "2024-06-01T24:00:00Z", "1970-01-01T00:00:00Z", "now", "today", "",
    "2024-06-01T12:00:00+14:00", "2024-06-01T12:00:00-12:00", "1e10", "2024-W01-1",
]
# Cursors that decode, but to nothing this server made: an id beyond any column, NaN, infinity.
CURSOR_JUNK = [base64.urlsafe_b64encode(raw).decode().rstrip("=") for raw in (
    b"1.0|99999999999999999999", b"1.0|2147483648", b"1.0|0", b"1.0|-5", b"nan|1", b"inf|1", b"-inf|1", b"1e999|1",
    b"1.0|1|2", b"|", b"1.0|\xd9\xa1", b"\x00|1", b"1_0|1", b" 1.0 | 1 ")]
BIG_NUMBERS = [
    0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**30),
    1.5, -0.0, 1e308, 1e-308, float("inf"), float("-inf"), float("nan"),
]

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(BIG_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30), st.sampled_from(BAD_STRINGS), st.sampled_from(BAD_DATES),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Co", "Zs", "Mn", "So", "Lo"]), max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12,
)

# Raw bodies that are not JSON at all, or JSON no Python parser should accept gladly.
RAW_BODIES = [
    b"", b"{", b"}", b"[", b"null", b"[]", b"\"text\"", b"1e999999", b"-", b"\xff\xfe\x00\x00",
    b"{\"a\": \xff}", b"{\"text\": \"\xed\xa0\x80\"}", b"[" * 5000 + b"]" * 5000, b"1" * 5000,
    b"{\"text\": 1" + b"0" * 5000 + b"}", b"\x00" * 64, "{\"text\": \"caf\u00e9\"}".encode("latin-1"),
    b"{\"username\": \"agent1\", \"username\": \"agent1\"}", b"NaN", b"Infinity",
]

# --------------------------------------------------------------------------
# Valid bodies to break


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _baseline(method: str, path: str, account_id: int, n: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    if path.endswith("/auth/login"):
        return {"username": "agent1", "password": "agent1"}
    if method == "POST" and path == "/api/v1/accounts":
        return {
            "account_ref": f"FUZZ{n:08d}", "customer_name": "Fuzz Customer", "phones": ["+12125550100", "+861012345678"],
            "email": "fuzz@example.com", "address": "1 Main St", "country": "US", "region": "NY",
            "timezone": "America/New_York", "currency": "USD", "credit_limit": "5000.00", "balance": "1200.00",
            "overdue": "300.00", "minimum_due": "50.00", "dpd": 45, "card_number": "4539 8273 6150 4820",
            "opened_on": "2020-01-15", "team": "A", "agent": "agent1",
        }
    if method == "PATCH":
        return {
            "flags": {"dispute": False, "cease": ["email"], "hardship": True},
            "email": "new@example.com", "address": "2 Side St", "timezone": "America/Chicago",
            "phones": [{"number": "+12125550100", "do_not_call": True}, {"number": "+13125550100"}],
            "agent": "agent2", "team": "A",
        }
    if path.endswith("/contacts"):
        return {
            "channel": "phone", "direction": "inbound", "party": "debtor", "outcome": "RPC", "result": "PTP",
            "reason": "job_loss", "note": "promised", "started_at": (now - dt.timedelta(minutes=30)).isoformat(),
            "duration_s": 120, "ptp": {"amount": "100.00", "date": (_today() + dt.timedelta(days=3)).isoformat()},
            "callback_at": (now + dt.timedelta(days=1)).isoformat(), "used": "+12125550100",
            "identity_verified": True, "disclosure_given": True,
        }
    if path.endswith("/notes"):
        return {"text": "a note"}
    return {}


_DATEISH = re.compile(r"^\d{4}-\d\d-\d\d")


def _nasty_like(value: Any) -> st.SearchStrategy[Any]:
    """Bad values, mostly of the kind ``value`` is, so that they pass the JSON
    parser and reach the validators, the services and the database."""
    if isinstance(value, bool):
        return st.one_of(json_scalars, st.sampled_from([0, 1, "true", "yes", None]))
    if isinstance(value, int):
        return st.one_of(st.sampled_from(BIG_NUMBERS), st.integers(), json_scalars)
    if isinstance(value, str) and _DATEISH.match(value):
        return st.one_of(st.sampled_from(BAD_DATES), st.sampled_from(BAD_DATES), _odd_datetimes, json_scalars)
    if isinstance(value, str):
        return st.one_of(st.sampled_from(BAD_STRINGS), st.sampled_from(BAD_STRINGS), st.text(max_size=40),
                         st.text(min_size=60, max_size=600), json_scalars)
    return json_values


_odd_datetimes = st.datetimes(
    min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23, 59, 59),
    timezones=st.one_of(st.none(), st.timezones(), st.builds(
        lambda minutes: dt.timezone(dt.timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59))),
).map(lambda d: d.isoformat())


@st.composite
def _mutated(draw: st.DrawFn, value: Any, depth: int = 0, changes: int | None = None) -> Any:
    """``value`` with one to three of its leaves, keys or items broken."""
    if isinstance(value, dict) and value and depth < 3:
        out = dict(value)
        for _ in range(changes or draw(st.integers(1, 3))):
            action = draw(st.sampled_from(["replace", "replace", "descend", "descend", "drop", "add"]))
            key = draw(st.sampled_from(sorted(out))) if out else None
            if action == "drop" and key is not None:
                out.pop(key)
            elif action == "add":
                out[draw(st.one_of(st.text(max_size=12), st.sampled_from(BAD_STRINGS)))] = draw(json_values)
            elif action == "descend" and key is not None:
                out[key] = draw(_mutated(out[key], depth + 1, 1))
            elif key is not None:
                out[key] = draw(_nasty_like(out[key]))
        return out
    if isinstance(value, list) and value and depth < 3:
        out_list = list(value)
        i = draw(st.integers(0, len(out_list) - 1))
        out_list[i] = draw(st.one_of(_mutated(out_list[i], depth + 1, 1), _nasty_like(out_list[i])))
        if draw(st.integers(0, 4)) == 0:
            out_list = out_list * draw(st.integers(2, 12))
        return out_list
    return draw(_nasty_like(value))


def _encode(value: Any, style: str) -> bytes:
    if style == "ascii":
        return json.dumps(value, ensure_ascii=True).encode()  # lone surrogates travel as \\udXXX escapes
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")  # ... or as invalid UTF-8


# --------------------------------------------------------------------------
# Headers and path parameters

header_junk = st.one_of(
    st.sampled_from([b"", b" ", b"\x00", b"\xff\xfe", b"\xc3\xa9", b"x" * 9000, b"\"\"", b"W/", b"*", b"W/\"1\"",
                     b"\"1\"", b"1", b"0", b"-1", b"999999999", b"1234567890", b"99999999999999999999",
                     "\u00b2".encode("latin-1"), b"\xd9\xa1", b"1.0", b"1e3", b"\t1\t", b"1, 2", b"\"1\", \"2\""]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)
path_junk = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "-0", "01", "1e3", "1.0", "+1", " 1", "%20", "%00", "%ff", "%ED%A0%80", "abc", "🦄",
                     "2147483647", "2147483648", "9223372036854775808", "NaN", "null", "%2e%2e"]),
)


@st.composite
def _auth(draw: st.DrawFn, tokens: dict[str, str]) -> bytes | None:
    choice = draw(st.sampled_from(["valid", "valid", "valid", "none", "junk"]))
    if choice == "valid":
        return f"Bearer {tokens[draw(st.sampled_from(sorted(tokens)))]}".encode()
    if choice == "none":
        return None
    return draw(st.one_of(
        header_junk,
        st.sampled_from([b"Bearer", b"Bearer ", b"bearer  x", b"Basic YWdlbnQxOmFnZW50MQ==", b"Bearer \x00",
                         b"Bearer " + b"a" * 600, b"Bearer \xff\xfe", b"Token abc", b"Bearer a b c"]),
        header_junk.map(lambda b: b"Bearer " + b),
    ))


# --------------------------------------------------------------------------
# The test


@pytest.fixture(autouse=True)
def cheap_passwords(session, monkeypatch):  # noqa: ANN001, ANN201
    """Sign-ins verify an argon2 hash (~20 ms each at the production cost); the fuzz
    signs in hundreds of times, so within this test the demo users get cheap hashes
    (rolled back with the test) and so does the hash that unknown users are checked
    against. What is fuzzed (parsing, lookups, answers) is unchanged."""
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


def _check(method: str, url: str, response: httpx.Response) -> None:
    where = f"{method} {url} -> {response.status_code}: {response.text[:500]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/problem+json"), where
        body = response.json()
        assert body["status"] == response.status_code, where
        assert isinstance(body["title"], str) and body["title"], where
        if response.status_code == 422:
            assert body.get("errors") or body.get("rule"), where
            assert all(isinstance(e["field"], str) and e["field"] for e in body.get("errors") or []), where
    elif response.headers.get("content-type", "").startswith("application/json"):
        response.json()


# Who may use a route when the fuzz wants its headers right and its body wrong.
def _privileged(method: str, path: str) -> str:
    return "admin" if (method, path) == ("POST", "/api/v1/accounts") or method == "PATCH" else "agent1"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_no_input_gets_a_500(method: str, path: str, app, session, make_account) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from backend.models import Account

    account = make_account(agent="agent1")
    make_account(team="B", agent="agent3")
    tokens = {name: users_svc.login(session, name, name, 1.0)[0] for name in ("agent1", "agent3", "super1", "admin", "trainer1")}
    transport = httpx.ASGITransport(app=app)
    counter = iter(range(10**9))
    runner = asyncio.Runner()

    async def send(request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
            return await client.send(request)

    def version() -> bytes:
        return str(session.scalar(select(Account.version).where(Account.id == account.id))).encode()

    @settings(max_examples=EXAMPLES, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        n = next(counter)
        # One part broken at a time reaches deep; "chaos" breaks everything at once.
        mode = data.draw(st.sampled_from(["body", "body", "headers", "url", "chaos"]), label="mode")
        has_body = method in ("POST", "PATCH", "PUT")
        if mode == "body" and not has_body:
            mode = "url"
        chaos = mode == "chaos"

        url = path
        for name in re.findall(r"{(\w+)}", path):
            value = str(account.id)
            if mode == "url" or (chaos and data.draw(st.booleans())):
                value = data.draw(path_junk, label=name)
            url = url.replace("{" + name + "}", value)
        query: list[tuple[str, str]] = []
        if mode in ("url", "chaos"):
            for name in QUERY_PARAMS.get((method, path), []):
                if data.draw(st.booleans()):
                    value = data.draw(st.one_of(
                        json_scalars.map(lambda v: v if isinstance(v, str) else json.dumps(v)),
                        st.sampled_from(["1", "50", "200", "X", "180+", "current", "smith", *CURSOR_JUNK]),
                        st.binary(max_size=30).map(lambda b: base64.urlsafe_b64encode(b).decode()),
                    ))
                    query.append((name, value.encode("utf-8", "replace").decode("utf-8", "replace")))
            if data.draw(st.integers(0, 4)) == 0:
                query.append((data.draw(st.text(max_size=8)) or "x", "1"))

        headers: list[tuple[bytes, bytes]] = []
        if mode in ("headers", "chaos"):
            authorization = data.draw(_auth(tokens))
        else:
            authorization = f"Bearer {tokens[_privileged(method, path)]}".encode()
        if authorization is not None:
            headers.append((b"authorization", authorization))
        if mode in ("headers", "chaos"):
            if data.draw(st.booleans()):
                headers.append((b"if-match", data.draw(st.one_of(st.just(version()), header_junk))))
            if data.draw(st.booleans()):
                headers.append((b"idempotency-key", data.draw(st.one_of(st.just(f"key-{n % 3}".encode()), header_junk))))
        else:
            headers.append((b"if-match", version()))
            if data.draw(st.booleans()):
                headers.append((b"idempotency-key", f"key-{n}".encode()))

        content: bytes | None = None
        if has_body:
            baseline = _baseline(method, path, account.id, n)
            style = data.draw(st.sampled_from(["ascii", "utf8"]))
            content_type: bytes | None = b"application/json"
            if mode == "body":
                content = _encode(data.draw(_mutated(baseline)), style)
            elif mode == "chaos":
                kind = data.draw(st.sampled_from(["mutated", "json", "raw", "none"]))
                if kind == "mutated":
                    content = _encode(data.draw(_mutated(baseline)), style)
                elif kind == "json":
                    content = _encode(data.draw(json_values), style)
                elif kind == "raw":
                    content = data.draw(st.sampled_from(RAW_BODIES))
                content_type = data.draw(st.sampled_from([
                    b"application/json", b"application/json; charset=utf-8", b"text/plain", b"application/problem+json",
                    b"multipart/form-data; boundary=x", b"application/x-www-form-urlencoded",
                    b"application/json; charset=latin-1", b"", None,
                ]))
            else:
                content = _encode(baseline, "ascii")
            if content_type is not None and content is not None:
                headers.append((b"content-type", content_type))
        request = httpx.Request(method, httpx.URL("http://backend" + url, params=query), headers=headers, content=content)
        response = runner.run(send(request))
        _check(method, str(request.url), response)

    try:
        run()
    finally:
        runner.close()


# --------------------------------------------------------------------------
# The same, exhaustively for single faults: every field of every body with every
# bad value of its kind, and every header and query parameter with every junk
# value. Hypothesis explores combinations; these tables make sure no single
# bad value is left to chance.

TABLE_VALUES: dict[str, list[Any]] = {
    "str": BAD_STRINGS + [None, 0, -1, 2**63, 1.5, True, [], {}, ["x"], {"a": 1}],
    "date": BAD_DATES + BAD_STRINGS[:12] + [None, 0, 2**63, 1e308, True, []],
    "int": BIG_NUMBERS + [None, True, "1", "", "1e3", [], {}, "\x00"],
    "bool": [None, 0, 1, 2, "true", "yes", "", [], {}, "\x00"],
    "list": [None, [], [None], [""], ["\x00"], [[]], [{}], "x", 1, {}, list(range(50)), ["+12125550100"] * 20],
    "dict": [None, {}, [], "x", 1, {"\x00": 1}, {"amount": None}],
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "date" if _DATEISH.match(value) else "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every position in a body (containers too), with the kind of value it holds."""
    out = [(path, _kind(value))] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _leaves(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _leaves(item, (*path, i))
    return out


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(copy[path[0]], path[1:], new)
    return copy


BODY_ROUTES = [(m, p) for m, p in ROUTES if m in ("POST", "PATCH") and _baseline(m, p, 1, 0)]
HEADER_JUNK = [b"", b" ", b"\x00", b"\xff\xfe", b"\xc3\xa9", b"x" * 9000, b"\"\"", b"W/", b"*", b"W/\"1\"", b"-1",
               b"99999999999999999999", "\u00b2".encode("latin-1"), b"\xd9\xa1", b"1.0", b"1, 2", b"Bearer",
               b"Bearer \x00", b"Bearer " + b"a" * 600, b"Basic YWdlbnQxOmFnZW50MQ==", b"\x1b[2J", b"\t1\t"]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES, ids=[f"{m} {p}" for m, p in BODY_ROUTES])
def test_every_field_with_every_bad_value(method: str, path: str, app, session, make_account) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from backend.models import Account

    account = make_account(agent="agent1")
    token = users_svc.login(session, _privileged(method, path), _privileged(method, path), 1.0)[0]
    transport = httpx.ASGITransport(app=app)
    runner = asyncio.Runner()

    async def send(request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
            return await client.send(request)

    url = re.sub(r"{\w+}", str(account.id), path)
    n = 0
    try:
        for position, kind in _leaves(_baseline(method, path, account.id, 0)):
            for bad in TABLE_VALUES[kind]:
                body = _replaced(_baseline(method, path, account.id, 10**6 + n), position, bad)
                # Raw UTF-8 (and invalid UTF-8 for lone surrogates) only where it differs from \u escapes.
                styles = ("ascii",) if json.dumps(body, ensure_ascii=False).isascii() else ("ascii", "utf8")
                for style in styles:
                    n += 1
                    version = session.scalar(select(Account.version).where(Account.id == account.id))
                    request = httpx.Request(method, "http://backend" + url, content=_encode(body, style), headers={
                        "authorization": f"Bearer {token}", "if-match": str(version), "content-type": "application/json",
                        "idempotency-key": f"table-{n}"})
                    _check(method, f"{url} {'.'.join(map(str, position))}={bad!r:.80}", runner.run(send(request)))
    finally:
        runner.close()


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_header_and_parameter_with_junk(method: str, path: str, app, session, make_account) -> None:  # noqa: ANN001
    account = make_account(agent="agent1")
    token = users_svc.login(session, _privileged(method, path), _privileged(method, path), 1.0)[0]
    transport = httpx.ASGITransport(app=app)
    runner = asyncio.Runner()

    async def send(request: httpx.Request) -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
            return await client.send(request)

    good_url = re.sub(r"{\w+}", str(account.id), path)
    body = _baseline(method, path, account.id, 0)
    content = _encode(body, "ascii") if method in ("POST", "PATCH") else None
    good = {b"authorization": f"Bearer {token}".encode(), b"if-match": b"1", b"content-type": b"application/json"}
    requests: list[httpx.Request] = []
    for name in (b"authorization", b"if-match", b"idempotency-key", b"content-type", b"accept"):
        for junk in HEADER_JUNK:
            headers = {**good, name: junk}
            requests.append(httpx.Request(method, "http://backend" + good_url, headers=list(headers.items()),
                                          content=content))
    for name in QUERY_PARAMS.get((method, path), []):
        for junk in BAD_STRINGS + [str(v) for v in BIG_NUMBERS] + BAD_DATES + CURSOR_JUNK:
            junk = junk.encode("utf-8", "replace").decode("utf-8", "replace")
            requests.append(httpx.Request(method, httpx.URL("http://backend" + good_url, params={name: junk}),
                                          headers=list(good.items()), content=content))
    for junk in ["0", "-1", "2147483648", "9223372036854775808", "1" * 400, "abc", "%00", "%ff", "🦄", "1.5", " 1"]:
        if "{" in path:
            requests.append(httpx.Request(method, "http://backend" + re.sub(r"{\w+}", junk, path),
                                          headers=list(good.items()), content=content))
    try:
        for request in requests:
            _check(method, str(request.url)[:200] + " " + repr(request.headers.raw)[:300], runner.run(send(request)))
    finally:
        runner.close()


# --------------------------------------------------------------------------
# Hostile input (issue 15 item 4): a corpus replayed against every field of every
# body, every query parameter and every path string. Beyond "never a 500", each
# value must be refused 422 naming the field at fault (or, where the contract
# takes it, accepted): control characters in any text, line breaks in one-line
# text, dates before 2000 or from 2100 on, amounts that are not plain decimals.
# Every request is sent with the clock held (``clock``): nothing here depends on
# the hour the tests run.

CONTROL = ["\x00", "a\x00b", "a\x01b", "\x1b[31m", "a\x7fb", "a\x85b", "\x9f", "a" + SURROGATE + "b"]
"""Refused in every text field: NUL, other C0 controls, DEL, C1 controls, a lone surrogate."""
LINE_BREAKS = ["a\nb", "a\r\nb", "a\tb"]
"""Taken by multi-line text (notes, addresses), refused in one-line text (names, references)."""
MULTI_LINE = {"note", "text", "address"}
"""The fields that take line breaks and tabs, by name (SPEC §5)."""
OUT_OF_RANGE_DAYS = ["0001-01-01", "1900-01-01", "1999-12-31", "2100-01-01", "9999-12-31"]
OUT_OF_RANGE_OPENED_ON = ["0001-01-01", "1900-01-01", "1949-12-31", "2100-01-01", "9999-12-31"]
"""An account may have been opened before 2000 (from 1950), not in the future."""
AMOUNT_FIELDS = {"amount", "discount_percent", "credit_limit", "balance", "overdue", "minimum_due",
                 "min_balance", "max_balance"}
BAD_AMOUNTS: list[Any] = ["1 000.00", "١٠٠.٠٠", "100.00\x00", "\x00100", "1e3", "0x10", "100,00", "", " ", "+-1",
                          100, 12.5, True, [], "9" * 40]
ANY_JUNK: list[Any] = ["x" * 5000, "é" * 300, "9" * 40, "-1", "1e309", "null", "", None, 2**63, 1e308, [], {},
                      "\u202e", "🦄" * 3]
"""Sent to every leaf too, asserting only an answer below 500 (a problem when refused)."""
SPACED_AMOUNTS = [" 100.00", "100.00 ", "  100.00  "]
"""Surrounding spaces are trimmed (SPEC §5): these are the amount 100.00."""

# Who sends each route's requests: one who may, so that the body is what is judged.
ROUTE_USER = {
    ("POST", "/api/v1/accounts"): "admin", ("PATCH", "/api/v1/accounts/{account_id}"): "admin",
    ("POST", "/api/v1/payments"): "admin", ("POST", "/api/v1/accounts/assign"): "super1",
    ("POST", "/api/v1/accounts/assign/preview"): "super1", ("POST", "/api/v1/segments"): "super1",
    ("PATCH", "/api/v1/segments/{segment_id}"): "super1", ("POST", "/api/v1/segments/{segment_id}/letters"): "super1",
    ("POST", "/api/v1/plans/{plan_id}/approve"): "super1", ("POST", "/api/v1/plans/{plan_id}/reject"): "super1",
    ("POST", "/api/v1/escalations/{escalation_id}/review"): "super1",
    ("POST", "/api/v1/escalations/{escalation_id}/accept"): "super1",
    ("POST", "/api/v1/escalations/{escalation_id}/return"): "super1",
    ("POST", "/api/v1/escalations/{escalation_id}/close"): "super1",
}


def _hostile_baseline(method: str, path: str, account_ref: str, n: int) -> dict[str, Any] | None:
    """A valid body for every route that takes one (``clock`` time), or None for a route without."""
    from tests.api.conftest import PLAN_NOW

    now, today = PLAN_NOW, PLAN_NOW.date()
    if method == "POST" and path == "/api/v1/accounts":
        body = _baseline(method, path, 0, n)
        body["opened_on"] = "2020-01-15"
        return body
    if (method, path) == ("PATCH", "/api/v1/accounts/{account_id}"):
        return {**_baseline(method, path, 0, n), "flags_effective_at": (now - dt.timedelta(days=1)).isoformat()}
    if path.endswith("/contacts"):
        body = _baseline(method, path, 0, n)
        body.update(started_at=(now - dt.timedelta(minutes=30)).isoformat(),
                    ptp={"amount": "100.00", "date": (today + dt.timedelta(days=3)).isoformat()},
                    callback_at=(now + dt.timedelta(days=1)).isoformat())
        return body
    if path.endswith("/notes"):
        return {"text": "a note", "visibility": "team"}
    if path.endswith("/auth/login"):
        return {"username": "agent1", "password": "agent1"}
    if path.endswith("/plans") or path.endswith("/plans/preview"):
        return {"kind": "instalment", "amount": "300.00", "count": 3, "frequency": "monthly",
                "first_due": (today + dt.timedelta(days=5)).isoformat(), "note": "three months"}
    if path == "/api/v1/payments":
        return {"bank_ref": f"HOSTILE{n:08d}", "account_ref": account_ref, "amount": "10.00", "currency": "USD",
                "paid_at": (now - dt.timedelta(hours=1)).isoformat()}
    if path.endswith("/escalations"):
        return {"kind": "supervisor", "reason": "asks for a supervisor", "note": "called twice", "lang": "en"}
    if re.search(r"/escalations/\{escalation_id\}/\w+$", path) or re.search(r"/plans/\{plan_id\}/\w+$", path):
        return {"note": "as agreed"}
    if path.endswith("/documents"):
        return {"kind": "statement", "format": "md", "lang": "en"}
    if path.endswith("/letters"):
        return {"kind": "demand_letter", "lang": "en"}
    if path.endswith("/handoff"):
        return {"to_agent": "agent2", "note": "over to you"}
    if path == "/api/v1/accounts/assign":
        return {"filter": {"bucket": ["30"], "min_balance": "0.00", "max_balance": "99999.00", "currency": "USD",
                           "team": "A", "agent": "agent1", "q": "Customer"}, "to_agent": "agent2", "to_team": "A",
                "note": "rebalance"}
    if path == "/api/v1/accounts/assign/preview":
        return {"bucket": ["30"], "min_balance": "0.00", "currency": "USD", "team": "A", "agent": "agent1",
                "q": "Customer"}
    if path in ("/api/v1/segments", "/api/v1/segments/{segment_id}"):
        return {"name": f"Segment {n}", "filter": {"bucket": ["30"], "currency": "USD", "team": "A"},
                "to_agent": "agent2", "to_team": "A", "note": "early buckets"}
    return None


HOSTILE_ROUTES = [(m, p) for m, p in ROUTES if m in ("POST", "PATCH") and _hostile_baseline(m, p, "X", 0)]


@pytest.fixture
def world(app, session, make_account, clock):  # noqa: ANN001, ANN201
    """An account, a drafted plan, an escalation and a segment on it: ids for every path."""
    from sqlalchemy import select

    from backend.models import User
    from backend.services import escalations as esc_svc
    from backend.services import plans as plans_svc
    from backend.services import segments as seg_svc
    from backend_client.models import EscalationCreate, PlanCreate, SegmentCreate

    account = make_account(agent="agent1", opened_on="2015-06-01")
    agent1 = session.scalar(select(User).where(User.username == "agent1"))
    super1 = session.scalar(select(User).where(User.username == "super1"))
    plan = plans_svc.draft(session, agent1, account.id, PlanCreate.model_validate(
        _hostile_baseline("POST", "/api/v1/accounts/{account_id}/plans", "", 0)))
    esc = esc_svc.create(session, agent1, account.id, EscalationCreate(kind="supervisor", reason="why"), "Bank", "")
    seg = seg_svc.create(session, super1, SegmentCreate(name="All of A", filter={"team": "A"}))
    session.commit()
    return {"account": account, "ids": {"account_id": account.id, "plan_id": plan.id, "escalation_id": esc.id,
                                          "segment_id": seg.id, "document_id": 1, "run_id": 1}}


class _Sender:
    def __init__(self, app, session) -> None:  # noqa: ANN001
        self.transport = httpx.ASGITransport(app=app)
        self.runner = asyncio.Runner()
        self.tokens: dict[str, str] = {}
        self.session = session

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = users_svc.login(self.session, user, user, 1.0)[0]
        return self.tokens[user]

    def send(self, request: httpx.Request) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://backend") as client:
                return await client.send(request)

        return self.runner.run(go())


@pytest.fixture
def sender(app, session):  # noqa: ANN001, ANN201
    s = _Sender(app, session)
    yield s
    s.runner.close()


def _fields_blamed(response: httpx.Response) -> set[str]:
    try:
        return {e["field"] for e in response.json().get("errors") or []}
    except ValueError:
        return set()


def _leaf_name(position: tuple[Any, ...]) -> str:
    return next(str(p) for p in reversed(position) if isinstance(p, str))


@pytest.mark.parametrize(("method", "path"), HOSTILE_ROUTES, ids=[f"{m} {p}" for m, p in HOSTILE_ROUTES])
def test_hostile_corpus_in_every_body_field(method: str, path: str, world, sender, session) -> None:  # noqa: ANN001
    """Every text leaf of every body refuses control characters 422 naming it; line
    breaks only where the field is multi-line; every date leaf refuses year 1,
    1900, 1999 and 2100 on; every amount refuses what is not a plain decimal and
    takes one with spaces around it. Sent raw (ASCII escapes) and as UTF-8."""
    from sqlalchemy import select

    from backend.models import Account

    account = world["account"]
    user = ROUTE_USER.get((method, path), "agent1")
    url = path
    for name, value in world["ids"].items():
        url = url.replace("{" + name + "}", str(value))
    failures: list[str] = []
    n = 0

    def send(body: Any, style: str = "ascii") -> httpx.Response:
        nonlocal n
        n += 1
        version = session.scalar(select(Account.version).where(Account.id == account.id))
        request = httpx.Request(method, "http://backend" + url, content=_encode(body, style), headers={
            "authorization": f"Bearer {sender.token(user)}", "if-match": str(version),
            "content-type": "application/json", "idempotency-key": f"hostile-{n}"})
        response = sender.send(request)
        _check(method, f"{url} {json.dumps(body)[:300]}", response)
        return response

    base = _hostile_baseline(method, path, account.account_ref, 0)
    assert base is not None

    def with_(position: tuple[Any, ...], value: Any) -> Any:
        """A fresh valid body (its own references) with ``value`` at ``position``."""
        return _replaced(_hostile_baseline(method, path, account.account_ref, 10**6 + n), position, value)

    for position, kind in _leaves(base):
        name, where = _leaf_name(position), ".".join(map(str, position))
        if kind == "str" and name not in AMOUNT_FIELDS:
            expected_bad = CONTROL + ([] if name in MULTI_LINE else LINE_BREAKS)
            for bad in expected_bad:
                for style in ("ascii", "utf8"):
                    response = send(with_(position, bad), style)
                    if response.status_code != 422 or where not in _fields_blamed(response):
                        failures.append(f"{where}={bad!r} ({style}): {response.status_code} {response.text[:200]}")
            if name in MULTI_LINE:
                for good in LINE_BREAKS:
                    response = send(with_(position, good))
                    if where in _fields_blamed(response):
                        failures.append(f"{where}={good!r} refused: {response.text[:200]}")
        elif kind == "date":
            for day in (OUT_OF_RANGE_OPENED_ON if name == "opened_on" else OUT_OF_RANGE_DAYS):
                value = day if len(base_value := _get(base, position)) == 10 else day + base_value[10:]
                response = send(with_(position, value))
                if response.status_code != 422 or where not in _fields_blamed(response):
                    failures.append(f"{where}={value!r}: {response.status_code} {response.text[:200]}")
        elif kind == "str" and name in AMOUNT_FIELDS:
            for bad in BAD_AMOUNTS + CONTROL:
                response = send(with_(position, bad))
                if response.status_code != 422 or where not in _fields_blamed(response):
                    failures.append(f"{where}={bad!r}: {response.status_code} {response.text[:200]}")
            for spaced in SPACED_AMOUNTS:
                response = send(with_(position, spaced))
                if where in _fields_blamed(response):
                    failures.append(f"{where}={spaced!r} refused: {response.text[:200]}")
        # Whatever else the field gets (huge strings, numbers as strings, wrong types):
        # an answer below 500, a problem if refused (``send`` checks).
        for junk in ANY_JUNK + (TABLE_VALUES[kind] if kind in ("int", "bool", "list", "dict") else []):
            send(with_(position, junk))
    assert not failures, f"{len(failures)} answers not as the contract says:\n" + "\n".join(failures[:40])


def _get(value: Any, position: tuple[Any, ...]) -> Any:
    for p in position:
        value = value[p]
    return value


QUERY_CONTROL = ["\x00", "a\x00b", "a\x01b", "a\x1fb", "a\x7fb", "a\x85b", "\x9f", "a\nb", "a\tb"]
QUERY_DAYS = {"at": "T12:00:00+00:00", "from": "", "to": "", "day": ""}


@pytest.mark.parametrize(("method", "path"), ROUTES[:-2], ids=[f"{m} {p}" for m, p in ROUTES[:-2]])
def test_hostile_corpus_in_every_query_parameter_and_path(method: str, path: str, world, sender) -> None:  # noqa
    """Every query parameter (and one the route does not know) refuses control characters
    422 naming it; every date parameter refuses dates out of range; so does a path string."""
    user = ROUTE_USER.get((method, path), "agent1")
    url = path
    for name, value in world["ids"].items():
        url = url.replace("{" + name + "}", str(value))
    url = url.replace("{name}", "statement.md")
    base = _hostile_baseline(method, path, world["account"].account_ref, 0)
    content = _encode(base, "ascii") if base is not None else None
    headers = {"authorization": f"Bearer {sender.token(user)}", "content-type": "application/json", "if-match": "1"}
    failures: list[str] = []
    for name in [*QUERY_PARAMS.get((method, path), []), "unknown"]:
        values = list(QUERY_CONTROL)
        if name in QUERY_DAYS:
            values += [day + QUERY_DAYS[name] for day in OUT_OF_RANGE_DAYS]
        for bad in values:
            response = sender.send(httpx.Request(method, httpx.URL("http://backend" + url, params={name: bad}),
                                                 headers=headers, content=content))
            _check(method, f"{url}?{name}={bad!r}", response)
            if response.status_code != 422 or name not in _fields_blamed(response):
                failures.append(f"?{name}={bad!r}: {response.status_code} {response.text[:200]}")
    if "{name}" in path:
        for bad in ["a%00b.md", "%C2%85.md", "statement.md%00"]:
            response = sender.send(httpx.Request(method, "http://backend" + url.replace("statement.md", bad),
                                                 headers=headers))
            _check(method, bad, response)
            if response.status_code != 422 or "name" not in _fields_blamed(response):
                failures.append(f"name={bad!r}: {response.status_code} {response.text[:200]}")
    assert not failures, f"{len(failures)} answers not as the contract says:\n" + "\n".join(failures[:40])
