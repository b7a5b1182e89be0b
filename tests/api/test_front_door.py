"""The front door (SPEC §5, issue 15 item 3): failed sign-ins throttled per user
name and per client address (back-off, then a lock; 429 with Retry-After), every
failure audited without the password, logout, a password set again ending every
session, and sessions that end after idleness as well as at their absolute
expiry. The backend's clock is the ``clock`` fixture's (2026-03-11 15:00 UTC),
moved by the tests; nothing depends on the hour they run."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import threading
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy import select

from backend.models import ApiToken, LoginThrottle, User
from backend.security import HashPool, PoolFull
from backend.services.signin import Limits, address_key, client_address, forget_stale, trusted_networks
from config.settings import BackendSettings
from tests.api.conftest import PLAN_NOW

LOGIN = "/api/v1/auth/login"


@pytest.fixture
def door(app, clock) -> Callable:  # noqa: ANN001
    """``async with door("203.0.113.7") as http:`` a client calling from that address."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def _from(address: str = "203.0.113.7") -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as client:
            yield client

    return _from


async def _login(http: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    return await http.post(LOGIN, json={"username": name, "password": password})


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429 and body["title"] == "Too many attempts"
    assert body["retry_after"] == int(response.headers["retry-after"])
    return int(response.headers["retry-after"])


def _later(seconds: float) -> dt.datetime:
    return PLAN_NOW + dt.timedelta(seconds=seconds)


# -- throttling ----------------------------------------------------------------------


LOCK_S = 15 * 60


async def _fail_until_locked(http: httpx.AsyncClient, clock, name: str, *, moving: Callable | None = None) -> list[int]:  # noqa: ANN001
    """Wrong passwords for ``name``, each as soon as it is let in, until it is locked:
    the waits asked for on the way (``Retry-After``), the lock's last."""
    waits: list[int] = []
    waited = 0
    while not waits or waits[-1] != LOCK_S:
        if moving is not None:
            http = moving()
        response = await _login(http, name, "wrong")
        if response.status_code == 429:
            waits.append(_retry_after(response))
            waited += waits[-1] if waits[-1] != LOCK_S else 0
            clock.to(_later(waited))
        else:
            assert response.status_code == 401, response.text
        assert len(waits) < 20
    return waits


async def test_a_name_backs_off_exponentially_then_locks_whatever_the_address(door, clock) -> None:  # noqa: ANN001
    # Each attempt from another address: only the name's count holds them back.
    async with door("198.51.100.1") as one, door("198.51.100.2") as two, door("198.51.100.3") as three:
        turn = iter([one, two, three] * 20)
        waits = await _fail_until_locked(one, clock, "agent1", moving=lambda: next(turn))
    # Three failures cost nothing; then 1 s, doubled at each failure up to a minute; the tenth locks for 15 minutes.
    assert waits == [1, 2, 4, 8, 16, 32, 60, LOCK_S]


async def test_an_unknown_name_is_throttled_like_a_real_one(door) -> None:  # noqa: ANN001
    async with door() as http:
        for name in ("agent2", "no-such-user"):
            for _ in range(3):
                assert (await _login(http, name, "wrong")).status_code == 401
        real, unknown = await _login(http, "agent2", "x"), await _login(http, "no-such-user", "x")
    assert _retry_after(real) == _retry_after(unknown) == 1
    assert real.json() == unknown.json()


async def test_a_lock_refuses_the_right_password_until_it_ends(door, clock) -> None:  # noqa: ANN001
    async with door() as http:
        await _fail_until_locked(http, clock, "agent3")
        locked_at = clock.now
        assert _retry_after(await _login(http, "agent3", "agent3")) == LOCK_S
        clock.to(locked_at + dt.timedelta(seconds=LOCK_S - 1))
        assert _retry_after(await _login(http, "agent3", "agent3")) == 1
        clock.to(locked_at + dt.timedelta(seconds=LOCK_S))
        assert (await _login(http, "agent3", "agent3")).status_code == 200


async def test_after_a_lock_one_more_failure_locks_again(door, clock) -> None:  # noqa: ANN001
    async with door() as http:
        await _fail_until_locked(http, clock, "super1")
        clock.to(clock.now + dt.timedelta(seconds=LOCK_S))
        # The lock is over but its failures are not yet forgotten (an hour): one try, then locked again.
        assert (await _login(http, "super1", "wrong")).status_code == 401
        assert _retry_after(await _login(http, "super1", "super1")) == LOCK_S


async def test_failures_are_forgotten_after_an_hour(door, clock, session) -> None:  # noqa: ANN001
    async with door() as http:
        for _ in range(3):
            assert (await _login(http, "legal1", "wrong")).status_code == 401
        assert _retry_after(await _login(http, "legal1", "wrong")) == 1
        clock.to(_later(60 * 60 + 1))
        for _ in range(2):
            assert (await _login(http, "legal1", "wrong")).status_code == 401
        assert (await _login(http, "legal1", "legal1")).status_code == 200
    # The sweep deletes what holds nobody back any more.
    clock.to(_later(3 * 60 * 60))
    assert forget_stale(session, Limits()) >= 1
    session.commit()
    assert session.scalar(select(LoginThrottle).where(LoginThrottle.key == "legal1")) is None


async def test_a_success_clears_the_names_count(door) -> None:  # noqa: ANN001
    async with door() as http:
        for _ in range(2):
            assert (await _login(http, "agent2", "wrong")).status_code == 401
        assert (await _login(http, "agent2", "agent2")).status_code == 200
        # Counted from nothing again: two more failures and a third still cost nothing.
        for _ in range(3):
            assert (await _login(http, "agent2", "wrong")).status_code == 401
        assert _retry_after(await _login(http, "agent2", "agent2")) == 1


async def test_an_older_hash_signs_in_and_is_made_again_with_todays_parameters(door, session) -> None:  # noqa: ANN001
    """A hash made with argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes: the parameters before
    OWASP's profile) still lets its user in, and the sign-in stores a new one; a wrong password
    changes nothing."""
    from argon2 import PasswordHasher

    from backend.security import needs_rehash, verify_password

    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash("agent2")
    user = session.scalars(select(User).where(User.username == "agent2")).one()
    user.password_hash = old
    session.commit()
    assert needs_rehash(old)
    async with door() as http:
        assert (await _login(http, "agent2", "wrong")).status_code == 401
        session.expire_all()
        assert session.get(User, user.id).password_hash == old
        assert (await _login(http, "agent2", "agent2")).status_code == 200
    session.expire_all()
    new = session.get(User, user.id).password_hash
    assert new != old and not needs_rehash(new)
    assert "$m=19456,t=2,p=1$" in new
    assert verify_password(new, "agent2") and not verify_password(new, "agent1")


async def test_an_address_is_throttled_across_names(door, app, clock) -> None:  # noqa: ANN001
    assert (app.state.login_limits.address_backoff_after, app.state.login_limits.address_lock_after) == (20, 100)
    app.state.login_limits = Limits(address_backoff_after=4, address_lock_after=6)
    async with door("192.0.2.10") as guesser:
        for n in range(4):  # another name each time: no name's count ever holds it back
            assert (await _login(guesser, f"nobody{n}", "wrong")).status_code == 401
        assert _retry_after(await _login(guesser, "admin", "admin")) == 1
        async with door("192.0.2.11") as neighbour:  # another address is not held back
            assert (await _login(neighbour, "admin", "admin")).status_code == 200
        clock.to(_later(1))
        assert (await _login(guesser, "nobody4", "wrong")).status_code == 401
        assert _retry_after(await _login(guesser, "admin", "admin")) == 2
        clock.to(_later(3))
        assert (await _login(guesser, "nobody5", "wrong")).status_code == 401
        assert _retry_after(await _login(guesser, "admin", "admin")) == 15 * 60
        # A success does not clear an address's count (one valid account would clear it at will).
        clock.to(_later(3 + 15 * 60))
        assert (await _login(guesser, "admin", "admin")).status_code == 200
        assert (await _login(guesser, "nobody6", "wrong")).status_code == 401
        assert _retry_after(await _login(guesser, "admin", "admin")) == 15 * 60


async def test_an_ipv6_client_is_counted_by_its_64(door, app) -> None:  # noqa: ANN001
    app.state.login_limits = Limits(address_backoff_after=2, address_lock_after=0)
    async with door("2001:db8:1:2::10") as first, door("2001:db8:1:2:ffff::99") as same_64, \
            door("2001:db8:1:3::10") as other_64:
        assert (await _login(first, "nobody1", "wrong")).status_code == 401
        assert (await _login(same_64, "nobody2", "wrong")).status_code == 401
        assert _retry_after(await _login(first, "agent1", "agent1")) == 1
        assert (await _login(other_64, "agent1", "agent1")).status_code == 200


async def test_attempts_at_the_same_moment_do_not_all_slip_in(clock, engine, db_url) -> None:  # noqa: ANN001
    """Ten wrong passwords for one name at once, on a real app (each request its own
    session and connection): three are checked, the others wait."""
    from backend.app import create_app
    from backend.db import Database

    real = create_app(BackendSettings(db=db_url, hash_workers=2), Database(db_url, engine=engine))
    transport = httpx.ASGITransport(app=real, client=("198.51.100.77", 1))
    name = "burst-nobody"
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
            answers = await asyncio.gather(*(_login(http, name, f"guess {n}") for n in range(10)))
        assert sorted(r.status_code for r in answers) == [401] * 3 + [429] * 7
    finally:
        from sqlalchemy import delete
        from sqlalchemy.orm import Session

        from backend.models import AuditEntry

        with Session(engine) as own:  # this test's rows are committed for real: take the throttle's back
            own.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([name, "198.51.100.77"])))
            own.commit()
        assert AuditEntry  # the audit log is append-only: its rows stay (they name a user that does not exist)


async def test_a_user_signing_in_on_ten_desks_at_once_gets_in_on_all(clock, engine, db_url) -> None:  # noqa: ANN001
    """Only a password known to be wrong counts: ten right ones at the same moment are let in
    three at a time (the turns a fresh name has) and all get their token; none counts."""
    from backend.app import create_app
    from backend.db import Database

    real = create_app(BackendSettings(db=db_url, hash_workers=2), Database(db_url, engine=engine))
    transport = httpx.ASGITransport(app=real, client=("198.51.100.78", 1))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
            answers = await asyncio.gather(*(_login(http, "agent3", "agent3") for _ in range(10)))
            assert [r.status_code for r in answers] == [200] * 10, [r.text for r in answers if r.status_code != 200]
            # Nothing counted: three wrong ones still cost nothing, the fourth waits.
            for _ in range(3):
                assert (await _login(http, "agent3", "wrong")).status_code == 401
            assert _retry_after(await _login(http, "agent3", "agent3")) == 1
    finally:
        from sqlalchemy import delete
        from sqlalchemy.orm import Session

        with Session(engine) as own:  # this test's rows are committed for real: take the throttle's back
            own.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(["agent3", "198.51.100.78"])))
            own.commit()


async def test_a_sign_in_cut_off_before_its_answer_counts_as_nothing(door, clock, session) -> None:  # noqa: ANN001
    """A backend killed (or a client gone) between the check's start and its answer leaves the
    attempt counted as being checked: it is no failure, and after ``login_checking_stale_seconds``
    it holds no turn either."""
    from backend.api.errors import from_domain
    from backend.domain.errors import TooManyAttempts
    from backend.services.signin import NotYourTurn, open_attempt

    limits = Limits()
    for _ in range(3):  # three attempts begun and never finished: the name's three turns are taken
        open_attempt(session, "trainer1", "192.0.2.9", limits)
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(["trainer1", "192.0.2.9"]))).all()
    assert [(r.failures, r.checking) for r in rows] == [(0, 3), (0, 3)]
    # While they may still be in flight, the next waits its turn; at the end of its wait, 429.
    with pytest.raises(NotYourTurn):
        open_attempt(session, "trainer1", "192.0.2.10", limits)
    with pytest.raises(TooManyAttempts) as refused:
        open_attempt(session, "trainer1", "192.0.2.10", limits, last_try=True)
    assert from_domain(refused.value).status == 429
    clock.to(_later(31))  # past login_checking_stale_seconds: the three were cut off
    async with door("192.0.2.10") as http:
        assert (await _login(http, "trainer1", "trainer1")).status_code == 200
    session.expire_all()
    name = session.scalar(select(LoginThrottle).where(LoginThrottle.key == "trainer1"))
    assert name is not None and (name.failures, name.checking) == (0, 0)


# -- the audit --------------------------------------------------------------------------


async def test_failed_sign_ins_are_audited_without_the_password(door, new_audit, session) -> None:  # noqa: ANN001
    from sqlalchemy import update

    session.execute(update(User).where(User.username == "agent2").values(active=False))
    session.commit()
    agent1 = session.scalar(select(User.id).where(User.username == "agent1"))
    agent2 = session.scalar(select(User.id).where(User.username == "agent2"))
    async with door("203.0.113.9") as http:
        await _login(http, "agent1", "s3cret-guess-1")
        await _login(http, "nobody-here", "s3cret-guess-2")
        await _login(http, "agent2", "agent2")  # the right password of an inactive user
        await _login(http, "agent1", "s3cret-guess-3")
        await _login(http, "agent1", "s3cret-guess-4")
        await _login(http, "agent1", "s3cret-guess-5")  # must wait: refused unchecked
    rows = new_audit(action="login_failed")
    assert [(r.user_id, r.entity, r.entity_id, r.detail["username"], r.detail["address"], r.detail["reason"])
            for r in rows] == [
        (None, "user", agent1, "agent1", "203.0.113.9", "wrong password"),
        (None, "user", None, "nobody-here", "203.0.113.9", "no such user"),
        (None, "user", agent2, "agent2", "203.0.113.9", "inactive user"),
        (None, "user", agent1, "agent1", "203.0.113.9", "wrong password"),
        (None, "user", agent1, "agent1", "203.0.113.9", "wrong password"),
        (None, "user", agent1, "agent1", "203.0.113.9", "back-off"),
    ]
    assert rows[-1].detail["retry_after"] == 1
    text = json.dumps([r.detail for r in rows])
    assert "s3cret" not in text


async def test_a_sign_in_is_audited_with_its_address(door, new_audit, session) -> None:  # noqa: ANN001
    async with door("203.0.113.44") as http:
        assert (await _login(http, "agent1", "agent1")).status_code == 200
    user_id = session.scalar(select(User.id).where(User.username == "agent1"))
    [row] = new_audit(action="login")
    assert (row.user_id, row.entity_id, row.detail) == (user_id, user_id, {"address": "203.0.113.44"})


# -- logout and passwords --------------------------------------------------------------------


async def test_logout_ends_this_session_only(http, new_audit, session, problem) -> None:  # noqa: ANN001
    tokens = [(await _login(http, "agent1", "agent1")).json()["access_token"] for _ in range(2)]
    first, second = ({"Authorization": f"Bearer {t}"} for t in tokens)
    response = await http.post("/api/v1/auth/logout", headers=first)
    assert response.status_code == 204 and response.content == b""
    problem(await http.get("/api/v1/me", headers=first), 401)
    problem(await http.post("/api/v1/auth/logout", headers=first), 401)
    assert (await http.get("/api/v1/me", headers=second)).status_code == 200
    problem(await http.post("/api/v1/auth/logout"), 401)
    digest = hashlib.sha256(tokens[0].encode()).hexdigest()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    assert row.revoked_at is not None and row.revoked_at.tzinfo is not None
    assert [(r.action, r.entity_id) for r in new_audit(action="logout")] == [("logout", row.user_id)]


async def test_a_password_set_again_ends_every_session_of_the_user(http, session, new_audit, problem) -> None:  # noqa: ANN001
    from backend.services.users import add_user

    mine = [{"Authorization": f"Bearer {(await _login(http, 'agent1', 'agent1')).json()['access_token']}"}
            for _ in range(2)]
    other = {"Authorization": f"Bearer {(await _login(http, 'agent2', 'agent2')).json()['access_token']}"}
    add_user(session, "agent1", "a new passphrase", "agent", "A")  # what `collectdesk user add` does
    session.commit()
    for headers in mine:
        problem(await http.get("/api/v1/me", headers=headers), 401)
    assert (await http.get("/api/v1/me", headers=other)).status_code == 200
    assert (await _login(http, "agent1", "agent1")).status_code == 401
    assert (await _login(http, "agent1", "a new passphrase")).status_code == 200
    [row] = new_audit(action="password")
    assert row.detail == {"sessions_ended": 2}


# -- idle and absolute expiry ------------------------------------------------------------------


async def test_a_session_ends_after_thirty_idle_minutes(http, clock, session, problem) -> None:  # noqa: ANN001
    headers = {"Authorization": f"Bearer {(await _login(http, 'agent1', 'agent1')).json()['access_token']}"}
    digest = hashlib.sha256(headers["Authorization"][7:].encode()).hexdigest()

    def last_used() -> dt.datetime:
        return session.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == digest))

    assert last_used() == PLAN_NOW
    clock.to(_later(30))
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    assert last_used() == PLAN_NOW  # written again at most once a minute
    clock.to(_later(29 * 60))
    assert (await http.get("/api/v1/worklist", headers=headers)).status_code == 200
    assert last_used() == _later(29 * 60)
    clock.to(_later(58 * 60))  # 29 minutes after the last request: still in use
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    clock.to(_later(88 * 60))  # 30 minutes without a request
    response = await http.get("/api/v1/me", headers=headers)
    problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_busy_session_still_ends_at_its_absolute_expiry(http, clock, problem) -> None:  # noqa: ANN001
    body = (await _login(http, "agent1", "agent1")).json()
    assert dt.datetime.fromisoformat(body["expires_at"]) == _later(12 * 3600)
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    for minutes in range(20, 12 * 60, 20):
        clock.to(_later(minutes * 60))
        assert (await http.get("/api/v1/me", headers=headers)).status_code == 200, minutes
    clock.to(_later(12 * 3600))
    problem(await http.get("/api/v1/me", headers=headers), 401)


async def test_idle_expiry_is_a_setting(app, http, clock) -> None:  # noqa: ANN001
    app.state.settings = app.state.settings.model_copy(update={"session_idle_minutes": 0})
    headers = {"Authorization": f"Bearer {(await _login(http, 'agent1', 'agent1')).json()['access_token']}"}
    clock.to(_later(11 * 3600))
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    app.state.settings = app.state.settings.model_copy(update={"session_idle_minutes": 5})
    clock.to(_later(11 * 3600 + 5 * 60))
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 401


# -- the settings, addresses and the hashing pool ---------------------------------------------


def test_every_number_is_a_setting(monkeypatch) -> None:  # noqa: ANN001
    base = BackendSettings(db="sqlite://")
    assert (base.token_ttl_hours, base.session_idle_minutes, base.session_touch_seconds, base.hash_workers,
            base.hash_queue, base.hash_nice, base.login_db_concurrency, base.trusted_proxies) == (
        12, 30, 60, 1, 64, 10, 1, [])
    defaults = Limits.of(base)
    assert defaults == Limits()
    assert (defaults.name_backoff_after, defaults.name_lock_after, defaults.address_backoff_after,
            defaults.address_lock_after) == (3, 10, 20, 100)
    assert (defaults.backoff, defaults.backoff_max, defaults.lock, defaults.forget) == (
        dt.timedelta(seconds=1), dt.timedelta(minutes=1), dt.timedelta(minutes=15), dt.timedelta(hours=1))
    assert (defaults.turn_wait, defaults.checking_stale) == (dt.timedelta(seconds=5), dt.timedelta(seconds=30))
    assert [defaults.turns("name", n) for n in (0, 2, 3, 9)] == [3, 1, 1, 1]
    for name, value in {"LOGIN_NAME_BACKOFF_AFTER": "5", "LOGIN_NAME_LOCK_AFTER": "7",
                        "LOGIN_ADDRESS_BACKOFF_AFTER": "50", "LOGIN_ADDRESS_LOCK_AFTER": "0",
                        "LOGIN_BACKOFF_SECONDS": "2", "LOGIN_BACKOFF_MAX_SECONDS": "30", "LOGIN_LOCK_MINUTES": "5",
                        "LOGIN_FORGET_MINUTES": "10", "SESSION_IDLE_MINUTES": "15", "HASH_WORKERS": "2",
                        "HASH_QUEUE": "8", "HASH_NICE": "0", "LOGIN_DB_CONCURRENCY": "3",
                        "SESSION_TOUCH_SECONDS": "5", "TRUSTED_PROXIES": '["10.0.0.0/8"]',
                        "LOGIN_TURN_WAIT_SECONDS": "2", "LOGIN_CHECKING_STALE_SECONDS": "12"}.items():
        monkeypatch.setenv(f"COLLECTDESK_{name}", value)
    settings = BackendSettings(db="sqlite://")
    limits = Limits.of(settings)
    assert limits == Limits(5, 7, 50, 0, dt.timedelta(seconds=2), dt.timedelta(seconds=30), dt.timedelta(minutes=5),
                            dt.timedelta(minutes=10), dt.timedelta(seconds=2), dt.timedelta(seconds=12))
    assert limits.wait_after("address", 10_000) == dt.timedelta(seconds=30)  # no lock for addresses: 0 is off
    assert limits.turns("address", 10_000) == 1
    assert (settings.session_idle_minutes, settings.session_touch_seconds, settings.hash_workers, settings.hash_queue,
            settings.hash_nice, settings.login_db_concurrency, settings.trusted_proxies) == (
        15, 5, 2, 8, 0, 3, ["10.0.0.0/8"])
    monkeypatch.setenv("COLLECTDESK_TRUSTED_PROXIES", '["not an address"]')
    with pytest.raises(ValueError, match="not an address"):
        BackendSettings(db="sqlite://")


def test_the_client_address_is_a_trusted_proxys_client_only() -> None:
    trusted = trusted_networks(["127.0.0.1", "10.0.0.0/8"])
    # Without trusted proxies, or from an untrusted peer, the header is never believed.
    assert client_address("198.51.100.1", "1.2.3.4", ()) == "198.51.100.1"
    assert client_address("198.51.100.1", "1.2.3.4", trusted) == "198.51.100.1"
    # From a trusted proxy: the nearest hop that is not a proxy; what the client wrote further left is ignored.
    assert client_address("127.0.0.1", "203.0.113.5", trusted) == "203.0.113.5"
    assert client_address("10.1.2.3", "6.6.6.6, 203.0.113.5, 10.9.9.9", trusted) == "203.0.113.5"
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"
    assert client_address(None, None, ()) == "unknown"
    assert address_key("203.0.113.5") == "203.0.113.5"
    assert address_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert address_key("not-an-ip") == "not-an-ip"


async def test_passwords_are_checked_in_the_pool_never_on_the_event_loop(monkeypatch) -> None:  # noqa: ANN001
    import backend.security as security

    pool = HashPool(workers=1, waiting=1)
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = security.verify_password

    def spy(password_hash: str | None, password: str) -> bool:
        seen.append(threading.get_ident())
        return original(password_hash, password)

    monkeypatch.setattr(security, "verify_password", spy)
    try:
        stored = security.hash_password("pw")
        with pool.slot():
            assert await pool.verify(stored, "pw") is True
            with pool.slot():  # one checking, one waiting: the next is refused
                with pytest.raises(PoolFull), pool.slot():
                    pass
        assert pool.busy == 0
    finally:
        pool.close()
    assert seen and loop_thread not in seen


async def test_a_full_hashing_pool_answers_503_with_retry_after(app, http, problem) -> None:  # noqa: ANN001
    pool = app.state.hash_pool
    pool.busy = pool.limit  # every place taken
    try:
        response = await _login(http, "agent1", "agent1")
    finally:
        pool.busy = 0
    body = problem(response, 503)
    assert body["title"] == "Busy" and response.headers["retry-after"] == "1"
