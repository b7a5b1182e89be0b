"""E-mail over SMTP (issue 20 item 2): a reminder rendered from its template in the
customer's language, built as one message with plain-text and HTML parts, and handed
to the bank's relay.

Three steps, each a plain function the scheduler calls, none with global state:

- :func:`render` reads ``config/templates/email/<name>.<lang>.toml`` (``subject``,
  ``text``, ``html``) and substitutes its named fields (``$bank_name``, ``$customer_name``,
  ``$amount_due``, ``$due_date``, ``$opt_out``, ``$opt_out_url``) the way
  :class:`string.Template` does: a name and nothing else, no expression, no attribute,
  so a template the bank edits can print a field but never run anything. A field the
  template names that is not given is an error naming the file, the part and the field
  (never a ``$name`` sent to a customer). In the HTML part every value is escaped.
  Money is given as integer minor units and a currency and printed with babel in the
  customer's language (``123456 USD`` → ``$1,234.56``; ``CNY`` in ``zh_CN`` → ``¥1,234.56``).
- :func:`build_message` makes the :class:`~email.message.EmailMessage`: ``From``,
  ``To``, ``Subject``, a zone-aware ``Date``, a ``Message-ID`` drawn from the
  idempotency key (the same step for the same account is the same message, so a
  receiver can tell a resend), the key itself in ``X-Collectdesk-Key``, and
  ``List-Unsubscribe``. It refuses a message whose text or HTML part lacks the
  opt-out line (Reg F §1006.6(e): a clear way to opt out in every e-mail).
- :func:`send` hands it to the relay with :mod:`smtplib` (STARTTLS when
  ``smtp_starttls``, AUTH when ``smtp_username`` is set) and returns a
  :class:`SendResult`: delivered to the relay, failed for now (no connection, a
  timeout, a 4xx: try again later) or failed for good (a 5xx, e.g. a refused
  recipient), with the server's code and words and the stage it was refused at.

The password is read from its ``SecretStr`` only to sign in: it is never logged, and no
result or error carries it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import logging
import smtplib
import socket
import ssl
import string
import tomllib
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING

from backend.channels.result import Outcome, SendResult
from backend.documents.errors import LetterError
from backend.documents.letters import format_day, format_money
from config import CONFIG_DIR

if TYPE_CHECKING:
    from config.settings import BackendSettings

log = logging.getLogger(__name__)

TEMPLATE_DIR = CONFIG_DIR / "templates" / "email"
"""Where the e-mail templates live: ``<name>.<lang>.toml`` with ``subject``, ``text`` and ``html``."""

PARTS = ("subject", "text", "html")
KEY_HEADER = "X-Collectdesk-Key"


class EmailError(ValueError):
    """An e-mail cannot be made or sent as asked: a template missing or broken, a field or a
    setting wrong. Its message names the file, part, field or setting at fault."""


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class Rendered:
    """An e-mail's words in one language, fields substituted."""

    subject: str
    text: str
    html: str
    opt_out: str
    """The opt-out line as given (its text, then its URL), which both parts must show."""
    opt_out_url: str


def _template_path(name: str, lang: str, template_dir: Path | None) -> Path:
    for label, value in (("name", name), ("lang", lang)):
        if not value or not all(c.isascii() and (c.isalnum() or c == "_") for c in value):
            raise EmailError(f"{label}: {value!r} must be letters, digits and _")
    return (template_dir or TEMPLATE_DIR) / f"{name}.{lang}.toml"


def load_template(name: str, lang: str, template_dir: Path | None = None) -> dict[str, str]:
    """The ``subject``, ``text`` and ``html`` of ``<name>.<lang>.toml``; :class:`EmailError`
    naming the file (and the part) when it is missing, not TOML, or its parts are wrong."""
    path = _template_path(name, lang, template_dir)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise EmailError(f"{path}: no such e-mail template ({name!r} in {lang!r})") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EmailError(f"{path}: cannot read the template: {exc}") from exc
    unknown = sorted(set(data) - set(PARTS))
    if unknown:
        raise EmailError(f"{path}: {unknown[0]}: unknown key (a template has {', '.join(PARTS)})")
    for part in PARTS:
        if not isinstance(data.get(part), str) or not data[part].strip():
            raise EmailError(f"{path}: {part}: is missing or empty")
    return {part: data[part] for part in PARTS}


def _substitute(source: str, fields: dict[str, str], path: Path, part: str) -> str:
    try:
        return string.Template(source).substitute(fields)
    except KeyError as exc:
        raise EmailError(f"{path}: {part}: unknown field ${exc.args[0]} (the fields are "
                         f"{', '.join('$' + k for k in sorted(fields))})") from exc
    except ValueError as exc:  # a lone "$" or "${": write "$$" for a dollar sign
        raise EmailError(f"{path}: {part}: {exc} (write $$ for a $)") from exc


def render(name: str, lang: str, *, bank_name: str, customer_name: str, amount_due_minor: int, currency: str,
           due_date: dt.date, opt_out_text: str, opt_out_url: str,
           template_dir: Path | None = None) -> Rendered:
    """The template ``name`` in ``lang`` (``en``, ``zh_CN``) with the customer's fields.

    ``amount_due_minor`` is an integer of ``currency``'s minor units; ``opt_out_text`` (in the
    customer's language) and ``opt_out_url`` (``https:`` or ``mailto:``) are the caller's."""
    path = _template_path(name, lang, template_dir)
    template = load_template(name, lang, template_dir)
    for label, value in (("bank_name", bank_name), ("customer_name", customer_name)):
        if not isinstance(value, str) or not value.strip():
            raise EmailError(f"{label}: is empty")
    if isinstance(due_date, dt.datetime) or not isinstance(due_date, dt.date):
        raise EmailError(f"due_date: {due_date!r} is not a date")
    if not isinstance(opt_out_text, str) or not opt_out_text.strip():
        raise EmailError("opt_out_text: is empty (every e-mail says how to opt out, Reg F §1006.6(e))")
    _check_unsubscribe(opt_out_url)
    try:
        amount = format_money(amount_due_minor, currency, lang)
        day = format_day(due_date, lang)
    except LetterError as exc:
        raise EmailError(f"amount_due_minor/currency/lang: {exc}") from exc
    except (KeyError, ValueError) as exc:  # an unknown currency
        raise EmailError(f"currency: {currency!r}: {exc}") from exc
    plain = {"bank_name": " ".join(bank_name.split()), "customer_name": " ".join(customer_name.split()), "amount_due": amount, "due_date": day,
             "opt_out": " ".join(opt_out_text.split()), "opt_out_url": opt_out_url}
    escaped = {k: html.escape(v) for k, v in plain.items()}
    subject = _substitute(template["subject"], plain, path, "subject").strip()
    if "\n" in subject or "\r" in subject:
        raise EmailError(f"{path}: subject: must be one line")
    return Rendered(subject=subject,
                    text=_substitute(template["text"], plain, path, "text"),
                    html=_substitute(template["html"], escaped, path, "html"),
                    opt_out=plain["opt_out"], opt_out_url=opt_out_url)


# --------------------------------------------------------------------------- the message


def _check_unsubscribe(url: str) -> None:
    if not isinstance(url, str) or not url.startswith(("https://", "mailto:")) or any(
            c in url for c in "<>\r\n \t"):
        raise EmailError(f"opt_out_url: {url!r} must be an https: or mailto: address, in one piece")


def _address(value: str, field: str) -> Address:
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise EmailError(f"{field}: {value!r} is not an e-mail address")
    display, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or " " in addr:
        raise EmailError(f"{field}: {value!r} is not an e-mail address")
    try:
        return Address(display_name=display, username=local, domain=domain)
    except (ValueError, IndexError) as exc:
        raise EmailError(f"{field}: {value!r} is not an e-mail address ({exc})") from exc


def message_id(key: str, domain: str) -> str:
    """The ``Message-ID`` of the message with idempotency key ``key``: the same key, the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.collectdesk@{domain}>"


def build_message(rendered: Rendered, *, to: str, sender: str, key: str, now: dt.datetime) -> EmailMessage:
    """The message to send: ``rendered``'s text and HTML as alternatives, from ``sender``
    (``smtp_from``) to ``to``, dated ``now`` (zone-aware), ``key`` (account and step, unique
    per sending) in ``X-Collectdesk-Key`` and in the ``Message-ID``, and ``List-Unsubscribe``.

    Refused (:class:`EmailError` naming the field): a bad address, a naive ``now``, an empty or
    multi-line key, or a part that does not show the opt-out line."""
    to_addr = _address(to, "to")
    from_addr = _address(sender, "smtp_from")
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise EmailError(f"now: {now!r} must be a zone-aware datetime")
    if not isinstance(key, str) or not key.strip() or any(c in key for c in "\r\n"):
        raise EmailError(f"key: {key!r} must be a non-empty line (the idempotency key)")
    _check_unsubscribe(rendered.opt_out_url)
    for part in ("text", "html"):
        body = getattr(rendered, part)
        shown = html.escape(rendered.opt_out) if part == "html" else rendered.opt_out
        if shown not in body:
            raise EmailError(f"{part}: does not show the opt-out line {rendered.opt_out!r} "
                             "(Reg F §1006.6(e): put $opt_out in the template's text and html)")
        url = html.escape(rendered.opt_out_url) if part == "html" else rendered.opt_out_url
        if url not in body:
            raise EmailError(f"{part}: does not show the opt-out address {rendered.opt_out_url!r} "
                             "(put $opt_out_url in the template's text and html)")
    msg = EmailMessage()
    msg["From"] = from_addr
    msg["To"] = to_addr
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, from_addr.domain)
    msg[KEY_HEADER] = key
    msg["List-Unsubscribe"] = f"<{rendered.opt_out_url}>"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    return msg


# --------------------------------------------------------------------------- sending


def _by_code(code: int, message: bytes | str, stage: str) -> SendResult:
    words = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    outcome = Outcome.PERMANENT if 500 <= code < 600 else Outcome.TEMPORARY
    return SendResult(outcome, code, words, stage)


def _tls_context(settings: BackendSettings) -> ssl.SSLContext:
    if settings.smtp_ca_bundle is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(settings.smtp_ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise EmailError(f"smtp_ca_bundle: {settings.smtp_ca_bundle}: {exc}") from exc


def check_settings(settings: BackendSettings) -> None:
    """:class:`EmailError` naming the setting when e-mail cannot be sent at all as configured."""
    if not settings.smtp_host:
        raise EmailError("smtp_host: not set (COLLECTDESK_SMTP_HOST): no e-mail can be sent")
    if not settings.smtp_from:
        raise EmailError("smtp_from: not set (COLLECTDESK_SMTP_FROM): no e-mail can be sent")
    if settings.smtp_username and settings.smtp_password is None:
        raise EmailError("smtp_password: not set, and smtp_username is (COLLECTDESK_SMTP_PASSWORD)")


def send(settings: BackendSettings, message: EmailMessage) -> SendResult:
    """Hand ``message`` to the relay ``settings`` name; what became of it, never raised.

    :class:`EmailError` only for settings that cannot work (:func:`check_settings`), before any
    connection. The result is delivered once the relay has accepted the message; a failure
    after that (at QUIT) does not change it."""
    check_settings(settings)
    recipients = getaddresses([str(v) for f in ("To", "Cc", "Bcc") for v in message.get_all(f, [])])
    if len(recipients) != 1:
        raise EmailError(f"to: a reminder goes to one address, not {len(recipients)}: a refusal of one "
                         "of several would have the others sent it again")
    context = _tls_context(settings) if settings.smtp_starttls else None
    assert settings.smtp_host is not None
    key = message.get(KEY_HEADER, "")
    stage = "connect"
    smtp: smtplib.SMTP | None = None
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds)
        smtp.ehlo()
        if context is not None:
            stage = "starttls"
            if not smtp.has_extn("starttls"):
                return _failed(key, SendResult(Outcome.PERMANENT, None, "the relay does not offer STARTTLS "
                                               "(smtp_starttls is set)", stage))
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_username:
            stage = "auth"
            assert settings.smtp_password is not None
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        stage = "sender"
        result = _transact(smtp, message)
        if result.delivered:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # accepted already: the relay has it
            log.info("e-mail %s: delivered to the relay (%s)", key, result.code)
        else:
            _failed(key, result)
        return result
    except smtplib.SMTPNotSupportedError as exc:  # no AUTH offered
        result = SendResult(Outcome.PERMANENT, None, f"the relay does not support it: {exc}", stage)
    except smtplib.SMTPAuthenticationError as exc:
        result = _by_code(exc.smtp_code, exc.smtp_error, "auth")
    except smtplib.SMTPResponseException as exc:  # SMTPConnectError, a refused HELO, STARTTLS, AUTH
        result = _by_code(exc.smtp_code, exc.smtp_error, stage)
    except smtplib.SMTPServerDisconnected as exc:  # smtplib's word for a reply that timed out, too
        if isinstance(exc.__context__, TimeoutError):
            result = SendResult(Outcome.TEMPORARY, None, f"no answer from the relay within "
                                f"{settings.smtp_timeout_seconds:g} s", stage)
        else:
            result = SendResult(Outcome.TEMPORARY, None, f"the relay closed the connection: {exc}", stage)
    except ssl.SSLCertVerificationError as exc:
        result = SendResult(Outcome.PERMANENT, None, f"the relay's certificate is not trusted: "
                            f"{exc.verify_message}", stage)
    except ssl.SSLError as exc:
        result = SendResult(Outcome.PERMANENT, None, f"no TLS with the relay: {exc.reason or exc}", stage)
    except smtplib.SMTPException as exc:  # "No suitable authentication method found", and the like
        result = SendResult(Outcome.PERMANENT, None, str(exc), stage)
    except (TimeoutError, socket.timeout) as exc:
        result = SendResult(Outcome.TEMPORARY, None, f"no answer from the relay within "
                            f"{settings.smtp_timeout_seconds:g} s ({exc or 'timed out'})", stage)
    except OSError as exc:  # refused, unreachable, a name that does not resolve, reset
        result = SendResult(Outcome.TEMPORARY, None, f"cannot reach the relay {settings.smtp_host}:"
                            f"{settings.smtp_port}: {exc.strerror or exc}", stage)
    finally:
        if smtp is not None:
            smtp.close()
    return _failed(key, result)


def _failed(key: str, result: SendResult) -> SendResult:
    log.warning("e-mail %s: %s at %s (%s): %s", key, result.outcome, result.stage, result.code, result.message)
    return result


def _transact(smtp: smtplib.SMTP, message: EmailMessage) -> SendResult:
    """MAIL, RCPT and DATA for ``message``, each refusal as the result at its stage."""
    try:
        refused = smtp.send_message(message)
    except smtplib.SMTPSenderRefused as exc:
        return _by_code(exc.smtp_code, exc.smtp_error, "sender")
    except smtplib.SMTPRecipientsRefused as exc:
        code, words = next(iter(exc.recipients.values()))
        return _by_code(code, words, "recipient")
    except smtplib.SMTPDataError as exc:
        return _by_code(exc.smtp_code, exc.smtp_error, "data")
    if refused:  # one recipient only (send checks): refused would have raised; kept for safety
        code, words = next(iter(refused.values()))
        return _by_code(code, words, "recipient")
    return SendResult(Outcome.DELIVERED, 250, "accepted by the relay", "sent")
