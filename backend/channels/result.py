"""What became of one message handed to a channel (e-mail, SMS): the same three answers
for every channel, so the treatment scheduler retries, skips or alerts the same way."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"
    """The relay (or gateway) accepted the message (250 after DATA): it is the relay's to deliver now."""
    TEMPORARY = "temporary"
    """Not sent: no connection, a timeout, a dropped connection or a 4xx. Send again later
    (with back-off), under the same key."""
    PERMANENT = "permanent"
    """Not sent, and sending again will not help: a 5xx (a refused recipient, sender, login or
    message), or a relay that cannot be spoken to safely (no STARTTLS, an untrusted certificate)."""


#: Stages where a permanent failure is the channel's (its settings, its certificate, its
#: login), not the customer's: every message would fail the same until someone fixes it.
CHANNEL_STAGES = frozenset(("connect", "starttls", "auth", "sender", "gateway"))


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    code: int | None
    """The server's reply code (``250``, ``421``, ``550``); None where none came (no connection)."""
    message: str
    """The server's words, or what went wrong locally (never a secret)."""
    stage: str
    """Where it ended: ``connect``, ``starttls``, ``auth``, ``sender``, ``recipient``, ``data``
    or ``sent``. A permanent failure at ``starttls``, ``auth`` or ``sender`` is the relay's
    settings, not the customer's address: every message will fail so until they are fixed.
    An SMS gateway adds ``gateway`` (it refused the request itself: a 401, a 404, a body it
    cannot read) and ends ``recipient`` or ``sent`` as e-mail does."""
    provider_ref: str = ""
    """The channel's own name for the message, by which receipts come back (the SMS
    gateway's message id); empty where there is none."""

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED

    @property
    def retry(self) -> bool:
        """True: send the same message again later."""
        return self.outcome is Outcome.TEMPORARY


    @property
    def outage(self) -> bool:
        """True: the channel itself is broken (see :data:`CHANNEL_STAGES`); pause it, do not
        count the failure against the customer."""
        return self.outcome is Outcome.PERMANENT and self.stage in CHANNEL_STAGES
