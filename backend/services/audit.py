"""The append-only audit log: every view of personal data and every change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.domain.accounts import mask_card_numbers
from backend.models import AuditEntry


def _masked(value: Any) -> Any:
    """What was typed, as the audit may keep it: no card number but its BIN and last four."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    return value


def record(session: Session, user_id: int | None, action: str, entity: str, entity_id: int | None, **detail: Any) -> None:
    """Add an audit row in the caller's transaction (it commits with the change it records)."""
    session.add(AuditEntry(user_id=user_id, action=action, entity=entity, entity_id=entity_id,
                           detail=_masked(detail)))
