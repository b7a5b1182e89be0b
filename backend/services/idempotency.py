"""``Idempotency-Key``: scoped to the user and route, kept 24 hours; a retry
answers the first response again without writing anything. The key is kept with
a fingerprint of the request it answered (:func:`fingerprint`): the same key with
another request is refused 422, never answered with the first one's response (the
IETF draft "The Idempotency-Key HTTP Header Field", section 2.7)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, NamedTuple

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.domain.errors import DomainError, Invalid
from backend.models import IdempotencyKey, utcnow


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise Invalid("Invalid request", "Idempotency-Key must be 1 to 128 printable characters",
                           errors=[("Idempotency-Key", "1 to 128 printable characters")])
    return key


def _stored(key: str) -> str:
    """Keys are kept as their SHA-256: whatever a client chose as a key (a card
    number, even) is not stored, and every key fits the column."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def fingerprint(request: BaseModel | None) -> str:
    """The SHA-256 of a request body as the route read it (its fields, defaults left
    out, keys sorted): the same request sent again, however its JSON is spaced or
    ordered, and with a default spelled out or not, has the same fingerprint."""
    data = request.model_dump(mode="json", exclude_defaults=True) if request is not None else None
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Stored(NamedTuple):
    status: int
    body: Any
    request_hash: str | None
    """None for an answer stored before fingerprints were kept: replayed as it is."""

    def answers(self, request_hash: str) -> bool:
        return self.request_hash is None or self.request_hash == request_hash


def reused() -> DomainError:
    return Invalid("Idempotency-Key reused",
                        "This Idempotency-Key was used for another request (its body differs); "
                        "a new request needs a new key",
                        errors=[("Idempotency-Key", "already used for a request with another body")])


def lookup(session: Session, user_id: int, route: str, key: str, hours: int = 24) -> Stored | None:
    row = session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.route == route,
                                     IdempotencyKey.key == _stored(key))
    )
    if row is None:
        return None
    if row.created_at < utcnow() - dt.timedelta(hours=hours):
        session.delete(row)
        session.flush()
        return None
    return Stored(row.status_code, row.body, row.request_hash)


def remember(session: Session, user_id: int, route: str, key: str, status_code: int, body: Any,
             request_hash: str) -> None:
    """Store the answer in the caller's transaction, so it commits with the write it answers."""
    session.add(IdempotencyKey(user_id=user_id, route=route, key=_stored(key), status_code=status_code, body=body,
                               request_hash=request_hash))


def purge(session: Session, hours: int = 24) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - dt.timedelta(hours=hours)))
    return result.rowcount or 0
