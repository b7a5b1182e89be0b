"""Helpers shared by the scorecard tests."""

from __future__ import annotations

from decimal import Decimal


def history(row: dict[str, str]) -> dict:
    """A UCI row as the ``Account.history`` dict the backend stores."""
    return {
        "limit": int(Decimal(row["X1"])),
        "status": [int(Decimal(row[f"X{i}"])) for i in range(6, 12)],
        "bill": [int(Decimal(row[f"X{i}"])) for i in range(12, 18)],
        "paid": [int(Decimal(row[f"X{i}"])) for i in range(18, 24)],
    }
