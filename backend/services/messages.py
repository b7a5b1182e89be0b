"""Messages by hand (issue 20 item 6): on the account, an agent sends one templated e-mail or
SMS now, through the same checks as a treatment's.

The message is the scheduler's own: made by :func:`treatments.prepare` from the channel's
template (``config/templates/<channel>/<name>.<lang>.toml``) in the customer's language, to
the customer's e-mail address or mobile number, and checked by the compliance engine at the
instant it goes (windows in every zone the customer may be in, cease per channel, pauses,
legal hold for whoever is not a legal officer, frequency), for the sender's role. It goes
through the channel the app's settings configure (``Channels.from_settings``), and a message
taken is a contact on the timeline as a treatment's is (outbound, ``LM``, the content as its
note: :func:`treatments.record_message`), by the agent who sent it.

- :func:`preview` makes it and asks the law, sends nothing (a view of personal data, audited).
- :func:`send` sends it: refused ``Conflict`` (409) naming the rule, with ``until`` the next
  lawful minute; ``Invalid`` (422) naming the field when there is nowhere to send it or the
  channel is not configured (naming the settings); ``ChannelFailed`` (502) when the relay or
  the gateway did not take it, ``temporary`` or not, nothing recorded. The channel is called
  with the request's transaction ended (a slow relay holds no lock), then the contact is
  recorded in a new one. The message's own key (the e-mail's ``Message-ID``, the gateway's
  ``Idempotency-Key``) is drawn from the request's ``Idempotency-Key``, so a retry that
  races the first reaches the relay as the same message.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from backend.channels.result import Outcome
from backend.domain.accounts import mask_card_numbers
from backend.domain.errors import ChannelFailed, Conflict, Forbidden, Invalid
from backend.models import Account, Contact, User, utcnow
from backend.services import audit, compliance, treatments
from backend.services.accounts import get_visible
from backend_client.models import (
    MessageChannelOut,
    MessagePreview,
    MessageRequest,
    MessageTemplateOut,
    MessageTemplates,
)

if TYPE_CHECKING:
    from config.settings import BackendSettings

SENDERS = ("agent", "supervisor", "legal", "admin")
CHANNELS = ("email", "sms")
WHERE = {"email": ("email", "e-mail address"), "sms": ("phones", "mobile number")}
"""A channel → the field of the account that would hold where it goes, and its words."""


def _template_dir(channel: str):  # noqa: ANN202
    from backend.channels import email, sms

    return email.TEMPLATE_DIR if channel == "email" else sms.TEMPLATE_DIR


def templates_on_disk() -> dict[str, dict[str, list[str]]]:
    """channel → template name → the languages it is written in, from ``config/templates``."""
    found: dict[str, dict[str, list[str]]] = {}
    for channel in CHANNELS:
        names: dict[str, list[str]] = defaultdict(list)
        for path in sorted(_template_dir(channel).glob("*.toml")):
            name, dot, lang = path.stem.rpartition(".")
            if dot and name:
                names[name].append(lang)
        found[channel] = dict(sorted(names.items()))
    return found


def missing_settings(settings: BackendSettings, channel: str) -> list[str]:
    """The settings a channel needs that are not set (empty: it is configured)."""
    if channel == "email":
        return [name for name in ("smtp_host", "smtp_from") if not getattr(settings, name)]
    return [] if settings.sms_gateway_url else ["sms_gateway_url"]


def template_list(settings: BackendSettings) -> MessageTemplates:
    on_disk = templates_on_disk()
    return MessageTemplates(
        templates=[MessageTemplateOut(channel=channel, name=name, langs=langs)  # type: ignore[arg-type]
                   for channel, names in on_disk.items() for name, langs in names.items()],
        channels=[MessageChannelOut(channel=channel, configured=not missing_settings(settings, channel),  # type: ignore[arg-type]
                                    missing=missing_settings(settings, channel)) for channel in CHANNELS])


def _allowed_to_send(user: User) -> None:
    if user.role not in SENDERS:
        raise Forbidden("Forbidden", "Your role does not send messages to customers")


def _open(account: Account) -> None:
    """Only an open account, or one on legal hold (which the compliance engine leaves to legal
    officers), is written to; a closed or charged-off one never (said here, not left to
    ``prepare``, whose own check of the account's status the scheduler may move elsewhere)."""
    if account.status not in ("open", "legal"):
        raise treatments.Refused("closed", f"the account is {account.status}", None)


def _known(data: MessageRequest) -> None:
    if data.template not in templates_on_disk()[data.channel]:
        raise Invalid("Invalid request", f"template: no {data.channel} template {data.template!r}",
                      errors=[("template", f"no {data.channel} template {data.template!r}")])


def _template_broken(exc: ValueError) -> Invalid:
    words = str(exc)
    return Invalid("Message cannot be made", f"template: {words}", errors=[("template", words)])


def preview(session: Session, user: User, account_id: int, data: MessageRequest, settings: BackendSettings,
            now: dt.datetime | None = None) -> MessagePreview:
    """What the message would say, in the customer's language, where it would go, and whether
    it may go now (the law's answer, an address or number on record, the channel configured)."""
    _allowed_to_send(user)
    account = get_visible(session, user, account_id)
    _known(data)
    now = now or utcnow()
    customer = account.customer
    lang = treatments.message_lang(customer.language, customer.country)
    missing = missing_settings(settings, data.channel)
    audit.record(session, user.id, "view", "message_preview", account.id, channel=data.channel,
                 template=data.template)
    channels = treatments.Channels.from_settings(settings)
    base = {"channel": data.channel, "template": data.template, "configured": not missing, "missing": missing}
    try:
        _open(account)
        prepared = treatments.prepare_message(session, account, data.channel, data.template, "preview", channels,
                                              settings, now, role=user.role, check=False)
    except treatments.Refused as exc:  # closed, or nowhere to send it
        return MessagePreview(**base, lang=lang, allowed=False, rule=exc.rule, detail=exc.detail)
    except ValueError as exc:  # a template or a setting the bank must fix
        raise _template_broken(exc) from None
    verdict = compliance.verdict(session, account, data.channel, now, party="debtor", direction="outbound",
                                 used=prepared.to, role=user.role)
    subject, text, segments, encoding = None, prepared.content, None, None
    if data.channel == "email":
        subject, _, text = prepared.content.partition("\n\n")
    else:
        from backend.channels import sms

        segments, encoding = sms.segments(prepared.content)
    rule, detail, until = None, "", None
    if not verdict.allowed:
        rule, detail = verdict.blocks[0].rule, "; ".join(b.detail for b in verdict.blocks)
        until = verdict.next_allowed_at
    elif missing:
        rule = "not-configured"
        detail = f"the {data.channel} channel is not configured: set {', '.join(missing)}"
    return MessagePreview(**base, lang=prepared.lang, to=mask_card_numbers(prepared.to), subject=subject, text=text,
                          segments=segments, encoding=encoding, allowed=verdict.allowed and not missing, rule=rule,
                          detail=detail, until=until, blocks=verdict.blocks)


def send(session: Session, user: User, account_id: int, data: MessageRequest, settings: BackendSettings, *,
         key: str | None = None, channels: treatments.Channels | None = None,
         clock: Callable[[], dt.datetime] | None = None) -> Contact:
    """Send the message now; the contact that records it. ``key``: the request's
    ``Idempotency-Key`` (the message's own key is drawn from it)."""
    _allowed_to_send(user)
    clock = clock or utcnow
    account = get_visible(session, user, account_id, for_update=True)
    _known(data)
    missing = missing_settings(settings, data.channel)
    if missing:
        words = f"the {data.channel} channel is not configured: set {', '.join(missing)}"
        raise Invalid("Channel not configured", f"channel: {words}", errors=[("channel", words)], settings=missing)
    channels = channels or treatments.Channels.from_settings(settings)
    message_key = f"message:{user.id}:{key or uuid.uuid4().hex}"
    try:
        _open(account)
        prepared = treatments.prepare_message(session, account, data.channel, data.template, message_key, channels,
                                              settings, clock(), role=user.role)
    except treatments.Refused as exc:
        if exc.rule == "no-address":
            field, _ = WHERE[data.channel]
            raise Invalid("Message cannot be sent", f"{field}: {exc.detail}", errors=[(field, exc.detail)]) from None
        raise Conflict("Message not allowed now", exc.detail, rule=exc.rule,
                       until=exc.until.isoformat() if exc.until else None) from None
    except ValueError as exc:
        raise _template_broken(exc) from None
    account_id = account.id
    # The relay is called with the request's transaction over (nothing was written yet): a slow
    # relay or gateway holds no lock (on SQLite, the one write lock) while it answers.
    session.rollback()
    at = clock()
    result = treatments.hand_over(channels, prepared, message_key)
    if not result.delivered:
        temporary = result.outcome is Outcome.TEMPORARY
        words = f"{result.stage}: {result.code or ''} {result.message}".replace("  ", " ").strip()[:500]
        if result.stage == "accepted?":
            words += " (the channel answered without its message id: it may have gone; check before sending again)"
        what = "the mail relay" if data.channel == "email" else "the SMS gateway"
        raise ChannelFailed("Not sent", f"{what} did not take the message"
                            f" ({'for now: try again later' if temporary else 'for good'}): {words}",
                            channel=data.channel, temporary=temporary, stage=result.stage, code=result.code)
    account = get_visible(session, user, account_id, for_update=True)
    return treatments.record_message(session, user, account, data.channel, at, prepared.to, prepared.content,
                                     template=data.template, by_hand=True, key=message_key,
                                     provider_ref=result.provider_ref or None)


def account_currency(session: Session, contact: Contact) -> str:
    account = session.get(Account, contact.account_id)
    assert account is not None
    return account.currency
