"""Card numbers never reach a log line.

The backend stores only a card's BIN and last four digits, and answers only the
last four; but a log line can carry what a client sent (a search for a pasted
card number in an access log's URL, a traceback quoting its input). Every log
record made in a backend process is masked as it is made: any run of 13 to 19
digits (spaces and dashes between them allowed) keeps its first six and last
four digits and loses the rest, which is at most what SPEC §4 allows.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.domain.accounts import mask_card_numbers as mask_cards

_formatter = logging.Formatter()


def mask_logged(text: str) -> str:
    """``text`` masked, and masked again as a URL would decode it (``q=4539%208273%20…``:
    an access log's query string); the decoded form is logged where it held a card."""
    text = mask_cards(text)
    if "%" in text or "+" in text:
        from urllib.parse import unquote_plus

        decoded = unquote_plus(text)
        masked = mask_cards(decoded)
        if masked != decoded:
            return masked
    return text


def _mask_arg(value: Any) -> Any:
    if isinstance(value, str):
        return mask_logged(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    # Anything else is formatted as a string; mask what it would print.
    text = str(value)
    masked = mask_logged(text)
    return value if masked == text else masked


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = mask_logged(record.msg)
    if isinstance(record.args, dict):
        record.args = {k: _mask_arg(v) for k, v in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_mask_arg(v) for v in record.args)
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set: format the traceback once, masked.
        record.exc_text = mask_cards(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = mask_cards(record.stack_info)
    return record


def install() -> None:
    """Mask every log record made from now on in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "collectdesk_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(current(*args, **kwargs))

    factory.collectdesk_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
