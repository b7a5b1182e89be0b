"""Passwords (argon2id) and bearer tokens (random, stored as SHA-256, expiring).

Passwords are hashed with OWASP's recommended argon2id profile (19 MiB of memory, two
passes, one lane: about 20 ms of CPU here). argon2-cffi's default (64 MiB, three passes,
four lanes) took 0.14 s of CPU and ~0.3 s of wall time on the two CPUs of a desk host, the
largest part of a desk's start-up; a hash made with other parameters still verifies, and is
made again with these at its user's next sign-in (``needs_rehash``).

Checking a password costs CPU on purpose. The API
never does it on the event loop nor in the thread pool that serves the other
requests: ``HashPool`` runs it in a few threads of its own (``hash_workers``, at a
lower CPU priority: ``hash_nice``), and refuses to queue more than ``hash_queue``
sign-ins, so a flood of them queues behind itself while those signed in are served."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet, argon2id: "a minimum configuration of 19 MiB of
# memory, an iteration count of 2, and 1 degree of parallelism".
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# A hash to verify against when the user does not exist, so that timing does
# not reveal which user names are real.
_DUMMY_HASH = _hasher.hash("collectdesk-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str | None) -> bool:
    """A stored hash made with other parameters than today's (made again at the next sign-in)."""
    if password_hash is None:
        return False
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough to store them safely.
    return hashlib.sha256(token.encode()).hexdigest()


class PoolFull(Exception):
    """Every hashing thread is busy and ``waiting`` sign-ins wait already."""


def _lower_priority(nice: int) -> None:
    """This thread's CPU priority ``nice`` steps below the server's (Linux sets it per thread,
    and the threads argon2 starts for its lanes inherit it): a busy CPU serves requests first."""
    if nice <= 0:
        return
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: the same priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + nice)


class HashPool:
    """Password checks off the event loop, ``workers`` at a time, at most ``waiting`` more queued.

    ``with pool.slot():`` takes a place (or raises ``PoolFull``) for a whole sign-in,
    and ``await pool.verify(hash, password)`` checks inside it. Places are counted on
    the event loop's thread only, so they need no lock."""

    def __init__(self, workers: int = 1, waiting: int = 64, nice: int = 10) -> None:
        self.workers = workers
        self.nice = nice
        self.limit = workers + waiting
        self.busy = 0
        self._executor: ThreadPoolExecutor | None = None

    @contextlib.contextmanager
    def slot(self):  # noqa: ANN201
        if self.busy >= self.limit:
            raise PoolFull
        self.busy += 1
        try:
            yield
        finally:
            self.busy -= 1

    def _threads(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="password-hash",
                                                initializer=_lower_priority, initargs=(self.nice,))
        return self._executor

    async def verify(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._threads(), verify_password, password_hash,
                                                                password)

    async def rehash(self, password: str) -> str:
        """A new hash of ``password``, made in the same threads as the checks."""
        return await asyncio.get_running_loop().run_in_executor(self._threads(), hash_password, password)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
