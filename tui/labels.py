"""Words for the codes that travel on the wire: outcomes, results, reasons,
channels, flags, compliance rules and the worklist's reasons (``Why``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tui.i18n import N_, _

if TYPE_CHECKING:
    from backend_client.models import ComplianceBlock, LimitCount, Place, Why
    from tui.store import Waiting

BUCKETS: tuple[str, ...] = ("current", "X", "30", "60", "90", "120", "150", "180+")
"""The delinquency buckets in order (``backend_client.models.Bucket``'s values), shown by their names."""

BUCKET_NAMES: dict[str, str] = {"current": N_("current")}
"""The buckets with a name in words (the others are codes: ``X``, ``30``… ``180+``)."""


def bucket_name(code: object) -> str:
    """A bucket as the desk shows it: ``current`` in the desk's language, the others by their code."""
    value = str(getattr(code, "value", code))
    return _(BUCKET_NAMES[value]) if value in BUCKET_NAMES else value

OUTCOMES: dict[str, str] = {
    "RPC": N_("right party"),
    "NA": N_("no answer"),
    "BSY": N_("busy"),
    "VM": N_("voicemail"),
    "LM": N_("message left"),
    "WN": N_("wrong number"),
    "DISC": N_("disconnected"),
    "TPC": N_("third party"),
}

RESULTS: dict[str, str] = {
    "PTP": N_("promise to pay"),
    "PLAN": N_("plan"),
    "PAID": N_("paid"),
    "RTP": N_("refused to pay"),
    "DISP": N_("dispute"),
    "HARD": N_("hardship"),
    "CB": N_("call back"),
    "CEASE": N_("cease contact"),
    "ATTY": N_("has attorney"),
    "BK": N_("bankruptcy"),
    "COMP": N_("complaint"),
}

REASONS: dict[str, str] = {
    "job_loss": N_("job loss or income cut"),
    "illness": N_("illness"),
    "over_indebted": N_("over-indebted"),
    "forgot": N_("forgot"),
    "merchant_dispute": N_("dispute with merchant"),
    "fraud_claim": N_("fraud claim"),
    "business_failure": N_("business failure"),
    "family_emergency": N_("family emergency"),
    "disaster": N_("disaster"),
    "unwilling": N_("unwilling"),
    "other": N_("other"),
}

CHANNELS: dict[str, str] = {
    "phone": N_("phone"),
    "email": N_("e-mail"),
    "sms": N_("SMS"),
    "letter": N_("letter"),
    "visit": N_("visit"),
}

MESSAGE_CHANNELS: dict[str, str] = {"email": N_("e-mail"), "sms": N_("SMS")}
"""The channels a message goes on by hand (issue 20 item 6)."""

MESSAGE_TEMPLATES: dict[str, str] = {
    "reminder_email": N_("Reminder: payment past due"),
    "pre_due_email": N_("Reminder before the due date"),
    "reminder_sms": N_("Reminder: payment past due"),
    "pre_due_sms": N_("Reminder before the due date"),
    "broken_promise_sms": N_("Promise to pay not kept"),
}
"""A message template's title (its file's name where it has none here)."""

MESSAGE_LANGS: dict[str, str] = {"en": N_("English"), "zh_CN": N_("Chinese")}

DIRECTIONS: dict[str, str] = {"outbound": N_("outbound"), "inbound": N_("inbound")}

PARTIES: dict[str, str] = {"debtor": N_("debtor"), "third_party": N_("third party"), "attorney": N_("attorney")}

FLAGS: dict[str, str] = {
    "cease": N_("cease"),
    "dispute": N_("dispute"),
    "bankruptcy": N_("bankruptcy"),
    "deceased": N_("deceased"),
    "attorney": N_("attorney"),
    "complaint": N_("complaint"),
    "fraud": N_("fraud"),
    "hardship": N_("hardship"),
}

STATUSES: dict[str, str] = {
    "open": N_("open"),
    "closed": N_("closed"),
    "charged_off": N_("charged off"),
    "legal": N_("legal"),
}

RULES: dict[str, str] = {
    "call-window": N_("outside the customer's calling hours"),
    "frequency": N_("the call limit is reached"),
    "quiet-days": N_("quiet days after a conversation"),
    "cease": N_("the customer asked us to stop"),
    "opt-out": N_("the customer opted out"),
    "do-not-call": N_("do not call this number"),
    "third-party": N_("third party: location only"),
    "attorney": N_("contact the attorney only"),
    "disclosure": N_("identity and disclosure first"),
    "paused": N_("collection paused"),
    "legal": N_("accepted for legal proceedings: legal officers only"),
    "no-address": N_("no postal address on record"),
}

TIMELINE_KINDS: dict[str, str] = {
    "contact": N_("contact"),
    "note": N_("note"),
    "plan": N_("plan"),
    "payment": N_("payment"),
    "escalation": N_("escalation"),
    "change": N_("change"),
    "handoff": N_("handoff"),
    "flag": N_("flag"),
}

PHONE_KINDS: dict[str, str] = {
    "home": N_("home"),
    "mobile": N_("mobile"),
    "work": N_("work"),
    "other": N_("other"),
}
"""What a number is (``PhoneOut.kind``): some policies count calls per kind."""

PLACES: dict[str, str] = {
    "America/New_York": N_("New York"),
    "America/Los_Angeles": N_("Los Angeles"),
    "America/Chicago": N_("Chicago"),
    "America/Denver": N_("Denver"),
    "America/Phoenix": N_("Phoenix"),
    "America/Anchorage": N_("Anchorage"),
    "Pacific/Honolulu": N_("Honolulu"),
    "Asia/Shanghai": N_("Shanghai"),
    "Asia/Hong_Kong": N_("Hong Kong"),
    "Asia/Taipei": N_("Taipei"),
    "Asia/Singapore": N_("Singapore"),
    "Europe/London": N_("London"),
}
"""The common zones' places in the desk's language; others keep the backend's English label."""

PLACE_SOURCES: dict[str, str] = {
    "customer": N_("customer"),
    "record": N_("record"),
    "phone": N_("phone"),
    "address": N_("address"),
    "country": N_("country"),
}
"""What on the account points to a place (``Place.sources``), in the order they weigh."""

_WHY: dict[str, str] = {
    "dpd": N_("{days} days past due"),
    "large_overdue": N_("large overdue amount"),
    "promise_due": N_("promise due"),
    "broken_promise": N_("broken promise"),
    "callback_due": N_("call back due"),
    "worked_recently": N_("worked recently"),
    "paused": N_("collection paused: {flag}"),
    "cease": N_("cease: {channel}"),
    "do_not_call": N_("do not call"),
    "outside_hours": N_("outside calling hours"),
    "contactable": N_("may be called now"),
    "expected_recovery": N_("{percent} % likely to pay the overdue amount"),
    "current": N_("not past due"),
    "newly_rolled": N_("rolled into bucket {bucket}"),
    "never_contacted": N_("never contacted"),
    "days_since_contact": N_("{days} days since the last contact"),
}


FORMS: dict[str, str] = {
    "call": N_("call"),
    "note": N_("note"),
    "plan": N_("plan"),
    "escalation": N_("escalation"),
}
"""The desk's forms that keep a draft (``Drafts.key``'s last part)."""


def kept(waiting: Waiting, account_id: int) -> str:
    """What this machine keeps for the account, in words: ``⧗ 2 unsent · ✎ draft``."""
    parts = []
    if unsent := waiting.unsent.get(account_id):
        parts.append("⧗ " + _("{count} unsent").format(count=unsent))
    if refused := waiting.refused_for.get(account_id):
        parts.append("⧗ " + _("{count} refused").format(count=refused))
    if account_id in waiting.drafts:
        parts.append("✎ " + _("draft"))
    return " · ".join(parts)


def drafts_line(forms: Sequence[str]) -> str:
    """``✎ draft: call, note``: the forms of an account with a draft."""
    if not forms:
        return ""
    return "✎ " + _("draft: {forms}").format(forms=listing([label(FORMS, f) for f in forms], last_and=False))


def label(table: dict[str, str], code: str | None) -> str:
    """The translated word for ``code`` in ``table``; the code itself when unknown."""
    if code is None:
        return "—"
    code = str(code)
    return _(table[code]) if code in table else code


def term(message: str) -> str:
    """A word marked with ``N_`` where it is defined (a screen's ``NOUN``), in the desk's language."""
    return _(message)


def rule(code: str | None) -> str:
    if code and code.startswith("pause-"):
        return _("collection paused: {flag}").format(flag=label(FLAGS, code.removeprefix("pause-")))
    return label(RULES, code)


def why(reason: Why) -> str:
    """A worklist reason in the desk's language, from its code and parameters."""
    template = _WHY.get(reason.code)
    if template is None:
        return scorecard_why(reason) or reason.text
    if reason.code == "broken_promise" and "date" in reason.params:
        return _broken(reason)
    params = {k: str(v) for k, v in reason.params.items()}
    if "flag" in params:
        params["flag"] = label(FLAGS, params["flag"])
    if "channel" in params:
        params["channel"] = label(CHANNELS, params["channel"])
    try:
        return _(template).format(**params)
    except (KeyError, IndexError, ValueError):
        return reason.text


def _broken(reason: Why) -> str:
    """``promise of $250.50 broken on Mar 14, 2026`` / ``instalments plan broken on …``."""
    from backend_client.models import Money
    from tui import fmt

    p = reason.params
    try:
        on = fmt.date(dt.date.fromisoformat(str(p["date"])))
        if p.get("kind") == "promise":
            amount = fmt.money(Money(amount_minor=int(p["amount_minor"]), currency=str(p["currency"])))
            return _("promise of {amount} broken on {date}").format(amount=amount, date=on)
        return _("{kind} plan broken on {date}").format(kind=label(PLAN_KINDS, str(p.get("kind"))), date=on)
    except (KeyError, ValueError, TypeError):
        return reason.text


def listing(items: Sequence[str], *, last_and: bool = True) -> str:
    """``A``, ``A and B``, ``A, B and C`` (``A、B和C``); ``A, B, C`` without ``last_and``."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    head = items[0]
    for item in items[1:-1]:
        head = _("{first}, {next}").format(first=head, next=item)
    if not last_and:
        return _("{first}, {next}").format(first=head, next=items[-1])
    return _("{first} and {last}").format(first=head, last=items[-1])


def place_name(zone: str, english: str | None = None) -> str:
    """A zone's place in the desk's language: ``America/New_York`` → ``New York`` / ``纽约``;
    a zone not in ``PLACES`` keeps ``english`` (the backend's label), else its city."""
    if zone in PLACES:
        return _(PLACES[zone])
    return english or zone.rsplit("/", 1)[-1].replace("_", " ")


def ordered_places(places: Sequence[Place]) -> list[Place]:
    """The places by what points to them: a confirmed zone, the record, phones, the address, the country."""
    rank = {source: n for n, source in enumerate(PLACE_SOURCES)}
    return sorted(places, key=lambda p: min((rank.get(s, len(rank)) for s in p.sources), default=len(rank)))


def places_text(places: Sequence[Place], *, sources: bool = True) -> str:
    """``New York (phone) and Los Angeles (address)`` (``纽约（电话）和洛杉矶（地址）``)."""
    parts = []
    for place in ordered_places(places):
        name = place_name(place.zone, place.label)
        if sources and place.sources:
            name = _("{place} ({sources})").format(
                place=name, sources=listing([label(PLACE_SOURCES, s) for s in place.sources], last_and=False))
        parts.append(name)
    return listing(parts)


def count_text(count: LimitCount) -> str:
    """``5 of 7 this week`` for a 7-day limit, ``1 of 2 in 30 days`` otherwise."""
    if count.days == 7:
        return _("{counted} of {max} this week").format(counted=count.counted, max=count.max)
    return _("{counted} of {max} in {days} days").format(counted=count.counted, max=count.max, days=count.days)


def verdict(allowed: bool, next_at: dt.datetime | None, blocks: Sequence[ComplianceBlock], tz: dt.tzinfo, *,
            now: dt.datetime | None = None, places: Sequence[Place] = (), counts: Sequence[LimitCount] = (),
            next_zone: str | None = None) -> str:
    """The compliance verdict in one line, rules first: ``✗ Not now: outside the
    customer's calling hours · lawful from 11:00 (08:00 Los Angeles) · New York (phone)
    and Los Angeles (address) · 2 of 7 this week``.

    ``tz`` is the agent's zone; with ``now`` a time on the agent's (or the customer's)
    today shows without its date. ``places``, ``counts`` and ``next_zone`` are a full
    verdict's (``ComplianceVerdict``): where the call window was intersected, what the
    tightest frequency limit has counted, and whose window opens at ``next_at``."""
    from tui import fmt

    no_hour = (not allowed and len(places) > 1
               and any(b.rule == "call-window" and b.until is None for b in blocks))
    if allowed:
        parts = ["✓ " + _("May be called now")]
    else:
        rules = " · ".join(dict.fromkeys(rule(b.rule) for b in blocks
                                         if not (no_hour and b.rule == "call-window")))
        if no_hour:
            parts = ["✗ " + _("No lawful hour: {places} share none").format(places=places_text(places, sources=False))]
            if rules:
                parts.append(rules)
        else:
            parts = ["✗ " + (_("Not now: {rules}").format(rules=rules) if rules else _("Not now"))]
        if next_at is not None:
            when = fmt.when(next_at, tz, now=now)
            if next_zone:
                english = next((p.label for p in places if p.zone == next_zone), None)
                parts.append(_("lawful from {when} ({local} {place})").format(
                    when=when, local=fmt.when(next_at, fmt.zone(next_zone), now=now),
                    place=place_name(next_zone, english)))
            else:
                parts.append(_("lawful from {when}").format(when=when))
        elif not no_hour:
            parts.append(_("not until the record changes"))
    if places and not no_hour:
        parts.append(places_text(places))
    if counts:
        parts.append(count_text(counts[0]))
    return " · ".join(parts)


PLAN_KINDS: dict[str, str] = {
    "promise": N_("promise"),
    "instalment": N_("instalments"),
    "minimum": N_("minimum due"),
    "settlement": N_("settlement"),
}

PLAN_STATUSES: dict[str, str] = {
    "draft": N_("draft"),
    "pending": N_("pending approval"),
    "active": N_("active"),
    "kept": N_("kept"),
    "broken": N_("broken"),
    "cancelled": N_("cancelled"),
    "rejected": N_("rejected"),
}

FREQUENCIES: dict[str, str] = {"monthly": N_("monthly"), "fortnightly": N_("fortnightly")}

LIMITS: dict[str, str] = {
    "discount": N_("discount"),
    "term": N_("term"),
    "first_payment_date": N_("first payment date"),
    "first_payment_amount": N_("first payment amount"),
}
"""The authority limits a plan can go beyond (``LimitBreach.limit``)."""

PLAN_FIELDS: dict[str, str] = {
    "kind": N_("kind"),
    "amount": N_("amount"),
    "count": N_("payments"),
    "frequency": N_("frequency"),
    "first_due": N_("first due"),
    "discount_percent": N_("discount"),
    "note": N_("note"),
}
"""The fields of a plan, as the backend names them in its errors."""

_LIMIT_VALUES: tuple[tuple[str, str], ...] = (
    (r"^(?P<n>\d+) months?$", N_("{n} months")),
    (r"^within (?P<n>\d+) days?$", N_("within {n} days")),
    (r"^in (?P<n>-?\d+) days?$", N_("in {n} days")),
    (r"^at least (?P<amount>.+)$", N_("at least {amount}")),
)


def limit_value(text: str) -> str:
    """A limit's allowed or asked value (the backend's words: ``within 14 days``,
    ``at least 100.00 USD``, ``20.00 %``) in the desk's language, money as money."""
    import re

    raw = text.strip()
    for pattern, template in _LIMIT_VALUES:
        match = re.match(pattern, raw)
        if match:
            params = {k: _money_words(v) for k, v in match.groupdict().items()}
            return _(template).format(**params)
    return _money_words(raw)


def _money_words(text: str) -> str:
    """``100.00 USD`` → ``$100.00``; anything else as it is."""
    import re
    from decimal import Decimal, InvalidOperation

    match = re.match(r"^(-?\d+(?:\.\d+)?) ([A-Z]{3})$", text.strip())
    if not match:
        return re.sub(r"(\d) %$", r"\1%", text)  # 20.00 % → 20.00%: one word, never split
    from tui import fmt

    try:
        return fmt.amount(Decimal(match.group(1)), match.group(2))
    except (InvalidOperation, ValueError):
        return text


def breach(b: object) -> str:
    """``discount: allowed 10 %, asked 20.00 %`` in the desk's language."""
    limit = getattr(b, "limit", "")
    return _("{limit}: allowed {allowed}, asked {actual}").format(
        limit=label(LIMITS, limit), allowed=limit_value(getattr(b, "allowed", "")),
        actual=limit_value(getattr(b, "actual", "")))

ESCALATION_KINDS: dict[str, str] = {
    "legal": N_("legal"),
    "supervisor": N_("supervisor"),
    "complaint": N_("complaint"),
    "dispute": N_("dispute"),
    "hardship": N_("hardship"),
    "fraud": N_("fraud"),
    "agency": N_("agency"),
}

ESCALATION_STATUSES: dict[str, str] = {
    "open": N_("opened"),
    "in_review": N_("in review"),
    "accepted": N_("accepted"),
    "returned": N_("returned"),
    "closed": N_("closed"),
}

DOCUMENT_KINDS: dict[str, str] = {
    "demand_letter": N_("demand letter"),
    "statement": N_("statement of account"),
    "contact_history": N_("contact history"),
    "plan_history": N_("plan history"),
    "reminder_letter": N_("reminder letter"),
    "please_call_letter": N_("please-call letter"),
}

DOCUMENT_SHORT: dict[str, str] = {
    "demand_letter": N_("demand letter"),
    "statement": N_("statement"),
    "contact_history": N_("contacts"),
    "plan_history": N_("plans"),
}
"""The documents of a legal pack, in a word or two (to choose one on a line)."""

_MISSING: tuple[tuple[str, str], ...] = (
    (r"^days past due: (?P<dpd>\d+); a legal referral needs at least (?P<least>\d+)$",
     N_("Days past due: {dpd}; a legal referral needs at least {least}.")),
    (r"^documented contact attempts: (?P<count>\d+); a legal referral needs at least (?P<least>\d+)$",
     N_("Documented contact attempts: {count}; a legal referral needs at least {least}.")),
    (r"^demand letter: none sent; one must be sent at least (?P<days>\d+) days before a legal referral$",
     N_("Demand letter: none sent; one must be sent at least {days} days before a legal referral.")),
    (r"^demand letter: the last was sent (?P<age>\d+) days? ago; a legal referral needs one sent at least "
     r"(?P<days>\d+) days earlier$",
     N_("Demand letter: the last was sent {age} days ago; a legal referral needs one sent at least {days} days "
        "earlier.")),
)


def missing(text: str) -> str:
    """What a legal referral lacks (the backend's words in ``missing``) in the desk's
    language; words the desk does not know are shown as the backend wrote them."""
    import re

    for pattern, template in _MISSING:
        match = re.match(pattern, text.strip())
        if match:
            return _(template).format(**match.groupdict())
    return text


# -- the scorecard's reasons ------------------------------------------------------
# A scorecard reason (backend/scoring, ``scorecard.json``) names the bin an account
# falls in: its code is the feature, or two joined by ``+`` for a grid, and its
# parameters the bin's edges (a grid's under ``feature.``). Amounts come in the
# account's own money (``currency``, ``over_minor``, ``max_minor``: issue 17 item 3).


def _months_status(p: dict, *, now: bool, window: int = 6) -> str | None:
    """Repayment status: now, or the worst of the last ``window`` months."""
    lo, hi = p.get("min_status"), p.get("max_status")
    if "months" in p:
        months = int(p["months"])
        if now:
            return _("1 month late now") if months == 1 else _("{months} months late now").format(months=months)
        if months == 1:
            return _("1 month late at worst in the last {window} months").format(window=window)
        return _("{months} months late at worst in the last {window} months").format(months=months, window=window)
    if "min_months" in p:
        months = int(p["min_months"])
        if now:
            return _("{months} or more months late now").format(months=months)
        return _("{months} or more months late at worst in the last {window} months").format(
            months=months, window=window)
    if lo is None or hi is None:
        return None
    lo, hi = int(lo), int(hi)
    if now:
        words = {(-2, -2): N_("card not used now"), (-1, -1): N_("paid in full now"),
                 (0, 0): N_("paid the minimum now")}.get((lo, hi), N_("not late now"))
        return _(words)
    if (lo, hi) == (-2, -2):
        return _("card not used in the last {window} months").format(window=window)
    if (lo, hi) == (-1, -1):
        return _("always paid in full or card not used in the last {window} months").format(window=window)
    if (lo, hi) == (0, 0):
        return _("never late but not always paid in full in the last {window} months").format(window=window)
    return _("never late in the last {window} months").format(window=window)


def _count(p: dict) -> str | None:
    """``2``, ``2–3``, ``12 or more`` from a bin's ``min`` and ``max``."""
    if "min" not in p:
        return None
    lo = int(p["min"])
    if "max" not in p:
        return _("{count} or more").format(count=lo)
    hi = int(p["max"])
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _late_total(p: dict) -> str | None:
    if p.get("min") == 0 and p.get("max") == 0:
        return _("never late in the last {window} months").format(window=6)
    count = _count(p)
    return None if count is None else _("months late add up to {count} over the last 6 statements").format(count=count)


def _unpaid(p: dict) -> str | None:
    if p.get("min") == 0 and p.get("max") == 0:
        return _("paid something towards every bill")
    count = _count(p)
    return None if count is None else _("paid nothing in {count} of the last 5 months").format(count=count)


def _pct_span(p: dict, up_to: str, between: str, over: str, nothing: str) -> str | None:
    """A share (``over_pct``–``max_pct``) in one of four phrasings."""
    lo, hi = p.get("over_pct"), p.get("max_pct")
    if hi is not None and float(hi) <= 0 and lo is None:
        return _(nothing)

    def pct(value: object) -> str:  # the sign in the value, not the message: babel reads "% o" as %-format
        return _("{value} %").format(value=value)

    if lo is not None and hi is not None and float(lo) > 0:
        return _(between).format(over=pct(lo), max=pct(hi))
    if hi is not None:
        return _(up_to).format(max=pct(hi))
    if lo is not None:
        return _(over).format(over=pct(lo))
    return None


def _util_now(p: dict) -> str | None:
    return _pct_span(p, N_("balance at up to {max} of limit"), N_("balance at {over}–{max} of limit"),
                     N_("balance at over {over} of limit"), N_("no balance owed"))


def _util_max(p: dict) -> str | None:
    return _pct_span(p, N_("highest balance in 6 months at up to {max} of limit"),
                     N_("highest balance in 6 months at {over}–{max} of limit"),
                     N_("highest balance in 6 months at over {over} of limit"),
                     N_("no balance owed in the last 6 months"))


def _paid_share(p: dict) -> str | None:
    if p.get("no_bill"):
        return _("no bill to pay last month")
    return _pct_span(p, N_("paid up to {max} of the last bill"), N_("paid {over}–{max} of the last bill"),
                     N_("paid over {over} of the last bill"), N_("paid nothing towards the last bill"))


def _money_span(p: dict, up_to: str, between: str, over: str, unsaid: str) -> str | None:
    """An amount bin in the account's money; without a currency, the words without the amount."""
    from backend_client.models import Money
    from tui import fmt

    currency = p.get("currency")
    if not currency:
        return _(unsaid)
    currency = str(currency)

    def edge(name: str) -> str | None:
        if name + "_minor" in p:
            minor = int(p[name + "_minor"])
        elif name in p:  # a reason from before amounts came in minor units: whole units
            from backend_client.money import exponent

            minor = int(round(float(p[name]) * 10 ** exponent(currency)))
        else:
            return None
        return fmt.money(Money(amount_minor=minor, currency=currency))

    lo, hi = edge("over"), edge("max")
    if lo is not None and hi is not None:
        return _(between).format(over=lo, max=hi)
    if hi is not None:
        return _(up_to).format(max=hi)
    if lo is not None:
        return _(over).format(over=lo)
    return _(unsaid)


def _paid_avg(p: dict) -> str | None:
    return _money_span(p, N_("paid up to {max} a month on average"), N_("paid {over}–{max} a month on average"),
                       N_("paid over {over} a month on average"), N_("how much was paid a month on average"))


def _spend_avg(p: dict) -> str | None:
    return _money_span(p, N_("new spending up to {max} a month"), N_("new spending {over}–{max} a month"),
                       N_("new spending over {over} a month"), N_("new spending a month"))


def _spend_now(p: dict) -> str | None:
    return _money_span(p, N_("new spending up to {max} this month"), N_("new spending {over}–{max} this month"),
                       N_("new spending over {over} this month"), N_("new spending this month"))


def _balance_now(p: dict) -> str | None:
    return _money_span(p, N_("balance up to {max}"), N_("balance {over}–{max}"), N_("balance over {over}"),
                       N_("the balance"))


_SCORECARD: dict[str, Callable[[dict], str | None]] = {
    "status_now": lambda p: _months_status(p, now=True),
    "worst_status_3m": lambda p: _months_status(p, now=False, window=3),
    "worst_status_6m": lambda p: _months_status(p, now=False, window=6),
    "late_months_total_6m": _late_total,
    "months_unpaid_5m": _unpaid,
    "utilisation_now": _util_now,
    "utilisation_max_6m": _util_max,
    "paid_share_of_bill_now": _paid_share,
    "paid_avg": _paid_avg,
    "new_spending_avg": _spend_avg,
    "new_spending_now": _spend_now,
    "balance_now": _balance_now,
}
"""The scorecard's features that reasons name, each read from its bin's parameters."""


def scorecard_why(reason: Why) -> str | None:
    """A scorecard reason in the desk's language; None for a feature this desk does not know."""
    features = reason.code.split("+")
    if not all(f in _SCORECARD for f in features):
        return None
    parts = []
    try:
        for feature in features:
            if len(features) > 1:
                prefix = feature + "."
                params = {k[len(prefix):]: v for k, v in reason.params.items() if k.startswith(prefix)}
            else:
                params = dict(reason.params)
            words = _SCORECARD[feature](params)
            if words is None:
                return None
            parts.append(words)
    except (TypeError, ValueError, KeyError):
        return None
    return listing(parts, last_and=False)


# -- treatments (issue 20) ----------------------------------------------------------

SEND_STATUSES: dict[str, str] = {
    "pending": N_("to send"),
    "waiting": N_("waiting"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "unknown": N_("unknown"),
}
"""A treatment message's status (``backend_client.models.SendStatus``), in words."""

STRATEGIES: dict[str, str] = {"champion": N_("champion"), "challenger": N_("challenger")}

RUN_COUNTS: dict[str, str] = {
    **SEND_STATUSES,
    "planned": N_("planned"),
    "retry": N_("to retry"),
    "paused": N_("paused"),
    "outage": N_("channel down"),
    "not configured": N_("not configured"),
}
"""What a treatment run counts (``TreatmentRunOut.counts``), in words."""

TREATMENT_RULES: dict[str, str] = {
    "closed": N_("the account is closed"),
    "template": N_("the template or a setting is wrong"),
    "outage": N_("the channel is down"),
    "retry": N_("the channel failed; tried again later"),
    "refused": N_("the channel refused it"),
    "unknown": N_("the sender stopped while sending; not sent again"),
}
"""The treatments' own reasons (the compliance rules' are ``RULES``)."""

_TRIGGERS: dict[str, str] = {
    "days_past_due": N_("DPD {n}"),
    "days_before_due": N_("due −{n}d"),
    "after_broken_promise_days": N_("broken +{n}d"),
    "after_failed_calls": N_("failed ×{n}"),
}


def treatment_rule(code: str | None) -> str:
    """Why a treatment message waits, was skipped or failed, in words."""
    if code in TREATMENT_RULES:
        return _(TREATMENT_RULES[code])
    return rule(code) if code else ""


def treatment_when(when: str) -> str:
    """A step's trigger (``days_past_due 5``) in a few cells: ``DPD 5``, ``due −3d``."""
    trigger, _space, number = when.partition(" ")
    template = _TRIGGERS.get(trigger)
    return _(template).format(n=number) if template else when
