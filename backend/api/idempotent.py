"""Answering a create at most once per ``Idempotency-Key`` (SPEC §5), for every router."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import User
from backend.services import idempotency


def _replay(stored: idempotency.Stored, request_hash: str) -> JSONResponse:
    if not stored.answers(request_hash):
        raise idempotency.reused()
    return JSONResponse(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})


def answer_once(
    session: Session, user: User, route: str, key: str | None, status: int, create: Any, *,
    request: BaseModel | None,
) -> JSONResponse:
    """Run ``create()`` (which returns a pydantic model) at most once per key. ``request``
    is the body the route read: the key is kept with its fingerprint, so a retry with
    the same body answers the first response again, and the same key with another body
    is refused 422 naming the header."""
    key = idempotency.check_key(key)
    request_hash = idempotency.fingerprint(request)
    if key is not None:
        stored = idempotency.lookup(session, user.id, route, key)
        if stored is not None:
            # Nothing was written: let go of the transaction (on SQLite, the write lock) now,
            # not when the request's session is closed after the answer is sent.
            session.rollback()
            return _replay(stored, request_hash)
    body = jsonable_encoder(create())
    if key is not None:
        idempotency.remember(session, user.id, route, key, status, body, request_hash)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer its result.
        session.rollback()
        stored = idempotency.lookup(session, user.id, route, key) if key else None
        if stored is None:
            raise
        return _replay(stored, request_hash)
    return JSONResponse(body, status_code=status)
