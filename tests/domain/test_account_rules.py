"""Pure account rules: delinquency buckets, card numbers (parts kept, masking),
outcome counts and contact validation, the simple priority."""

from __future__ import annotations

import math
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.domain.accounts import BUCKETS, bucket_for, card_parts, luhn_valid, mask_card, mask_card_numbers
from backend.domain.outcomes import OUTCOME_COUNTS, counts_for, validate_contact
from backend.domain.priority import simple_priority
from backend_client.models import Bucket, Outcome, Party, Result

# --------------------------------------------------------------------------
# Buckets


@pytest.mark.parametrize(("dpd", "bucket"), [
    (-5, "current"), (0, "current"), (1, "X"), (29, "X"), (30, "30"), (59, "30"), (60, "60"), (89, "60"), (90, "90"),
    (119, "90"), (120, "120"), (149, "120"), (150, "150"), (179, "150"), (180, "180+"), (10_000, "180+"),
])
def test_bucket_for(dpd: int, bucket: str) -> None:
    assert bucket_for(dpd) == bucket


def test_buckets_are_the_wire_buckets() -> None:
    assert list(BUCKETS) == [b.value for b in Bucket]


@given(a=st.integers(-10, 1000), b=st.integers(-10, 1000))
def test_buckets_rise_with_days_past_due(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert BUCKETS.index(bucket_for(lo)) <= BUCKETS.index(bucket_for(hi))


# --------------------------------------------------------------------------
# Cards


@pytest.mark.parametrize(("number", "parts"), [
    ("4111111111111111", ("411111", "1111")),
    ("4539 8273 6150 4821", ("453982", "4821")),
    ("3714-496353-98431", ("371449", "8431")),
    ("6011908765432109876", ("601190", "9876")),
    ("•••• •••• •••• 1234", ("", "1234")),
    ("**** **** **** 1234", ("", "1234")),
    ("411111******1234", ("411111", "1234")),
    ("XXXXXXXXXXXX5678", ("", "5678")),
    ("12345678", ("", "5678")),  # too short to have a BIN
])
def test_card_parts_keep_only_bin_and_last_four(number: str, parts: tuple[str, str]) -> None:
    assert card_parts(number) == parts


@pytest.mark.parametrize("number", [
    "", "1234567", "4111 1111 1111 111X", "41111111111111111111", "4111-1111-1111-11a1", "card 4111111111111111",
    "4111111111111111\x00", "٤١١١١١١١١١١١١١١١",
])
def test_card_parts_refuse_what_is_not_a_card(number: str) -> None:
    with pytest.raises(ValueError):
        card_parts(number)


@given(digits=st.text(alphabet="0123456789", min_size=12, max_size=19),
       separator=st.sampled_from(["", " ", "-"]))
def test_any_full_card_number_gives_its_bin_and_last_four(digits: str, separator: str) -> None:
    spaced = separator.join(digits[i:i + 4] for i in range(0, len(digits), 4))
    assert card_parts(spaced) == (digits[:6], digits[-4:])
    masked = mask_card(card_parts(spaced)[1])
    assert masked == f"•••• •••• •••• {digits[-4:]}"
    assert re.sub(r"\D", "", masked) == digits[-4:]


_words = st.text(st.characters(blacklist_categories=["Nd"]), max_size=20)


_SEPARATORS = [" ", "  ", ".", "-", "/", ",", "\n", "\u00a0", "\u200b", "\u3000", "\uff0d", " - ", ", ", ".\n"]
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@st.composite
def _card(draw: st.DrawFn) -> str:
    """A Luhn-valid card number of 13 to 19 digits."""
    body = draw(st.text(alphabet="0123456789", min_size=12, max_size=18))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


@st.composite
def _written(draw: st.DrawFn, digits: str) -> str:
    """``digits`` as a person might type or paste them: in groups, with spaces of any
    width, dots, dashes, slashes, commas or newlines between, some digits full-width."""
    out, i = [], 0
    while i < len(digits):
        size = draw(st.integers(1, 6)) if draw(st.booleans()) else len(digits)
        out.append(digits[i:i + size])
        i += size
    text = ""
    for n, group in enumerate(out):
        if n:
            text += draw(st.sampled_from(_SEPARATORS))
        text += group.translate(_FULL_WIDTH) if draw(st.integers(0, 4)) == 0 else group
    return text


@given(prefix=_words, card=_card(), suffix=_words, data=st.data())
def test_a_card_number_however_written_keeps_at_most_bin_and_last_four(prefix: str, card: str, suffix: str,
                                                                        data: st.DataObject) -> None:
    written = data.draw(_written(card))
    masked = mask_card_numbers(f"{prefix} {written} {suffix}")
    digits = "".join(str(unicodedata.decimal(c)) for c in masked if c.isdecimal())
    assert digits == card[:6] + card[-4:]
    assert f"{card[:6]}{'*' * (len(card) - 10)}{card[-4:]}" in masked


@given(cards=st.lists(_card(), min_size=2, max_size=4), data=st.data())
def test_cards_run_together_keep_no_middle(cards: list[str], data: st.DataObject) -> None:
    """Cards pasted one after another, with or without a break between them."""
    glue = data.draw(st.sampled_from(["", " ", "-", ", "]))
    masked = mask_card_numbers(glue.join(cards))
    digits = re.sub(r"\D", "", masked)
    assert all(card not in digits for card in cards)
    assert len(digits) <= 10 * len(cards)  # at most a BIN and a last four each


def test_numbers_that_are_not_cards_are_left_alone() -> None:
    for keep in ("ref 123456789012", "+12125550100", "call 212 555 0100", "2024-06-01 12:00",
                 "4539 8273 6150 4821", "paid 2026-03-11, 2026-04-11"):
        assert mask_card_numbers(keep) == keep


# --------------------------------------------------------------------------
# Outcomes


def test_every_outcome_says_what_it_counts_as() -> None:
    assert set(OUTCOME_COUNTS) == {o.value for o in Outcome}
    assert all(counts_for(o).worked for o in OUTCOME_COUNTS)
    # Busy and disconnected never connected; no answer, voicemail and a message left did.
    assert [o for o in OUTCOME_COUNTS if not counts_for(o).attempted] == ["BSY", "DISC"]
    assert {o for o in OUTCOME_COUNTS if counts_for(o).attempted} == {"NA", "VM", "LM", "WN", "TPC", "RPC"}
    assert {o for o in OUTCOME_COUNTS if counts_for(o).contacted} == {"TPC", "RPC"}


def test_an_unknown_outcome_is_an_error() -> None:
    with pytest.raises(KeyError):
        counts_for("XYZ")


@given(outcome=st.sampled_from([o.value for o in Outcome]), result=st.sampled_from([None] + [r.value for r in Result]),
       party=st.sampled_from([p.value for p in Party]), has_ptp=st.booleans(), has_callback=st.booleans())
def test_validate_contact_follows_the_spec(outcome: str, result: str | None, party: str, has_ptp: bool,
                                           has_callback: bool) -> None:
    fields = {f for f, _ in validate_contact(outcome, result, party, has_ptp, has_callback)}
    # SPEC §3: an RPC has a result, nothing else does.
    assert ("result" in fields) == ((outcome == "RPC") != (result is not None))
    # A promise amount and date go with PTP and only with it.
    assert ("ptp" in fields) == ((result == "PTP") != has_ptp)
    # A call back names a time.
    assert ("callback_at" in fields) == (result == "CB" and not has_callback)
    # A third-party contact is not with the debtor; a right-party contact is not with a third party.
    assert ("party" in fields) == ((outcome == "TPC" and party == "debtor") or (outcome == "RPC" and party == "third_party"))
    assert fields <= {"result", "ptp", "callback_at", "party"}


@pytest.mark.parametrize(("args", "fields"), [
    (("RPC", "PTP", "debtor", True, False), set()),
    (("RPC", "CB", "attorney", False, True), set()),
    (("NA", None, "debtor", False, False), set()),
    (("TPC", None, "third_party", False, False), set()),
    (("RPC", None, "debtor", False, False), {"result"}),
    (("RPC", "PTP", "third_party", False, False), {"ptp", "party"}),
])
def test_validate_contact_examples(args: tuple, fields: set[str]) -> None:
    assert {f for f, _ in validate_contact(*args)} == fields


# --------------------------------------------------------------------------
# Priority


def test_priority_examples() -> None:
    p = simple_priority(90, 50_000, 2)
    assert p.value == round(90 + 20 * math.log10(1 + 500.00), 2)  # days past due + the overdue amount, log scale
    assert [r.code for r in p.reasons] == ["dpd"]
    assert simple_priority(0, 0, 2).value == 0 and simple_priority(0, 0, 2).reasons == []
    assert "large_overdue" in {r.code for r in simple_priority(30, 1_000_000, 2).reasons}
    paused = simple_priority(170, 10**9, 2, paused=True, callback_due=True)
    assert paused.value == 0 and [r.code for r in paused.reasons] == ["paused"]


def test_actions_due_come_first_in_the_reasons_and_weigh_most() -> None:
    base = simple_priority(60, 10_000, 2).value
    callback = simple_priority(60, 10_000, 2, callback_due=True)
    broken = simple_priority(60, 10_000, 2, broken_promise=True)
    promise = simple_priority(60, 10_000, 2, promise_due=True)
    assert callback.value > broken.value > promise.value > base
    assert callback.reasons[0].code == "callback_due" and broken.reasons[0].code == "broken_promise"


def test_the_amount_is_in_major_units_whatever_the_currency() -> None:
    assert simple_priority(40, 100_000, 0).value == simple_priority(40, 100_000_00, 2).value == \
        simple_priority(40, 100_000_000, 3).value


@given(dpd=st.integers(-30, 400), extra_days=st.integers(0, 400), overdue=st.integers(0, 10**12),
       extra=st.integers(0, 10**12), exp=st.sampled_from([0, 2, 3]), flags=st.tuples(st.booleans(), st.booleans(), st.booleans()))
def test_priority_rises_with_days_amount_and_actions(dpd: int, extra_days: int, overdue: int, extra: int, exp: int,
                                                     flags: tuple[bool, bool, bool]) -> None:
    promise, broken, callback = flags
    p = simple_priority(dpd, overdue, exp, promise_due=promise, broken_promise=broken, callback_due=callback)
    assert p.value >= 0 and p.value == round(p.value, 2)
    assert simple_priority(dpd + extra_days, overdue, exp, promise_due=promise, broken_promise=broken,
                           callback_due=callback).value >= p.value
    assert simple_priority(dpd, overdue + extra, exp, promise_due=promise, broken_promise=broken,
                           callback_due=callback).value >= p.value
    assert simple_priority(dpd, overdue, exp).value <= p.value
    # Age stops counting at charge-off: the amount never outweighs 180 days by itself at ordinary sizes.
    assert simple_priority(10_000, overdue, exp).value == simple_priority(180, overdue, exp).value
