"""Signing in (SPEC §5): throttled per user name and per client address, every
failure audited, the password checked in the bounded hashing pool.

A sign-in is three steps. (1) In one short transaction, with the user name's and
the client address's throttle rows locked: an attempt that must still wait is
answered 429 with Retry-After (and audited) without its password ever being
checked; any other takes a turn to be checked (``checking``). No more turns are
given at once than the failures a name or an address may still take before its
back-off (one at least), so that attempts made at the same moment cannot all
slip in before the first has failed; the others wait on the event loop until a
turn is free (then step 1 again: if the ones before them failed, they are
answered 429), or ``login_turn_wait_seconds`` at most. (2) Out of any
transaction, the password is checked in the ``HashPool``. (3) In another short
transaction: the turn is given back; a success clears the name's count and makes
the token; a wrong password counts as a failure, sets the wait it earns, and is
audited with the user name tried, the client address and why (never the
password). Only a password known to be wrong counts: ten desks of one user
signing in at once all get in, and an attempt cut off before its answer (a
backend killed, a client gone) counts as nothing and holds its turn no longer
than ``login_checking_stale_seconds``. Steps (1) and (3) of at most
``login_db_concurrency`` sign-ins run at once: a flood of them, even one answered
429, waits on the event loop, not in the server's threads or for SQLite's lock.

The counts are rows of the database, so that every backend process behind a
load balancer shares them; an address is the client's own, or the one a trusted
proxy names (``trusted_proxies``); an IPv6 client is counted by its /64.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import ipaddress
import math
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import TypeVar

import anyio.to_thread
from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.domain.errors import Busy, DomainError, TooManyAttempts, Unauthenticated
from backend.models import ApiToken, LoginThrottle, User, utcnow
from backend.security import HashPool, PoolFull, needs_rehash, new_token, token_digest
from backend.services import audit

T = TypeVar("T")
NAME, ADDRESS = "name", "address"
KEY_MAX = 200
"""A throttle key's length in the database (the API takes user names up to 200 characters)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True)
class Limits:
    """The throttle's numbers (``BackendSettings.login_*``)."""

    name_backoff_after: int = 3
    name_lock_after: int = 10
    address_backoff_after: int = 20
    address_lock_after: int = 100
    backoff: dt.timedelta = dt.timedelta(seconds=1)
    backoff_max: dt.timedelta = dt.timedelta(seconds=60)
    lock: dt.timedelta = dt.timedelta(minutes=15)
    forget: dt.timedelta = dt.timedelta(minutes=60)
    turn_wait: dt.timedelta = dt.timedelta(seconds=5)
    checking_stale: dt.timedelta = dt.timedelta(seconds=30)

    @classmethod
    def of(cls, settings) -> Limits:  # noqa: ANN001 - BackendSettings
        return cls(
            name_backoff_after=settings.login_name_backoff_after, name_lock_after=settings.login_name_lock_after,
            address_backoff_after=settings.login_address_backoff_after,
            address_lock_after=settings.login_address_lock_after,
            backoff=dt.timedelta(seconds=settings.login_backoff_seconds),
            backoff_max=dt.timedelta(seconds=settings.login_backoff_max_seconds),
            lock=dt.timedelta(minutes=settings.login_lock_minutes),
            forget=dt.timedelta(minutes=settings.login_forget_minutes),
            turn_wait=dt.timedelta(seconds=settings.login_turn_wait_seconds),
            checking_stale=dt.timedelta(seconds=settings.login_checking_stale_seconds),
        )

    def steps(self, kind: str) -> tuple[int, int]:
        """``(backoff_after, lock_after)`` of a name or an address."""
        if kind == NAME:
            return self.name_backoff_after, self.name_lock_after
        return self.address_backoff_after, self.address_lock_after

    def locks(self, kind: str, failures: int) -> bool:
        lock_after = self.steps(kind)[1]
        return bool(lock_after) and failures >= lock_after

    def turns(self, kind: str, failures: int) -> int | None:
        """How many attempts may be checked at once after ``failures`` failures: the failures
        still free of any wait (one at least); ``None`` when that step is off (no limit)."""
        backoff_after, lock_after = self.steps(kind)
        free_until = backoff_after or lock_after
        if not free_until:
            return None
        return max(1, free_until - failures)

    def wait_after(self, kind: str, failures: int) -> dt.timedelta | None:
        """How long the next attempt waits after ``failures`` failures in a row: nothing
        before ``backoff_after``, then ``backoff`` doubled at each failure up to
        ``backoff_max``, and ``lock`` from ``lock_after`` on."""
        backoff_after, _lock_after = self.steps(kind)
        if self.locks(kind, failures):
            return self.lock
        if backoff_after and failures >= backoff_after:
            seconds = self.backoff.total_seconds() * 2.0 ** min(failures - backoff_after, 64)
            return min(dt.timedelta(seconds=min(seconds, 1e9)), self.backoff_max)
        return None


_configured = Limits()


def configure(settings) -> Limits:  # noqa: ANN001 - BackendSettings
    """The limits of ``settings``, also the ones ``forget_stale`` forgets by (the sweep's)."""
    global _configured
    _configured = Limits.of(settings)
    return _configured


def configured() -> Limits:
    """The limits the last app was made with (the defaults before any)."""
    return _configured


# -- client addresses -----------------------------------------------------------------


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """``trusted_proxies`` parsed (``ValueError`` names a bad one)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Who is signing in: the connection's address, unless it is a trusted proxy's; then the
    nearest address in ``X-Forwarded-For`` that is not a trusted proxy's (what the client
    wrote there itself, further left, is never believed)."""
    peer = (peer or "unknown")[:KEY_MAX]

    def is_trusted(text: str) -> bool:
        ip = _ip(text)
        return ip is not None and any(ip in network for network in trusted)

    if not trusted or not forwarded_for or not is_trusted(peer):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop[:KEY_MAX]
    return hops[0][:KEY_MAX] if hops else peer


def address_key(address: str) -> str:
    """The throttle's key for an address: itself, or an IPv6 client's /64 (one host has them all)."""
    ip = _ip(address)
    if ip is None:
        return address[:KEY_MAX]
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# -- the throttle's rows ----------------------------------------------------------------


def _locked_rows(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], LoginThrottle]:
    """The rows of ``keys``, made if missing, locked until the transaction ends (PostgreSQL:
    ``FOR UPDATE``, in one order; SQLite: every write transaction holds the database's lock)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values([{"kind": k, "key": v, "failures": 0} for k, v in keys])
                    .on_conflict_do_nothing(index_elements=["kind", "key"]))
    rows = session.scalars(
        select(LoginThrottle).where(tuple_(LoginThrottle.kind, LoginThrottle.key).in_(keys))
        .order_by(LoginThrottle.kind, LoginThrottle.key).with_for_update()
        .execution_options(populate_existing=True)
    )
    return {(row.kind, row.key): row for row in rows}


def forget_stale(session: Session, limits: Limits | None = None, now: dt.datetime | None = None) -> int:
    """Delete the rows whose failures are forgotten and that hold nobody back (the sweep's)."""
    limits = limits or configured()
    now = now or utcnow()
    result = session.execute(delete(LoginThrottle).where(
        (LoginThrottle.last_failure_at.is_(None)) | (LoginThrottle.last_failure_at < now - limits.forget),
        (LoginThrottle.blocked_until.is_(None)) | (LoginThrottle.blocked_until <= now),
    ))
    return result.rowcount or 0


# -- one sign-in -----------------------------------------------------------------------------


@dataclasses.dataclass
class Attempt:
    username: str
    address: str
    keys: list[tuple[str, str]]
    user_id: int | None
    password_hash: str | None
    """``None`` for a user that does not exist or is inactive: checked against a dummy hash."""
    reason: str
    """Why it fails if the password is wrong (``wrong password``, ``no such user``, ``inactive user``)."""


class NotYourTurn(Exception):
    """Step 1: as many attempts of this name or address are being checked as may be at once."""


def _refused(session: Session, attempt_name: str, address: str, user_id: int | None, reason: str,
             retry_after: int) -> DomainError:
    audit.record(session, None, "login_failed", "user", user_id, username=attempt_name, address=address,
                 reason=reason, retry_after=retry_after)
    session.commit()
    return TooManyAttempts("Too many attempts",
                        f"Too many failed sign-ins; try again in {retry_after} s",
                        retry_after=retry_after)


def open_attempt(session: Session, username: str, address: str, limits: Limits, *,
                 last_try: bool = False) -> Attempt:
    """Step 1: refuse (429) an attempt that must wait; let one in whose turn it is (it is
    counted as being checked); else ``NotYourTurn`` (429 on the ``last_try``)."""
    now = utcnow()
    keys = sorted({(NAME, username[:KEY_MAX]), (ADDRESS, address_key(address))})
    rows = _locked_rows(session, keys)
    user = session.scalar(select(User).where(User.username == username))
    until: dt.datetime | None = None
    locked = False
    for (kind, _key), row in rows.items():
        if row.last_failure_at is not None and now - row.last_failure_at > limits.forget and (
                row.blocked_until is None or row.blocked_until <= now):
            row.failures, row.blocked_until = 0, None
        if row.checking and (row.checking_since is None or now - row.checking_since > limits.checking_stale):
            row.checking = 0  # attempts cut off: nobody is checking them any more
        if row.blocked_until is not None and row.blocked_until > now:
            until = max(until or row.blocked_until, row.blocked_until)
            locked = locked or limits.locks(kind, row.failures)
    if until is not None:
        retry_after = max(1, math.ceil((until - now).total_seconds()))
        raise _refused(session, username, address, user.id if user else None, "locked" if locked else "back-off",
                       retry_after)
    full = any((turns := limits.turns(kind, row.failures)) is not None and row.checking >= turns
               for (kind, _key), row in rows.items())
    if full:
        if last_try:
            raise _refused(session, username, address, user.id if user else None, "attempts being checked", 1)
        session.commit()
        raise NotYourTurn
    for row in rows.values():
        row.checking += 1
        row.checking_since = now
    if user is None:
        reason, password_hash = "no such user", None
    elif not user.active:
        reason, password_hash = "inactive user", None
    else:
        reason, password_hash = "wrong password", user.password_hash
    attempt = Attempt(username=username, address=address, keys=keys, user_id=user.id if user else None,
                      password_hash=password_hash, reason=reason)
    session.commit()
    return attempt


def close_attempt(session: Session, attempt: Attempt, ok: bool, limits: Limits,
                  ttl_hours: float, *, new_hash: str | None = None) -> tuple[str, ApiToken]:
    """Step 3: the turn given back; a success clears the name's count and makes a token (and
    stores ``new_hash``, the password hashed again with today's parameters, unless the
    password changed meanwhile); a wrong password counts as a failure, sets the wait it earns,
    and is answered 401."""
    now = utcnow()
    rows = _locked_rows(session, attempt.keys)
    for row in rows.values():
        row.checking = max(0, row.checking - 1)
    if ok and attempt.user_id is not None:
        for (kind, _key), row in rows.items():
            if kind == NAME:
                row.failures, row.blocked_until, row.last_failure_at = 0, None, None
        user = session.get(User, attempt.user_id)
        assert user is not None
        if new_hash is not None and user.password_hash == attempt.password_hash:
            user.password_hash = new_hash
        token = new_token()
        token_row = ApiToken(user_id=user.id, token_hash=token_digest(token), created_at=now, last_used_at=now,
                             expires_at=now + dt.timedelta(hours=ttl_hours))
        session.add(token_row)
        audit.record(session, user.id, "login", "user", user.id, address=attempt.address)
        session.commit()
        return token, token_row
    for (kind, _key), row in rows.items():
        row.failures += 1
        row.last_failure_at = now
        wait = limits.wait_after(kind, row.failures)
        if wait is not None:
            row.blocked_until = max(row.blocked_until or now, now + wait)
    audit.record(session, None, "login_failed", "user", attempt.user_id, username=attempt.username,
                 address=attempt.address, reason=attempt.reason)
    session.commit()
    raise Unauthenticated("Not authenticated", "Wrong user name or password")


class TurnBell:
    """Rings when a sign-in of this backend process gives its turn back, so that the one
    waiting for a turn looks again at once; it also looks every ``poll`` seconds (turns
    given back by other processes). The attempts of one user name wait in a ``line``: only
    the first of them asks the database for a turn, so that forty sign-ins of one name at
    once cost a transaction each, not one at every ring (the write lock's, on SQLite)."""

    def __init__(self, poll: float = 0.2) -> None:
        self.poll = poll
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lines: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def line(self, key: str, at_most: float) -> AsyncIterator[None]:
        """First in the line of ``key`` (or ``at_most`` seconds waited for it, then on regardless)."""
        lock, waiting = self._lines.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._lines[key] = (lock, waiting + 1)
        got = False
        try:
            with contextlib.suppress(TimeoutError):
                got = await asyncio.wait_for(lock.acquire(), timeout=max(0.0, at_most))
            yield
        finally:
            if got:
                lock.release()
            lock, waiting = self._lines[key]
            if waiting <= 1:
                del self._lines[key]
            else:
                self._lines[key] = (lock, waiting - 1)

    def _event(self) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if self._changed is None or self._loop is not loop:  # one app may serve several loops (tests)
            self._changed, self._loop = asyncio.Event(), loop
        return self._changed

    def ring(self) -> None:
        self._event().set()
        self._changed = None

    async def wait(self, at_most: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event().wait(), timeout=max(0.0, min(self.poll, at_most)))


async def sign_in(session: Session, pool: HashPool, turns: asyncio.Semaphore, limits: Limits, username: str,
                  password: str, address: str, ttl_hours: float, bell: TurnBell | None = None) -> tuple[str, ApiToken]:
    """The three steps: the database's on the server's thread pool, as many sign-ins at a time as
    ``turns`` lets in (``login_db_concurrency``); the hash in ``pool``; an attempt whose turn has
    not come waits for ``bell`` (``login_turn_wait_seconds`` at most)."""
    bell = bell or TurnBell()
    loop = asyncio.get_running_loop()

    async def at_database(step: Callable[..., T], *args: object, **kwargs: object) -> T:
        async with turns:
            # the server's worker threads (anyio's, as Starlette's routes use)
            return await anyio.to_thread.run_sync(functools.partial(step, *args, **kwargs))

    try:
        with pool.slot():
            deadline = loop.time() + limits.turn_wait.total_seconds()
            async with bell.line(username[:KEY_MAX], deadline - loop.time()):
                while True:
                    try:
                        attempt = await at_database(open_attempt, session, username, address, limits,
                                                    last_try=loop.time() >= deadline)
                        break
                    except NotYourTurn:
                        await bell.wait(deadline - loop.time())
            try:
                ok = await pool.verify(attempt.password_hash, password)
                new_hash = await pool.rehash(password) if ok and needs_rehash(attempt.password_hash) else None
                return await at_database(close_attempt, session, attempt, ok, limits, ttl_hours, new_hash=new_hash)
            finally:
                bell.ring()
    except PoolFull:
        raise Busy("Busy", "Too many sign-ins at once; try again",
                           retry_after=1) from None
