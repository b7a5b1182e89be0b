"""Treatments (issue 20): the reminders each strategy sends by itself, found due, checked
against the law at the moment they go, sent once, and recorded as contacts.

A run has two parts.

- **Planning** (once a day, ``as_of``): every open account's strategy path is asked what is
  due (``backend.domain.treatments.due_today``), from the account's facts and what its cycle
  has already had; each step due becomes a ``treatment_sends`` row whose key (account, step,
  cycle) is unique, so no run, worker or host can make it twice.
- **Sending** (every run): each row pending, or waiting and whose lawful minute has come, is
  checked by the compliance engine for its channel *at that instant* (windows in the
  customer's zones, cease per channel, pauses, legal hold, frequency), rendered in the
  customer's language and handed to its channel. Not lawful now but later: it waits for the
  next lawful minute. Never lawful (cease, legal hold, nothing to send to): skipped, with the
  rule. A channel that fails for now is tried again with back-off; one whose settings are
  wrong is an outage: nothing more goes on it this run and its rows wait, uncounted against
  the customer. A row is marked ``sending`` (committed) before the channel is called; a
  process that dies then leaves it ``unknown``, never sent again: at most once, so never twice.

Each message sent is an outbound contact on the account's timeline (outcome ``LM``, a
message left) with what was sent as its note, by the ``treatments`` user (inactive: it
cannot sign in). A step skipped or failed for good counts as done for what follows it, so
a customer who ceased texts still gets the e-mail and the letter after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.channels.result import Outcome, SendResult
from backend.domain.accounts import mask_card_numbers
from backend.domain.strategy import Split, Strategy
from backend.domain.treatments import AccountFacts, Step, cycle_for, due_today
from backend.models import (
    Account,
    Contact,
    Plan,
    PlanItem,
    TreatmentPause,
    TreatmentRun,
    TreatmentSend,
    User,
    utcnow,
)
from backend.services import audit, compliance
from backend.services.configuration import current as configuration

if TYPE_CHECKING:
    from email.message import EmailMessage

    from config.settings import BackendSettings

log = logging.getLogger(__name__)

SYSTEM_USERNAME = "treatments"
"""The user the treatments' contacts name: inactive, so no one can sign in as it."""

FAILED_CALL_OUTCOMES = ("NA", "BSY", "VM", "LM", "WN", "DISC", "TPC")
"""Calls that did not reach the customer: counted for ``after_failed_calls``."""

MESSAGE_OUTCOME = "LM"
"""A reminder is a message left for the customer (as a letter is)."""

DONE = ("sent", "skipped", "failed", "unknown")
"""A row in one of these is settled: its step counts as done for what follows."""

OPEN = ("pending", "waiting")

MAX_ATTEMPTS = 8
"""Temporary failures before a row fails for good (about a day with the back-off below)."""

FIRST_BACKOFF = dt.timedelta(minutes=5)
LONGEST_BACKOFF = dt.timedelta(hours=6)

STUCK_AFTER = dt.timedelta(minutes=15)
"""A row ``sending`` for longer was left by a process that died: ``unknown``, never resent."""

BATCH = 1000


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th temporary failure: 5 min, 10, 20, ... at most 6 h."""
    return min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), LONGEST_BACKOFF)


def message_lang(language: str | None, country: str | None = None) -> str:
    """The template language for a customer: ``zh_CN`` for one whose language is Chinese, or
    who has none on record and lives in mainland China; ``en`` for everyone else (the two every
    e-mail and SMS template is written in; Taiwan and Hong Kong would want traditional script,
    which no message template has yet, so they get English unless their language says Chinese)."""
    if language:
        return "zh_CN" if language.lower().startswith("zh") else "en"
    return "zh_CN" if (country or "").upper() == "CN" else "en"


# --------------------------------------------------------------------------- channels


@dataclass
class Channels:
    """What sends: functions, so that a bench can prepare and check without sending, and the
    tests send to real servers on loopback. ``None``: that channel is not configured (its
    steps stay pending, reported as such)."""

    email: Callable[[EmailMessage], SendResult] | None
    sms: Callable[[str, str, str], SendResult] | None
    """(to, text, key) → what became of it."""
    email_from: str = ""
    opt_out_url: str = ""

    @classmethod
    def from_settings(cls, settings: BackendSettings) -> Channels:
        from backend.channels import email

        mail = None
        if settings.smtp_host and settings.smtp_from:
            def mail(message: EmailMessage) -> SendResult:
                return email.send(settings, message)
        text = None
        if settings.sms_gateway_url:
            from backend.channels import sms

            def text(to: str, body: str, key: str) -> SendResult:
                return sms.send(settings, to=to, text=body, key=key)
        return cls(mail, text, settings.smtp_from or "", settings.opt_out_url)


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class Due:
    """A step found due for an account on a day (not yet a row, in a dry run)."""

    account_id: int
    account_ref: str
    strategy: str
    step: Step
    key: str
    cycle_on: dt.date


def row_key(account_id: int, step_key: str) -> str:
    return f"{account_id}:{step_key}"


def system_user(session: Session) -> User:
    user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    if user is None:
        try:
            with session.begin_nested():
                user = User(username=SYSTEM_USERNAME, display_name="Treatments (automatic)", role="agent",
                            password_hash="!", active=False)
                session.add(user)
        except IntegrityError:  # made by another process just now
            user = session.scalar(select(User).where(User.username == SYSTEM_USERNAME))
    assert user is not None
    return user


def _strategy_side(split: Split, strategy: Strategy) -> str:
    return "challenger" if strategy is split.challenger and strategy is not split.champion else "champion"


def _broken_on(session: Session, ids: Sequence[int]) -> dict[int, dt.date]:
    """Each account's latest broken plan item's date (None where none was broken)."""
    rows = session.execute(
        select(Plan.account_id, func.max(PlanItem.due))
        .join(PlanItem, PlanItem.plan_id == Plan.id)
        .where(Plan.account_id.in_(ids), PlanItem.status == "broken")
        .group_by(Plan.account_id))
    return {a: d for a, d in rows if d is not None}


def _failed_calls(session: Session, ids: Sequence[int], since: dt.datetime) -> dict[int, list[dt.datetime]]:
    rows = session.execute(
        select(Contact.account_id, Contact.started_at)
        .where(Contact.account_id.in_(ids), Contact.channel == "phone", Contact.direction == "outbound",
               Contact.outcome.in_(FAILED_CALL_OUTCOMES), Contact.started_at >= since))
    out: dict[int, list[dt.datetime]] = defaultdict(list)
    for a, at in rows:
        out[a].append(at)
    return out


def _settled(session: Session, ids: Sequence[int], since: dt.date
             ) -> tuple[dict[tuple[int, dt.date], dict[str, dt.date]], set[str], dict[int, dt.date]]:
    """Per (account, cycle): step id → the day it was settled; every key there is; and each
    account's latest cycle."""
    done: dict[tuple[int, dt.date], dict[str, dt.date]] = defaultdict(dict)
    keys: set[str] = set()
    latest: dict[int, dt.date] = {}
    rows = session.execute(
        select(TreatmentSend.account_id, TreatmentSend.cycle_on, TreatmentSend.step_id, TreatmentSend.status,
               TreatmentSend.sent_at, TreatmentSend.updated_at, TreatmentSend.key)
        .where(TreatmentSend.account_id.in_(ids), TreatmentSend.cycle_on >= since))
    for account_id, cycle_on, step_id, status, sent_at, updated_at, key in rows:
        keys.add(key)
        latest[account_id] = max(cycle_on, latest.get(account_id, cycle_on))
        if status in DONE:
            done[(account_id, cycle_on)][step_id] = (sent_at or updated_at).date()
    return done, keys, latest


SAME_CYCLE_DAYS = 28
"""A cycle worked out within this many days after the account's latest one is that one: the
days past due come from the bank's file, which may be days old, and ``today - dpd`` then
moves on a day each day although the customer missed one payment. A new delinquency needs a
cure and another missed due date, a billing cycle (about a month) later at the soonest."""


def same_cycle(computed: dt.date, latest: dt.date | None) -> dt.date:
    """The cycle an account is in: its latest one unless ``computed`` is a billing cycle later."""
    if latest is not None and latest <= computed < latest + dt.timedelta(days=SAME_CYCLE_DAYS):
        return latest
    return computed


def find_due(session: Session, split: Split, today: dt.date, *, account_ids: Sequence[int] | None = None,
             batch: int = BATCH) -> Iterator[tuple[Due, bool]]:
    """Every step due on ``today`` for the open accounts (or those of ``account_ids``), with
    whether a row for it exists already (a step found due on an earlier day, not yet settled)."""
    paths = {id(split.champion): split.champion, id(split.challenger): split.challenger}
    if not any(s.treatments.steps for s in paths.values()):
        return
    query = select(Account.id, Account.account_ref, Account.dpd).where(Account.status == "open")
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    last = 0
    while True:
        rows = session.execute(query.where(Account.id > last).order_by(Account.id).limit(batch)).all()
        if not rows:
            return
        last = rows[-1][0]
        ids = [r[0] for r in rows]
        oldest = min(today - dt.timedelta(days=max(r[2], 1)) for r in rows)
        broken = _broken_on(session, ids)
        calls = _failed_calls(session, ids, dt.datetime.combine(oldest, dt.time(), dt.UTC))
        done, keys, latest = _settled(session, ids, oldest - dt.timedelta(days=SAME_CYCLE_DAYS))
        for account_id, ref, dpd in rows:
            strategy = split.for_account(ref)
            path = strategy.treatments
            if not path.steps:
                continue
            # The pre-due date is not carried by the bank's file: only past-due accounts have a cycle.
            computed = cycle_for(dpd, today, None)
            if computed is None:
                continue
            cycle = same_cycle(computed, latest.get(account_id))
            start = dt.datetime.combine(cycle, dt.time(), dt.UTC)
            facts = AccountFacts(dpd=dpd, next_due_on=None, broken_promise_on=broken.get(account_id),
                                 failed_calls=sum(1 for at in calls.get(account_id, ()) if at >= start),
                                 cycle_started_on=cycle)
            decision = due_today(path, facts, done.get((account_id, cycle), {}), today)
            for d in decision.due:
                key = row_key(account_id, d.key)
                yield Due(account_id, ref, _strategy_side(split, strategy), d.step, key, cycle), key in keys


def plan(session: Session, split: Split, today: dt.date, *, account_ids: Sequence[int] | None = None,
         now: dt.datetime | None = None) -> int:
    """Rows for the steps newly due on ``today``; how many were made. Flushed, not committed.

    Inserted a thousand at a time; a key another run made meanwhile is left as it is
    (``ON CONFLICT DO NOTHING`` on the unique key), never made twice."""
    now = now or utcnow()
    made = 0
    batch: list[dict[str, Any]] = []
    for due, exists in find_due(session, split, today, account_ids=account_ids):
        if exists:
            continue
        batch.append({"key": due.key, "account_id": due.account_id, "strategy": due.strategy, "step_id": due.step.id,
                      "channel": due.step.channel, "template": due.step.template, "cycle_on": due.cycle_on,
                      "due_on": today, "status": "pending", "attempts": 0, "reason": "", "content": "",
                      "created_at": now, "updated_at": now})
        if len(batch) >= BATCH:
            made += _insert_new(session, batch)
            batch = []
    if batch:
        made += _insert_new(session, batch)
    return made


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(TreatmentSend).on_conflict_do_nothing(constraint="uq_treatment_sends_key")
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(TreatmentSend).on_conflict_do_nothing(index_elements=["key"])
    before = session.scalar(select(func.count()).select_from(TreatmentSend).where(
        TreatmentSend.key.in_([r["key"] for r in rows])))
    session.execute(stmt, rows)
    after = session.scalar(select(func.count()).select_from(TreatmentSend).where(
        TreatmentSend.key.in_([r["key"] for r in rows])))
    return int(after or 0) - int(before or 0)


# --------------------------------------------------------------------------- sending


@dataclass
class Prepared:
    """A message made and checked, ready to hand to its channel."""

    to: str
    lang: str
    content: str
    """What the timeline keeps: the SMS, or the e-mail's subject and text."""
    email: EmailMessage | None = None


class Refused(Exception):
    """The message may not go now: ``until`` the next lawful minute, or never (None)."""

    def __init__(self, rule: str, detail: str, until: dt.datetime | None) -> None:
        super().__init__(detail)
        self.rule, self.detail, self.until = rule, detail, until


def _check(session: Session, account: Account, channel: str, now: dt.datetime, used: str | None,
           role: str | None = None) -> None:
    verdict = compliance.verdict(session, account, channel, now, party="debtor", direction="outbound", used=used,
                                 role=role)
    if not verdict.allowed:
        first = verdict.blocks[0]
        detail = "; ".join(b.detail for b in verdict.blocks)
        raise Refused(first.rule, detail, verdict.next_allowed_at)


def _mobile(account: Account) -> str | None:
    phones = account.customer.phones
    for phone in phones:
        if phone.kind == "mobile":
            return phone.number
    return None


def _due_date(account: Account, today: dt.date) -> dt.date:
    """The payment missed: the day before the first day past due."""
    return today - dt.timedelta(days=max(account.dpd, 0))


def prepare(session: Session, row: TreatmentSend, account: Account, channels: Channels, settings: BackendSettings,
            now: dt.datetime, *, role: str | None = None, check: bool = True) -> Prepared:
    """The message for ``row``, made in the customer's language and checked by the compliance
    engine at ``now``; :class:`Refused` if it may not go. ``role``: who sends it, for the
    compliance engine (a message by hand; the scheduler's have none); ``check`` False: made
    without asking the law (a preview, which asks it on its own)."""
    customer = account.customer
    lang = message_lang(customer.language, customer.country)
    if row.channel == "email":
        from backend.channels import email

        if not customer.email:
            raise Refused("no-address", "the customer has no e-mail address on record", None)
        if check:
            _check(session, account, "email", now, customer.email, role)
        rendered = email.render(row.template, lang, bank_name=settings.bank_name, customer_name=customer.name,
                                amount_due_minor=account.overdue_minor, currency=account.currency,
                                due_date=_due_date(account, now.date()),
                                opt_out_text=OPT_OUT_EMAIL[lang], opt_out_url=channels.opt_out_url)
        message = email.build_message(rendered, to=customer.email, sender=channels.email_from or "noreply@bank.example",
                                      key=row.key, now=now)
        return Prepared(customer.email, lang, f"{rendered.subject}\n\n{rendered.text.strip()}", message)
    if row.channel == "sms":
        from backend.channels import sms

        number = _mobile(account)
        if number is None:
            raise Refused("no-address", "the customer has no mobile number on record", None)
        if check:
            _check(session, account, "sms", now, number, role)
        rendered_sms = sms.render(row.template, lang, bank_name=settings.bank_name, customer_name=customer.name,
                                  amount_due_minor=account.overdue_minor, currency=account.currency,
                                  due_date=_due_date(account, now.date()), opt_out_text=sms.OPT_OUT_TEXT[lang],
                                  max_segments=settings.sms_max_segments)
        return Prepared(number, lang, rendered_sms.text)
    raise ValueError(f"not a message channel: {row.channel}")


OPT_OUT_EMAIL = {"en": "To stop e-mails from us about this debt, use this link",
                 "zh_CN": "如不希望再收到我们关于此欠款的电子邮件，请点击此链接"}


@dataclass
class RunReport:
    as_of: dt.date
    planned: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    """``sent``, ``waiting``, ``skipped``, ``failed``, ``retry``, ``unknown``, ``paused``, ``not configured``."""
    outages: list[dict[str, Any]] = field(default_factory=list)
    letters: list[bytes] = field(default_factory=list)
    run_id: int | None = None
    print_file: bytes | None = None
    """The letters made, one after another (kept in the run too)."""
    lines: list[str] = field(default_factory=list)
    """What was done, one line a message (the CLI prints them)."""


def _settle(session: Session, row_id: int, **values: Any) -> None:
    session.execute(update(TreatmentSend).where(TreatmentSend.id == row_id).values(**values)
                    .execution_options(synchronize_session=False))


def _record_contact(session: Session, user: User, account: Account, row: TreatmentSend, at: dt.datetime,
                    to: str, content: str, document_id: int | None = None) -> Contact:
    return record_message(session, user, account, row.channel, at, to, content, document_id,
                          treatment=row.step_id, key=row.key)


def record_message(session: Session, user: User, account: Account, channel: str, at: dt.datetime, to: str,
                   content: str, document_id: int | None = None, **audited: Any) -> Contact:
    """A message sent, as a contact on the timeline: outbound, to the debtor, ``LM``, what was
    sent as its note, by ``user``; ``audited`` goes into the audit record with it. Used by the
    scheduler (``_record_contact``) and by a message sent by hand (``services.messages``)."""
    from backend.services.ranking import refresh_priority

    contact = Contact(account_id=account.id, agent_id=user.id, channel=channel, direction="outbound",
                      party="debtor", outcome=MESSAGE_OUTCOME, note=mask_card_numbers(content)[:4000],
                      started_at=at, logged_at=at, used=mask_card_numbers(to)[:254], document_id=document_id)
    session.add(contact)
    session.flush()
    refresh_priority(session, account, at)
    audit.record(session, user.id, "create", "contact", contact.id, account_id=account.id, channel=channel,
                 **audited)
    return contact


def still_due(row: TreatmentSend, account: Account) -> tuple[str, str] | None:
    """Why a row found due earlier must not go now (the rule and the words), or None: the
    account closed, or paid up since (a reminder of a missed payment to one who has paid),
    or its step no longer in the strategy's path."""
    if account.status != "open":
        return "closed", f"the account is {account.status}"
    split = configuration().split
    path = (split.challenger if row.strategy == "challenger" else split.champion).treatments
    try:
        step = path.step(row.step_id)
    except KeyError:
        return "step-removed", f"the {row.strategy} path has no step {row.step_id} any more"
    if step.trigger != "days_before_due" and (account.dpd <= 0 or account.overdue_minor <= 0):
        return "paid", "the account is no longer past due"
    return None


def prepare_message(session: Session, account: Account, channel: str, template: str, key: str, channels: Channels,
                    settings: BackendSettings, now: dt.datetime, *, role: str | None = None,
                    check: bool = True) -> Prepared:
    """:func:`prepare` for a message that is no treatment step (one sent by hand): ``template``
    on ``channel``, ``key`` the message's own (the e-mail's ``Message-ID``, the gateway's
    ``Idempotency-Key``). Nothing is added to the session for it."""
    row = TreatmentSend(channel=channel, template=template, key=key)
    return prepare(session, row, account, channels, settings, now, role=role, check=check)


def sendable(session: Session, now: dt.datetime, *, account_ids: Sequence[int] | None = None) -> list[int]:
    """The rows to try now: pending, or waiting with their minute come; paused steps left."""
    paused = {(p.strategy, p.step_id) for p in session.scalars(select(TreatmentPause))}
    query = (select(TreatmentSend.id, TreatmentSend.strategy, TreatmentSend.step_id)
             .where(TreatmentSend.status.in_(OPEN),
                    (TreatmentSend.next_attempt_at.is_(None)) | (TreatmentSend.next_attempt_at <= now))
             .order_by(TreatmentSend.id))
    if account_ids is not None:
        query = query.where(TreatmentSend.account_id.in_(list(account_ids)))
    return [i for i, strategy, step in session.execute(query) if (strategy, step) not in paused]


def hand_over(channels: Channels, prepared: Prepared, key: str) -> SendResult:
    """Give a prepared message to its channel; what became of it, never raised. A refusal
    before anything was sent (``EmailError``, ``SmsError``: a setting or the number) is
    permanent, at the stage it names; a 2xx without the channel's id is ``accepted?``: it
    may have gone, so it is never sent again."""
    try:
        if prepared.email is not None:
            assert channels.email is not None
            result = channels.email(prepared.email)
        else:
            assert channels.sms is not None
            result = channels.sms(prepared.to, prepared.content, key)
    except ValueError as exc:
        words = str(exc)
        stage = "recipient" if words.startswith("to:") else "gateway" if prepared.email is None else "sender"
        return SendResult(Outcome.PERMANENT, None, words, stage)
    if not result.delivered and result.code is not None and 200 <= result.code < 300:
        return SendResult(Outcome.PERMANENT, result.code, result.message, "accepted?")
    return result


def send_one(factory: Callable[[], AbstractContextManager[Session]], row_id: int, channels: Channels, settings: BackendSettings,
             clock: Callable[[], dt.datetime], report: RunReport, down: set[str]) -> str:
    """Try one row; what became of it (a key of ``report.counts``)."""
    with factory() as session:
        row = session.get(TreatmentSend, row_id)
        if row is None or row.status not in OPEN:
            return "taken"
        if row.channel in down:
            return "outage"
        if row.channel == "email" and channels.email is None or row.channel == "sms" and channels.sms is None:
            return "not configured"
        account = session.get(Account, row.account_id, with_for_update={"of": Account})
        assert account is not None
        user = system_user(session)
        now = clock()
        stale = still_due(row, account)
        if stale is not None:
            _settle(session, row.id, status="skipped", rule=stale[0], reason=stale[1], next_attempt_at=None,
                    updated_at=now)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: skipped ({stale[0]}: {stale[1]})")
            return "skipped"
        if row.channel == "letter":
            return _send_letter(session, row, account, user, settings, now, report)
        try:
            prepared = prepare(session, row, account, channels, settings, now)
        except Refused as exc:
            if exc.until is not None:
                _settle(session, row.id, status="waiting", next_attempt_at=exc.until, rule=exc.rule[:40],
                        reason=exc.detail, updated_at=now)
                session.commit()
                report.lines.append(f"{account.account_ref} {row.step_id}: waits until {exc.until.isoformat()} ({exc.rule})")
                return "waiting"
            _settle(session, row.id, status="skipped", rule=exc.rule[:40], reason=exc.detail, next_attempt_at=None,
                    updated_at=now)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: skipped ({exc.rule}: {exc.detail})")
            return "skipped"
        except ValueError as exc:  # a template or setting the bank must fix: EmailError, SmsError
            _settle(session, row.id, status="failed", rule="template", reason=str(exc)[:2000], updated_at=now)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: failed ({exc})")
            return "failed"
        claimed = session.execute(
            update(TreatmentSend).where(TreatmentSend.id == row.id, TreatmentSend.status.in_(OPEN))
            .values(status="sending", attempts=TreatmentSend.attempts + 1, to=prepared.to, lang=prepared.lang,
                    content=prepared.content, updated_at=now, rule=None, reason="")
            .execution_options(synchronize_session=False)).rowcount
        key, attempts = row.key, row.attempts + 1
        session.commit()
        if not claimed:
            return "taken"
    # The channel is called outside any transaction: a slow relay holds no lock.
    at = clock()
    result = hand_over(channels, prepared, key)
    with factory() as session:
        row = session.get(TreatmentSend, row_id)
        account = session.get(Account, row.account_id) if row else None
        assert row is not None and account is not None
        if result.outcome is Outcome.DELIVERED:
            contact = _record_contact(session, system_user(session), account, row, at, prepared.to, prepared.content)
            _settle(session, row.id, status="sent", sent_at=at, contact_id=contact.id, updated_at=at,
                    provider_ref=result.provider_ref or None, run_id=report.run_id, next_attempt_at=None)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: sent by {row.channel} to {mask_card_numbers(prepared.to)}")
            return "sent"
        words = f"{result.stage}: {result.code or ''} {result.message}".strip()[:2000]
        if result.stage == "accepted?":
            _settle(session, row.id, status="unknown", rule="unknown", reason=words, updated_at=at)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: may have gone ({words}); not sent again")
            return "unknown"
        if result.outage:
            down.add(row.channel)
            report.outages.append({"channel": row.channel, "stage": result.stage, "code": result.code,
                                   "message": result.message[:500], "at": at.isoformat()})
            _settle(session, row.id, status="pending", attempts=attempts - 1, next_attempt_at=None,
                    rule="outage", reason=words, updated_at=at)
            session.commit()
            log.error("treatments: the %s channel is down (%s); its messages wait", row.channel, words)
            return "outage"
        if result.outcome is Outcome.TEMPORARY and attempts < MAX_ATTEMPTS:
            until = at + backoff(attempts)
            _settle(session, row.id, status="pending", next_attempt_at=until, rule="retry", reason=words, updated_at=at)
            session.commit()
            report.lines.append(f"{account.account_ref} {row.step_id}: failed for now, again at {until.isoformat()}")
            return "retry"
        _settle(session, row.id, status="failed", rule="refused" if result.outcome is Outcome.PERMANENT else "retries",
                reason=words, next_attempt_at=None, updated_at=at)
        session.commit()
        report.lines.append(f"{account.account_ref} {row.step_id}: failed ({words})")
        return "failed"


def _send_letter(session: Session, row: TreatmentSend, account: Account, user: User, settings: BackendSettings,
                 now: dt.datetime, report: RunReport) -> str:
    from backend.documents.jurisdictions import document_lang, jurisdiction
    from backend.models import Document
    from backend.services.letters import NotSent, send_for_treatment

    lang = document_lang(jurisdiction(account.customer.country), None)
    try:
        with session.begin_nested():
            contact = send_for_treatment(session, user, account, row.template, lang, settings.bank_name,
                                         settings.bank_contact, now)
    except NotSent as exc:
        until = None
        if exc.rule not in ("no-address",):
            verdict = compliance.verdict(session, account, "letter", now)
            until = verdict.next_allowed_at
        status = "waiting" if until is not None else "skipped"
        _settle(session, row.id, status=status, next_attempt_at=until, rule=exc.rule[:40], reason=exc.detail,
                updated_at=now)
        session.commit()
        report.lines.append(f"{account.account_ref} {row.step_id}: {status} ({exc.rule}: {exc.detail})")
        return status
    doc = session.get(Document, contact.document_id)
    assert doc is not None
    _settle(session, row.id, status="sent", sent_at=now, contact_id=contact.id, document_id=doc.id,
            to=contact.used, lang=lang, content=f"{row.template} ({doc.name}, {doc.size} bytes)",
            attempts=row.attempts + 1, run_id=report.run_id, updated_at=now, next_attempt_at=None)
    session.commit()
    report.letters.append(doc.content)
    report.lines.append(f"{account.account_ref} {row.step_id}: letter {row.template} made for printing")
    return "sent"


def forget_stuck(session: Session, now: dt.datetime) -> int:
    """Rows left ``sending`` by a process that died: ``unknown``, never sent again."""
    return session.execute(
        update(TreatmentSend).where(TreatmentSend.status == "sending", TreatmentSend.updated_at < now - STUCK_AFTER)
        .values(status="unknown", rule="unknown", updated_at=now,
                reason="the sender stopped while handing it to the channel: not sent again, so never twice")
        .execution_options(synchronize_session=False)).rowcount


def run(factory: Callable[[], AbstractContextManager[Session]], settings: BackendSettings, *, as_of: dt.date | None = None,
        channels: Channels | None = None, clock: Callable[[], dt.datetime] = utcnow, plan_today: bool | None = None,
        account_ids: Sequence[int] | None = None) -> RunReport:
    """One run: plan ``as_of`` (default today) if no run has yet, then send what may go now.
    The letters' print file and the counts are kept in a ``treatment_runs`` row."""
    from backend.services.letters import merge_pdfs

    channels = channels or Channels.from_settings(settings)
    started = clock()
    as_of = as_of or started.date()
    report = RunReport(as_of)
    with factory() as session:
        if plan_today is None:
            plan_today = session.scalar(select(func.count()).select_from(TreatmentRun).where(
                TreatmentRun.as_of == as_of, TreatmentRun.planned.is_(True))) == 0
        run_row = TreatmentRun(as_of=as_of, started_at=started, planned=bool(plan_today))
        session.add(run_row)
        session.flush()
        report.run_id = run_row.id
        report.counts["unknown"] += forget_stuck(session, started)
        if plan_today:
            report.planned = plan(session, configuration().split, as_of, account_ids=account_ids, now=started)
        session.commit()
        ids = sendable(session, started, account_ids=account_ids)
    down: set[str] = set()
    for row_id in ids:
        report.counts[send_one(factory, row_id, channels, settings, clock, report, down)] += 1
    report.counts.pop("taken", None)
    with factory() as session:
        run_row = session.get(TreatmentRun, report.run_id)
        assert run_row is not None
        run_row.finished_at = clock()
        run_row.counts = dict(report.counts) | {"planned": report.planned}
        run_row.outages = report.outages
        if report.letters:
            run_row.print_file = report.print_file = merge_pdfs(report.letters)
            run_row.sha256 = hashlib.sha256(run_row.print_file).hexdigest()
            run_row.letters = len(report.letters)
        session.commit()
    return report


def dry_run(session: Session, settings: BackendSettings, as_of: dt.date, now: dt.datetime,
            channels: Channels | None = None) -> list[str]:
    """What a run on ``as_of`` at ``now`` would send, and why, without writing anything:
    one line per step due (new today, or waiting from before), with the law's answer now."""
    channels = channels or Channels.from_settings(settings)
    lines: list[str] = []
    seen: set[str] = set()
    paused = {(p.strategy, p.step_id) for p in session.scalars(select(TreatmentPause))}
    open_rows = session.scalars(select(TreatmentSend).where(TreatmentSend.status.in_(OPEN))
                                .order_by(TreatmentSend.id)).all()
    candidates: list[tuple[TreatmentSend, str]] = [(r, "waiting from " + r.due_on.isoformat()) for r in open_rows]
    for due, exists in find_due(session, configuration().split, as_of):
        if exists:
            continue
        candidates.append((TreatmentSend(key=due.key, account_id=due.account_id, strategy=due.strategy,
                                         step_id=due.step.id, channel=due.step.channel, template=due.step.template,
                                         cycle_on=due.cycle_on, due_on=as_of, status="pending", attempts=0),
                           f"due: {due.step.trigger} {due.step.number}"))
    for row, why in candidates:
        if row.key in seen:
            continue
        seen.add(row.key)
        account = session.get(Account, row.account_id)
        assert account is not None
        head = f"{account.account_ref} {row.strategy}/{row.step_id} {row.channel} {row.template} ({why})"
        if (row.strategy, row.step_id) in paused:
            lines.append(f"{head}: paused")
            continue
        if row.channel == "letter":
            verdict = compliance.verdict(session, account, "letter", now)
            if not account.customer.addresses:
                lines.append(f"{head}: would skip (no-address: no postal address on record)")
            elif verdict.allowed:
                lines.append(f"{head}: would send")
            else:
                lines.append(f"{head}: " + _would(verdict.blocks[0].rule, "; ".join(b.detail for b in verdict.blocks),
                                                 verdict.next_allowed_at))
            continue
        configured = channels.email if row.channel == "email" else channels.sms
        try:
            with session.begin_nested() as nested:
                prepare(session, row, account, channels, settings, now)
                nested.rollback()
            lines.append(f"{head}: would send" if configured is not None
                         else f"{head}: would wait (the {row.channel} channel is not configured)")
        except Refused as exc:
            lines.append(f"{head}: " + _would(exc.rule, exc.detail, exc.until))
        except ValueError as exc:
            lines.append(f"{head}: would fail ({exc})")
    session.rollback()
    return lines


def _would(rule: str, detail: str, until: dt.datetime | None) -> str:
    if until is not None:
        return f"would wait until {until.isoformat()} ({rule}: {detail})"
    return f"would skip ({rule}: {detail})"


# --------------------------------------------------------------------------- the supervisor's view

WATCHERS = ("supervisor", "legal", "admin")
PAUSERS = ("supervisor", "admin")
DAY_ITEMS = 500


def _when(step: Step) -> str:
    return f"{step.trigger} {step.number}"


def _visible(query: Any, user: User) -> Any:
    if user.role == "supervisor":
        return query.where(TreatmentSend.account_id.in_(select(Account.id).where(Account.team_id == user.team_id)))
    return query


def send_out(row: TreatmentSend, account_ref: str) -> Any:
    from backend_client.models import TreatmentSendOut

    return TreatmentSendOut(
        id=row.id, account_id=row.account_id, account_ref=account_ref, strategy=row.strategy, step_id=row.step_id,
        channel=row.channel, template=row.template, cycle_on=row.cycle_on, due_on=row.due_on, status=row.status,
        attempts=row.attempts, next_attempt_at=row.next_attempt_at, rule=row.rule, reason=row.reason or "",
        to=row.to, delivery=row.delivery, sent_at=row.sent_at, contact_id=row.contact_id, updated_at=row.updated_at)


def run_out(run: TreatmentRun) -> Any:
    from backend_client.models import TreatmentRunOut

    return TreatmentRunOut(id=run.id, as_of=run.as_of, started_at=run.started_at, finished_at=run.finished_at,
                           planned=run.planned, counts=run.counts or {}, outages=run.outages or [],
                           letters=run.letters,
                           print_file_url=f"/api/v1/treatment-runs/{run.id}/print.pdf" if run.print_file else None)


def day_view(session: Session, user: User, settings: BackendSettings, as_of: dt.date) -> Any:
    """The day's treatments as the supervisor sees them (their team's accounts only)."""
    from backend.domain.errors import Forbidden
    from backend_client.models import TreatmentDay, TreatmentStepFigures

    if user.role not in WATCHERS:
        raise Forbidden("Forbidden", "Treatments are watched by supervisors, legal officers and admins")
    start = dt.datetime.combine(as_of, dt.time(), dt.UTC)
    end = start + dt.timedelta(days=1)
    of_day = ((TreatmentSend.due_on == as_of) | TreatmentSend.status.in_(OPEN + ("sending",))
              | ((TreatmentSend.updated_at >= start) & (TreatmentSend.updated_at < end)))
    rows = session.execute(_visible(
        select(TreatmentSend, Account.account_ref).join(Account, Account.id == TreatmentSend.account_id)
        .where(of_day).order_by(TreatmentSend.updated_at.desc(), TreatmentSend.id.desc()).limit(DAY_ITEMS), user)).all()
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for strategy, step_id, status, n in session.execute(_visible(
            select(TreatmentSend.strategy, TreatmentSend.step_id, TreatmentSend.status, func.count())
            .where(of_day).group_by(TreatmentSend.strategy, TreatmentSend.step_id, TreatmentSend.status), user)):
        counts[(strategy, step_id)][status] += n
    paused = {(p.strategy, p.step_id) for p in session.scalars(select(TreatmentPause))}
    split = configuration().split
    steps = [TreatmentStepFigures(strategy=side, step_id=s.id, channel=s.channel, template=s.template,  # type: ignore[arg-type]
                                  when=_when(s), then=s.then, paused=(side, s.id) in paused,
                                  counts=dict(counts.get((side, s.id), {})))
             for side, strategy in (("champion", split.champion), ("challenger", split.challenger))
             for s in strategy.treatments.steps]
    last = session.scalar(select(TreatmentRun).order_by(TreatmentRun.id.desc()).limit(1))
    audit.record(session, user.id, "view", "treatments", None, as_of=as_of.isoformat(), rows=len(rows))
    return TreatmentDay(as_of=as_of, enabled=settings.treatments_minutes > 0,
                        channels={"email": bool(settings.smtp_host and settings.smtp_from),
                                  "sms": bool(settings.sms_gateway_url), "letter": True},
                        steps=steps, items=[send_out(r, ref) for r, ref in rows],
                        last_run=run_out(last) if last else None)


def _step_named(strategy: str, step_id: str) -> Step:
    from backend.domain.errors import not_found

    split = configuration().split
    path = (split.challenger if strategy == "challenger" else split.champion).treatments
    try:
        return path.step(step_id)
    except KeyError:
        raise not_found("treatment step") from None


def pause(session: Session, user: User, strategy: str, step_id: str, note: str) -> TreatmentPause:
    from backend.domain.errors import Forbidden

    if user.role not in PAUSERS:
        raise Forbidden("Forbidden", "Treatment steps are paused by supervisors and admins")
    _step_named(strategy, step_id)
    row = session.get(TreatmentPause, (strategy, step_id))
    if row is None:
        row = TreatmentPause(strategy=strategy, step_id=step_id, paused_by_id=user.id, paused_at=utcnow(), note=note)
        session.add(row)
        session.flush()
        audit.record(session, user.id, "pause", "treatment_step", None, strategy=strategy, step=step_id, note=note)
    return row


def resume(session: Session, user: User, strategy: str, step_id: str) -> None:
    from backend.domain.errors import Forbidden, not_found

    if user.role not in PAUSERS:
        raise Forbidden("Forbidden", "Treatment steps are resumed by supervisors and admins")
    row = session.get(TreatmentPause, (strategy, step_id))
    if row is None:
        raise not_found("paused step")
    session.delete(row)
    session.flush()
    audit.record(session, user.id, "resume", "treatment_step", None, strategy=strategy, step=step_id)


def get_run(session: Session, user: User, run_id: int) -> TreatmentRun:
    from backend.domain.errors import not_found

    run = session.get(TreatmentRun, run_id)
    if run is None or user.role not in WATCHERS:
        raise not_found("treatment run")
    return run
