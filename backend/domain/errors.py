"""What the domain refuses, in its own words (issue 16 item 2): services and domain rules
raise these, and only ``backend.api`` turns them into HTTP problem details (RFC 9457)
with a status, so nothing here knows of HTTP.

Each carries a short ``title``, a ``detail`` sentence, the ``errors`` of the fields at
fault (``[(field, message)]``) and any further facts a client may act on (``rule``,
``reason``, ``status_now``, ``retry_after`` …) as ``extra``.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse."""

    default_title = "Refused"

    def __init__(self, title: str | None = None, detail: str | None = None, *,
                 errors: list[tuple[str, str]] | None = None, **extra: Any) -> None:
        title = title or self.default_title
        super().__init__(detail or title)
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extra = extra


class NotFound(DomainError):
    """No such thing, or none the caller may see (the two are not told apart)."""

    default_title = "Not found"


class Invalid(DomainError):
    """The input breaks a rule of its own: the fields at fault are named."""

    default_title = "Invalid request"


class Conflict(DomainError):
    """The input is sound but the state of things forbids it now (``rule`` or ``reason`` says which)."""

    default_title = "Conflict"


class Forbidden(DomainError):
    """Not the caller's to do (their role, their team, their authority)."""

    default_title = "Forbidden"


class Unauthenticated(DomainError):
    """Who is asking is not known (a wrong password, a session that ended)."""

    default_title = "Not authenticated"


class PreconditionFailed(DomainError):
    """The version the caller changed is not the current one any more."""

    default_title = "Precondition failed"


class PreconditionRequired(DomainError):
    """A change that must name the version it changes did not."""

    default_title = "Precondition required"


class TooManyAttempts(DomainError):
    """Slow down: ``retry_after`` seconds (in ``extra``) before the next attempt."""

    default_title = "Too many attempts"


class Busy(DomainError):
    """Nothing was done for lack of room now; the same request may come again after
    ``retry_after`` seconds (in ``extra``)."""

    default_title = "Busy"


class ChannelFailed(DomainError):
    """A message handed to the bank's mail relay or SMS gateway was not taken: nothing was sent
    and nothing is recorded as sent. ``temporary`` (in ``extra``) says whether the same request
    may succeed later (no connection, a 4xx from the relay, a 5xx from the gateway) or will
    fail the same until the address, the number or the channel's settings are fixed."""

    default_title = "Not sent"


def not_found(what: str = "account") -> NotFound:
    return NotFound("Not found", f"No such {what}")


def invalid(field: str, message: str) -> Invalid:
    return Invalid("Invalid request", f"{field}: {message}", errors=[(field, message)])
