"""Pure rules about an account: buckets, card masking."""

from __future__ import annotations

import re
import unicodedata

from backend_client.vocabulary import Bucket

BUCKETS = tuple(b.value for b in Bucket)
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


# Card numbers in free text (SPEC §4, issue 15): however a card number is written,
# it keeps at most its BIN and last four digits before anything stores it.
SEPARATORS = frozenset(" .-/,_\u00a0\u2007\u202f\u3000\u200b\u200c\u200d\u2060\ufeff"
                       "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0c\uff0d\uff0e\uff0f\u3001\t\n\r\v\f")
"""What may stand between a card's digits: spaces of every width (no-break, ideographic,
zero-width), newlines, dots, dashes of every length, slashes, commas, full-width ones."""
MAX_GAP = 4
"""At most this many separators in a row between two digits of one number (``4539 - 8273``)."""
CARD_DIGITS = (13, 19)


def _digit(ch: str) -> int | None:
    """``ch`` as a decimal digit, any script's (full-width ``４`` is 4), else None."""
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if ch.isdecimal():
        try:
            return unicodedata.decimal(ch)
        except ValueError:
            return None
    return None


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _groups(text: str) -> list[list[tuple[int, int, str]]]:
    """Runs of digit groups, each group ``(start, end, digits)``: groups of one run are
    apart by at most ``MAX_GAP`` separators."""
    runs: list[list[tuple[int, int, str]]] = []
    run: list[tuple[int, int, str]] = []
    i, n = 0, len(text)
    while i < n:
        if _digit(text[i]) is None:
            i += 1
            continue
        start, digits = i, []
        while i < n and (d := _digit(text[i])) is not None:
            digits.append(chr(48 + d))
            i += 1
        gap_from = run[-1][1] if run else None
        if run and gap_from is not None and (start - gap_from > MAX_GAP
                                             or any(c not in SEPARATORS for c in text[gap_from:start])):
            runs.append(run)
            run = []
        run.append((start, i, "".join(digits)))
    if run:
        runs.append(run)
    return runs


def _masked(digits: str) -> str:
    return f"{digits[:6]}{'*' * (len(digits) - 10)}{digits[-4:]}"


def _has_card(digits: str) -> bool:
    low, high = CARD_DIGITS
    return any(luhn_valid(digits[a:a + size]) for size in range(low, high + 1)
               for a in range(0, len(digits) - size + 1))


def card_spans(text: str) -> list[tuple[int, int, str]]:
    """Where ``text`` holds a card number: ``(start, end, digits)`` spans to mask.

    A number is a Luhn-valid run of 13 to 19 digits that starts and ends where its
    writer broke it (a group's edge), or anywhere inside a group of more than six
    digits (numbers run together); a group of 13 digits or more that holds one
    anywhere (a card pasted twice) is masked whole."""
    low, high = CARD_DIGITS
    spans: list[tuple[int, int, str]] = []
    for run in _groups(text):
        chars: list[int] = []  # digit k of the run is text[chars[k]]
        starts: list[bool] = []
        ends: list[bool] = []
        digits = "".join(g[2] for g in run)
        bounds: list[tuple[int, int]] = []  # each group's first and last digit index in the run
        for start, _end, group in run:
            first = len(chars)
            size = len(group)
            for pos in range(size):
                chars.append(start + pos)  # one character per digit, whatever its script
                starts.append(pos == 0 or size > 6)
                ends.append(pos == size - 1 or size > 6)
            bounds.append((first, len(chars) - 1))
        if len(digits) < low:
            continue
        found: list[list[int]] = []
        k = 0
        while k < len(digits):
            hit = None
            if starts[k]:
                for size in range(high, low - 1, -1):
                    e = k + size - 1
                    if e < len(digits) and ends[e] and luhn_valid(digits[k:e + 1]):
                        hit = [k, e]
                        break
            if hit is None:
                k += 1
                continue
            found.append(hit)
            k = hit[1] + 1
        for first, last in bounds:
            if last - first + 1 >= low and _has_card(digits[first:last + 1]):
                touching = [f for f in found if f[0] <= last and f[1] >= first]
                if touching == [[first, last]]:
                    continue
                found = [f for f in found if f not in touching]
                found.append([min([first] + [f[0] for f in touching]), max([last] + [f[1] for f in touching])])
        for k, e in sorted(found):
            spans.append((chars[k], chars[e] + 1, digits[k:e + 1]))
    return spans


def mask_card_numbers(text: str) -> str:
    """Free text with every card number in it cut to its first six and last four digits,
    the most SPEC §4 allows, however it was written (spaces, dots, dashes, slashes,
    commas, newlines, no-break and zero-width spaces, full-width digits):
    ``"card 4539 8273 6150 4820"`` → ``"card 453982******4820"``."""
    if not text:
        return text
    spans = card_spans(text)
    if not spans:
        return text
    out, at = [], 0
    for start, end, digits in spans:
        out.append(text[at:start])
        out.append(_masked(digits))
        at = end
    out.append(text[at:])
    return "".join(out)
