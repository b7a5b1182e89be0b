"""``Idempotency-Key``: scoped to the user and route, kept 24 hours; a retry
answers the first response again without writing anything."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.models import IdempotencyKey, utcnow


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 128 or not key.isprintable():
        raise ProblemError(422, "Invalid request", "Idempotency-Key must be 1 to 128 printable characters",
                           errors=[("Idempotency-Key", "1 to 128 printable characters")])
    return key


def _stored(key: str) -> str:
    """Keys are kept as their SHA-256: whatever a client chose as a key (a card
    number, even) is not stored, and every key fits the column."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def lookup(session: Session, user_id: int, route: str, key: str, hours: int = 24) -> tuple[int, Any] | None:
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
    return row.status_code, row.body


def remember(session: Session, user_id: int, route: str, key: str, status_code: int, body: Any) -> None:
    """Store the answer in the caller's transaction, so it commits with the write it answers."""
    session.add(IdempotencyKey(user_id=user_id, route=route, key=_stored(key), status_code=status_code, body=body))


def purge(session: Session, hours: int = 24) -> int:
    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - dt.timedelta(hours=hours)))
    return result.rowcount or 0
