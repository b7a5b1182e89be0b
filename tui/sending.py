"""Sending the outbox: how the desk sends what it kept (``tui.store``), in one place.

``deliver`` sends one entry, with its own idempotency key, once this desk has
claimed it; ``send_pending`` sends what a user's outbox holds, oldest first,
until the backend stops answering; the many-desks test runs them in several
processes at once. ``OutboxSending`` is the desk app's part (``tui.app.CollectDesk``):
these with the desk's status line around each request, what is refused put back
in its form, and the screens told.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual import work

from backend_client.client import (
    BackendClient,
    BackendUnavailable,
    BadResponse,
    Conflict,
    ProblemResponse,
    TooManyRequests,
    Unauthorized,
)
from tui.i18n import _
from tui.store import Drafts, Outbox, OutboxEntry

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


class OutboxSending:
    """Mixed into the desk's ``App`` (which has ``api``, ``outbox``, ``server``, ``user``,
    ``clock``, ``call``, ``reread_store``, ``describe_conflict`` and ``notify``): what it
    keeps on this machine before sending, and how it sends it."""

    def queue(self, kind: str, *, account_id: int, account_ref: str, body: dict[str, Any],
              draft: dict[str, Any]) -> OutboxEntry:
        """Keep a contact or note on disk, with its idempotency key, before it is sent."""
        assert self.user is not None
        entry = self.outbox.add(kind, server=self.server, user=self.user.username, account_id=account_id,  # type: ignore[arg-type]
                                account_ref=account_ref, body=body, draft=draft, now=self.clock())
        self.reread_store()
        return entry

    async def deliver(self, entry: OutboxEntry) -> Any:
        """Send an entry just saved on a form, with its own idempotency key; it leaves
        the outbox when the backend has answered it, or refused it (the form, still
        open, says why). Raises what the backend raised (``deliver``)."""
        try:
            result = await deliver(self.api, self.outbox, entry, call=self.call)
        except Taken:
            return None  # another desk of this user is sending it: it is not lost
        except NOT_ANSWERED:
            raise  # it stays, and is sent again with the same key
        except ProblemResponse:
            self.outbox.remove(entry.key)
            raise
        finally:
            self.reread_store()
        self.worklist_stale = True
        return result

    def action_send_unsent(self) -> None:
        if self.user is None:
            return
        if not self.outbox.pending(self.server, self.user.username):
            self.notify(_("Nothing is waiting to be sent."))
            return
        self.send_unsent()

    @work(name="send-outbox", group="outbox", exclusive=False, exit_on_error=False)
    async def send_unsent(self) -> None:
        """Send what the outbox holds for this user, oldest first, until the backend
        fails; what another desk of theirs is sending is left to it."""
        if self.user is None:
            return
        sent = await send_pending(self.api, self.outbox, self.server, self.user.username,
                                          refused=self._refused, sent=self._sent, call=self.call)
        if sent:
            self.notify(_("Sent {count} kept on this machine.").format(count=sent), title=_("Outbox"))

    def _sent(self, entry: OutboxEntry) -> None:
        self.worklist_stale = True
        self.reread_store()
        self._outbox_changed(entry.account_id)

    def _outbox_changed(self, account_id: int) -> None:
        """Tell the screens showing ``account_id`` that what was kept for it has gone."""
        for screen in self.screen_stack:
            changed = getattr(screen, "outbox_changed", None)
            if changed is not None:
                changed(account_id)

    def _refused(self, entry: OutboxEntry, exc: ProblemResponse) -> None:
        """The backend will never take this entry as it is: put it back in its form
        (or, when a newer draft is being typed there, keep it as refused in the outbox:
        the form takes it back once that draft is saved or dropped)."""
        reason = self.describe_conflict(exc) if isinstance(exc, Conflict) else (exc.problem.detail or exc.problem.title)
        form = "call" if entry.kind == "contact" else "note"
        self.outbox.refuse_into_draft(entry.key, reason, self.draft_key(entry.account_id, form))
        self.reread_store()
        self._outbox_changed(entry.account_id)
        self.notify(_("{ref}: the backend refused what was saved offline ({reason}); it is back in its form.").format(
            ref=entry.account_ref, reason=reason), title=_("Outbox"), severity="error", markup=False)

    def draft_key(self, account_id: int, form: str) -> str:
        return Drafts.key(self.server, self.user.username if self.user else "", account_id, form)

    def take_refused(self, account_id: int, kind: str) -> dict[str, Any] | None:
        """A refused outbox entry's form for ``account_id``, taken out of the outbox."""
        if self.user is None:
            return None
        for entry in self.outbox.refused(self.server, self.user.username):
            if entry.account_id == account_id and entry.kind == kind:
                taken = self.outbox.take(entry.key)  # None: another desk's form took it first
                if taken is not None:
                    self.reread_store()
                    return {**taken.draft, "refused": taken.error}
        return None
