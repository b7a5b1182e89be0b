"""Sending the outbox: how the desk sends what it kept (``tui.store``), in one place.

``deliver`` sends one entry, with its own idempotency key, once this desk has
claimed it; ``send_pending`` sends what a user's outbox holds, oldest first,
until the backend stops answering. ``CollectDesk.deliver``/``send_unsent`` are
these with the desk's status line around each request; the many-desks test runs
them in several processes at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from backend_client.client import (
    BackendClient,
    BackendUnavailable,
    BadResponse,
    ProblemResponse,
    TooManyRequests,
    Unauthorized,
)
from tui.store import Outbox, OutboxEntry

NOT_ANSWERED = (BackendUnavailable, Unauthorized, TooManyRequests, BadResponse)
"""Not answered (or not by this contract, or not now): the entry stays, and goes again with the same key."""

Call = Callable[[Awaitable[Any]], Awaitable[Any]]


class Taken(Exception):
    """Another desk is sending this entry now, or it has left the outbox."""


async def _as_is(request: Awaitable[Any]) -> Any:
    return await request


def request(api: BackendClient, entry: OutboxEntry) -> Awaitable[Any]:
    """The backend request that records ``entry``, with its idempotency key."""
    from backend_client.models import ContactCreate

    if entry.kind == "contact":
        return api.log_contact(entry.account_id, ContactCreate.model_validate(entry.body), idempotency_key=entry.key)
    return api.add_note(entry.account_id, entry.body["text"], idempotency_key=entry.key,
                        visibility=entry.body.get("visibility", "team"))


async def deliver(api: BackendClient, outbox: Outbox, entry: OutboxEntry, *, call: Call = _as_is) -> Any:
    """Claim ``entry`` and send it (``call`` awaits the request). Answered: it leaves
    the outbox, and the answer is returned. Not answered (``NOT_ANSWERED``, or the
    send was cancelled): the claim is let go and the error raised. Refused (any
    other ``ProblemResponse``): raised with the entry still claimed, for the caller
    to ``remove`` or ``refuse``. ``Taken`` when this desk may not send it now."""
    if not outbox.claim(entry.key):
        raise Taken(entry.key)
    try:
        result = await call(request(api, entry))
    except NOT_ANSWERED:
        outbox.release(entry.key)
        raise
    except ProblemResponse:
        raise
    except BaseException:
        outbox.release(entry.key)
        raise
    outbox.remove(entry.key)
    return result


async def send_pending(api: BackendClient, outbox: Outbox, server: str, user: str, *,
                       refused: Callable[[OutboxEntry, ProblemResponse], None],
                       sent: Callable[[OutboxEntry], None] | None = None, call: Call = _as_is) -> int:
    """Send what the outbox holds for ``user`` on ``server``, oldest first, until the
    backend does not answer; entries another desk is sending are left to it.
    ``refused`` settles an entry the backend refused; returns how many were sent."""
    count = 0
    for entry in outbox.pending(server, user):
        try:
            await deliver(api, outbox, entry, call=call)
        except Taken:
            continue
        except NOT_ANSWERED:
            break
        except ProblemResponse as exc:
            refused(entry, exc)
            continue
        count += 1
        if sent is not None:
            sent(entry)
    return count
