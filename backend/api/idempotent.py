"""Answering a create at most once per ``Idempotency-Key`` (SPEC §5), for every router."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.models import User
from backend.services import idempotency


def answer_once(
    session: Session, user: User, route: str, key: str | None, status: int, create: Any
) -> JSONResponse:
    """Run ``create()`` (which returns a pydantic model) at most once per key."""
    key = idempotency.check_key(key)
    if key is not None:
        stored = idempotency.lookup(session, user.id, route, key)
        if stored is not None:
            return JSONResponse(stored[1], status_code=stored[0], headers={"Idempotent-Replayed": "true"})
    body = jsonable_encoder(create())
    if key is not None:
        idempotency.remember(session, user.id, route, key, status, body)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent retry with the same key committed first: answer its result.
        session.rollback()
        stored = idempotency.lookup(session, user.id, route, key) if key else None
        if stored is None:
            raise
        return JSONResponse(stored[1], status_code=stored[0], headers={"Idempotent-Replayed": "true"})
    return JSONResponse(body, status_code=status)
