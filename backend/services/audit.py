"""The append-only audit log: every view of personal data and every change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.models import AuditEntry


def record(session: Session, user_id: int | None, action: str, entity: str, entity_id: int | None, **detail: Any) -> None:
    """Add an audit row in the caller's transaction (it commits with the change it records)."""
    session.add(AuditEntry(user_id=user_id, action=action, entity=entity, entity_id=entity_id, detail=detail))
