"""Pure rules about an account: buckets, card masking."""

from __future__ import annotations

import re

BUCKETS = ("current", "X", "30", "60", "90", "120", "150", "180+")
CHARGE_OFF_DPD = 180


def bucket_for(dpd: int) -> str:
    """Delinquency bucket for days past due: ``current``, ``X`` (1–29), ``30`` … ``180+``."""
    if dpd <= 0:
        return "current"
    if dpd < 30:
        return "X"
    if dpd >= CHARGE_OFF_DPD:
        return "180+"
    return str((dpd // 30) * 30)


def card_parts(card_number: str) -> tuple[str, str]:
    """``(bin, last4)`` from a full or masked card number; the rest is dropped.

    A masked number must show its last four digits; its BIN is kept only when
    its first six characters are digits.
    """
    compact = re.sub(r"[\s-]", "", card_number)
    if not re.fullmatch(r"[0-9•*Xx#]{8,19}", compact):
        raise ValueError("card number must be 8 to 19 digits, optionally masked with • * X or #")
    last4 = compact[-4:]
    if not last4.isdigit():
        raise ValueError("card number must end with its last four digits")
    head = compact[:6]
    bin_ = head if head.isdigit() and len(compact) >= 12 else ""
    return bin_, last4


def mask_card(last4: str) -> str:
    """The only form a card number takes outside the backend: ``•••• •••• •••• 1234``."""
    return f"•••• •••• •••• {last4}"


# A run of 13 digits or more, spaces or dashes allowed between them: what a card
# number looks like when it is pasted into free text or a URL (longer runs too:
# a card pasted twice, or run into other digits, must not survive in the middle).
CARDISH = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,}(?![0-9])")


def _mask_run(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def mask_card_numbers(text: str) -> str:
    """Free text with every card-like run of digits cut to its first six and last four, the most
    SPEC §4 allows: ``"card 4539 8273 6150 4821"`` → ``"card 453982******4821"``."""
    return CARDISH.sub(_mask_run, text)
