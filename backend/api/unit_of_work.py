"""One unit of work per request: the one owner of a request's transaction.

Every route of the API is a :class:`UnitOfWorkRoute`. Its endpoint runs as written (the
router reads the request and calls services; services add, change and audit through the
request's session and never commit), and when the endpoint returns, the route commits
the request's session there, in the same thread and before FastAPI builds the answer; when
it raises, the route rolls it back. So a request's changes and the audit records of what
it showed are one transaction: all of them or none, and nothing is answered as done that
is not committed.

Why not after a ``yield`` in the session dependency: FastAPI runs a sync dependency's exit
in another turn of its thread pool (and, by default, only after the answer is sent). A
transaction left open across that turn holds a pooled connection and, on SQLite, the one
write lock (``BEGIN IMMEDIATE``) while waiting for a free thread; with more requests at once
than threads, every thread can be waiting for that lock or a connection and nothing moves
until the 30 s timeouts (found by ``tests/api/test_kill_once.py``). Nor after the ``yield``
of today's session dependency, which is async: its exit runs on the event loop, where a
commit's I/O would stop every other request. Committing where the endpoint ran ends the
transaction before its thread is given back, and the session is then closed on the loop
without I/O (``deps.get_session``).

The few commits elsewhere are boundaries the request itself has, each said where it is:
the token check ends its read before the route's thread turn (``deps``); a sign-in commits
its steps around the password check, which runs in threads of its own, and records a
refused attempt even though it answers an error (``services.signin``); a create with an
``Idempotency-Key`` commits to learn whether a concurrent retry won the key
(``idempotent``). Work outside requests (background loops, imports, the CLI) owns its own
transactions. ``tests/house/test_unit_of_work.py`` holds the list.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from backend.api.errors import refuse_if_late


def _sessions(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Session]:
    return [v for v in (*args, *kwargs.values()) if isinstance(v, Session)]


def _end(sessions: list[Session], *, ok: bool) -> None:
    for session in sessions:
        if ok:
            session.commit()
        else:
            session.rollback()


async def _end_off_loop(sessions: list[Session], *, ok: bool) -> None:
    """An async endpoint's session ended in a thread, never blocking the event loop; only
    when a transaction is open (the sign-in, the one async route, ends its own steps)."""
    if any(s.in_transaction() for s in sessions):
        await run_in_threadpool(_end, sessions, ok=ok)


def in_one_transaction(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint``, committing the request's session when it returns and rolling it
    back when it raises (sync endpoints in their thread, async ones on the loop)."""
    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            sessions = _sessions(args, kwargs)
            try:
                result = await endpoint(*args, **kwargs)
            except BaseException:
                await _end_off_loop(sessions, ok=False)
                raise
            await _end_off_loop(sessions, ok=True)
            return result

        return run_async

    def run(*args: Any, **kwargs: Any) -> Any:
        refuse_if_late()  # a request without a token check: this is its first turn
        sessions = _sessions(args, kwargs)
        try:
            result = endpoint(*args, **kwargs)
        except BaseException:
            _end(sessions, ok=False)
            raise
        _end(sessions, ok=True)
        return result

    # Awaited, not called: FastAPI runs a sync endpoint in its thread pool and then checks
    # the answer against the response model in *another* turn of the pool. As a coroutine
    # that awaits the endpoint's one turn, the check runs on the loop (an answer of the
    # model's own class is taken as it is), and a request holds a thread one turn less
    # (bench/README: "Fewer turns of the thread pool").
    @functools.wraps(endpoint)
    async def run_in_thread(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(run, *args, **kwargs)

    return run_in_thread


class UnitOfWorkRoute(APIRoute):
    """A route whose endpoint is one unit of work (:func:`in_one_transaction`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_transaction(endpoint), **kwargs)
