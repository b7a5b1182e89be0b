"""SMS through an HTTP gateway (issue 20 item 2): a text rendered from its template in the
customer's language, POSTed to the bank's gateway as the JSON it is configured to take, and
the gateway's signed receipts and replies read back.

Plain functions the scheduler (and the inbound route) call, none with global state, the
settings passed in:

- :func:`render` reads ``config/templates/sms/<name>.<lang>.toml`` (one key, ``text``) and
  substitutes its named fields (``$bank_name``, ``$customer_name``, ``$amount_due``,
  ``$due_date``, ``$opt_out``) as :class:`string.Template` does, like the e-mail channel:
  a name and nothing else. Money is integer minor units and a currency, printed with babel
  in the customer's language. A text that does not show the opt-out line is refused (Reg F
  §1006.6(e)), and so is one longer than ``max_segments`` SMS segments (:func:`segments`:
  GSM-7, 160 characters alone and 153 in a longer text; anything outside GSM-7, Chinese
  for one, UCS-2, 70 and 67). :data:`OPT_OUT_TEXT` is the opt-out line in each language.
- :func:`send` POSTs one text to ``sms_gateway_url`` and returns a :class:`SendResult`,
  never raising for what the gateway or the network does: a 2xx with the gateway's message
  id (``sms_message_id_field``) is delivered, with that id as ``provider_ref``; a 429, a
  5xx, a 408/409/425, a timeout or no connection is temporary; anything else is permanent, at
  stage ``gateway`` (an outage of the channel: a 401, a 404, a 2xx without an id, a 400
  about the request itself) or ``recipient`` (a 400/422 about the number: the customer's,
  not an outage). The number is normalised to E.164 first (:func:`normalise_number`), and
  the idempotency key goes both where the body template puts ``$key`` and in an
  ``Idempotency-Key`` header, so a gateway that honours either sends a resend once.
- :func:`sign`, :func:`verify`, :func:`parse_inbound` and :func:`is_opt_out` are the pure
  half of ``POST /api/v1/inbound/sms`` (the route itself is not here).

The webhook signature
---------------------

The gateway signs every post with the shared secret ``sms_webhook_secret``:

- ``X-Collectdesk-Timestamp``: the time of signing, in whole unix seconds (ASCII digits);
- ``X-Collectdesk-Signature``: ``sha256=`` and the lower-case hex HMAC-SHA256, keyed with the
  secret (its UTF-8 bytes), of the timestamp as sent, a full stop, then the raw body bytes
  exactly as posted: ``hmac(secret, f"{timestamp}.".encode() + body, sha256)``.

:func:`verify` refuses (:class:`WebhookRefused`, naming the header or setting) everything
when no secret is configured, a header missing or malformed, a signature that does not
match (compared in constant time), and a timestamp more than
``sms_webhook_tolerance_seconds`` before or after ``now``. What it returns carries a replay
key, the SHA-256 of the (canonical) signature: the route stores it in a unique column for
the tolerance window and refuses a post whose key is there already, so a captured post
cannot be played again.

The inbound body is JSON: a delivery receipt ``{"type": "receipt", "id": <the gateway's
message id>, "status": "delivered" | "failed" | "expired", "at": <ISO-8601 with zone>,
"error": <optional>}`` or a reply ``{"type": "reply", "from": "+1…", "text": "…", "at": …,
"id": <optional>}``; other keys are ignored.

Opt-out replies: :func:`is_opt_out` is the keyword rule, exactly: the whole reply (trimmed,
NFKC-normalised, its punctuation removed, case ignored) is one of STOP, STOPALL,
UNSUBSCRIBE, CANCEL, END, QUIT, 退订, TD or 取消订阅. A sentence that merely asks to
stop ("please stop calling me") is not a keyword: the keyword rule must never stop texts on
a guess, and cannot catch every way a person says no, so such a reply is for an agent to
read and record (a revocation in other words still counts once a person has read it).

The auth value and the webhook secret are read from their ``SecretStr`` only where they are
used: never logged, and no result or error carries them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import ssl
import string
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import phonenumbers
from pydantic import SecretStr

from backend.channels.result import Outcome, SendResult
from backend.documents.errors import LetterError
from backend.documents.letters import format_day, format_money
from config import CONFIG_DIR

if TYPE_CHECKING:
    from config.settings import BackendSettings

log = logging.getLogger(__name__)

TEMPLATE_DIR = CONFIG_DIR / "templates" / "sms"
"""Where the SMS templates live: ``<name>.<lang>.toml`` with one key, ``text``."""

OPT_OUT_TEXT = {"en": "Reply STOP to opt out", "zh_CN": "回复退订停止接收"}
"""The opt-out line each language's texts end with, unless the caller has its own."""

DEFAULT_MAX_SEGMENTS = 3
"""``sms_max_segments``'s default."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
TIMESTAMP_HEADER = "X-Collectdesk-Timestamp"
SIGNATURE_HEADER = "X-Collectdesk-Signature"
SIGNATURE_PREFIX = "sha256="
PLACEHOLDERS = ("$to", "$text", "$key", "$sender")


class SmsError(ValueError):
    """A text cannot be made or sent as asked: a template missing or broken, a field, a number
    or a setting wrong. Its message starts with the file, field or setting at fault."""


class WebhookRefused(ValueError):
    """An inbound post that is not to be believed. ``field`` is the header (or the setting) at
    fault, ``reason`` what is wrong with it; neither carries the secret."""

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.reason = reason
        self.field = field


# --------------------------------------------------------------------------- segments

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
"""Characters GSM-7 writes as an escape and a second septet: two of a segment's 160."""


def segments(text: str) -> tuple[int, str]:
    """How many SMS segments ``text`` takes, and its encoding (``GSM-7`` or ``UCS-2``).

    GSM-7 when every character is in the GSM 03.38 alphabet (its extension characters, ``€``
    ``[`` ``]`` ``{`` ``}`` ``|`` ``^`` ``~`` ``\\``, count two): 160 alone, else 153 a segment.
    Otherwise UCS-2, counted in UTF-16 units (an emoji is two): 70 alone, else 67 a segment.
    A character (an escape pair, a surrogate pair) is never split between two segments."""
    if not text:
        return 0, "GSM-7"
    if all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text):
        encoding, single, part = "GSM-7", 160, 153
        units = [2 if c in _GSM7_EXTENSION else 1 for c in text]
    else:
        encoding, single, part = "UCS-2", 70, 67
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
    if sum(units) <= single:
        return 1, encoding
    count, used = 1, 0
    for unit in units:
        if used + unit > part:
            count, used = count + 1, 0
        used += unit
    return count, encoding


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class RenderedSms:
    """A text in one language, fields substituted, and what it costs to send."""

    text: str
    segments: int
    encoding: str
    """``GSM-7`` or ``UCS-2`` (see :func:`segments`)."""


def _template_path(name: str, lang: str, template_dir: Path | None) -> Path:
    for label, value in (("name", name), ("lang", lang)):
        if not isinstance(value, str) or not value or not all(
                c.isascii() and (c.isalnum() or c == "_") for c in value):
            raise SmsError(f"{label}: {value!r} must be letters, digits and _")
    return (template_dir or TEMPLATE_DIR) / f"{name}.{lang}.toml"


def load_template(name: str, lang: str, template_dir: Path | None = None) -> str:
    """The ``text`` of ``<name>.<lang>.toml``; :class:`SmsError` naming the file when it is
    missing, not TOML, or has anything but a non-empty ``text``."""
    path = _template_path(name, lang, template_dir)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise SmsError(f"{path}: no such SMS template ({name!r} in {lang!r})") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SmsError(f"{path}: cannot read the template: {exc}") from exc
    unknown = sorted(set(data) - {"text"})
    if unknown:
        raise SmsError(f"{path}: {unknown[0]}: unknown key (an SMS template has text only)")
    if not isinstance(data.get("text"), str) or not data["text"].strip():
        raise SmsError(f"{path}: text: is missing or empty")
    return str(data["text"])


def _one_line(value: object, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SmsError(f"{label}: is empty")
    return " ".join(value.split())


def check_text(text: str, *, max_segments: int = DEFAULT_MAX_SEGMENTS, where: str = "text") -> RenderedSms:
    """``text`` as it would be sent, with its segments; :class:`SmsError` when it is empty or
    longer than ``max_segments``."""
    if not isinstance(text, str) or not text.strip():
        raise SmsError(f"{where}: is empty")
    count, encoding = segments(text)
    if count > max_segments:
        raise SmsError(f"{where}: {count} SMS segments ({len(text)} characters, {encoding}); at most "
                       f"{max_segments} are sent (sms_max_segments): shorten the template")
    return RenderedSms(text=text, segments=count, encoding=encoding)


def render(name: str, lang: str, *, bank_name: str, customer_name: str, amount_due_minor: int, currency: str,
           due_date: dt.date, opt_out_text: str, max_segments: int = DEFAULT_MAX_SEGMENTS,
           template_dir: Path | None = None) -> RenderedSms:
    """The template ``name`` in ``lang`` (``en``, ``zh_CN``) with the customer's fields.

    ``amount_due_minor`` is an integer of ``currency``'s minor units; ``opt_out_text`` is the
    opt-out line in the customer's language (:data:`OPT_OUT_TEXT` has one for each), which
    the text must show; ``max_segments`` is ``sms_max_segments``. :class:`SmsError` naming the
    file, field or setting for anything wrong, never a ``$name`` sent to a customer."""
    path = _template_path(name, lang, template_dir)
    source = load_template(name, lang, template_dir)
    fields = {"bank_name": _one_line(bank_name, "bank_name"),
              "customer_name": _one_line(customer_name, "customer_name")}
    if isinstance(due_date, dt.datetime) or not isinstance(due_date, dt.date):
        raise SmsError(f"due_date: {due_date!r} is not a date")
    if not isinstance(opt_out_text, str) or not opt_out_text.strip():
        raise SmsError("opt_out_text: is empty (every text says how to opt out, Reg F §1006.6(e))")
    fields["opt_out"] = " ".join(opt_out_text.split())
    try:
        fields["amount_due"] = format_money(amount_due_minor, currency, lang)
        fields["due_date"] = format_day(due_date, lang)
    except LetterError as exc:
        raise SmsError(f"amount_due_minor/currency/lang: {exc}") from exc
    except (KeyError, ValueError) as exc:  # an unknown currency
        raise SmsError(f"currency: {currency!r}: {exc}") from exc
    try:
        text = string.Template(source).substitute(fields)
    except KeyError as exc:
        raise SmsError(f"{path}: text: unknown field ${exc.args[0]} (the fields are "
                       f"{', '.join('$' + k for k in sorted(fields))})") from exc
    except ValueError as exc:  # a lone "$"
        raise SmsError(f"{path}: text: {exc} (write $$ for a $)") from exc
    text = text.strip()
    if fields["opt_out"] not in text:
        raise SmsError(f"{path}: text: does not show the opt-out line {fields['opt_out']!r} "
                       "(Reg F §1006.6(e): put $opt_out in the template)")
    return check_text(text, max_segments=max_segments, where=f"{path}: text")


# --------------------------------------------------------------------------- numbers

_MOBILE_TYPES = frozenset((phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE))


def normalise_number(number: str, default_region: str | None = None, *, field: str = "to",
                     mobile: bool = True) -> str:
    """``number`` in E.164 (``+12015550123``); without a ``+`` it is read as a number of
    ``default_region`` (``US``). :class:`SmsError` naming ``field`` for one that is not a valid
    number, or (``mobile``) one of a kind that cannot take a text: a fixed line, toll-free."""
    if not isinstance(number, str) or not number.strip() or len(number) > 40:
        raise SmsError(f"{field}: {number!r} is not a phone number")
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as exc:
        raise SmsError(f"{field}: {number!r} is not a phone number ({exc})") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise SmsError(f"{field}: {number!r} is not a valid phone number")
    if mobile and phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        raise SmsError(f"{field}: {number!r} is not a mobile number (it cannot take a text)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# --------------------------------------------------------------------------- the gateway


def check_settings(settings: BackendSettings) -> None:
    """:class:`SmsError` naming the setting when no text can be sent at all as configured."""
    if not settings.sms_gateway_url:
        raise SmsError("sms_gateway_url: not set (COLLECTDESK_SMS_GATEWAY_URL): no text can be sent")
    if settings.sms_auth_value is not None:
        value = settings.sms_auth_value.get_secret_value()
        if not value or not value.isascii() or not value.isprintable():
            raise SmsError("sms_auth_value: must be printable ASCII on one line (COLLECTDESK_SMS_AUTH_VALUE)")
    if "$sender" in _placeholders(settings.sms_body_template) and not settings.sms_sender:
        raise SmsError("sms_sender: not set, and sms_body_template sends $sender (COLLECTDESK_SMS_SENDER)")


def _placeholders(template: str) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif node in PLACEHOLDERS:
            found.add(node)

    walk(json.loads(template))
    return found


def build_body(template: str, *, to: str, text: str, key: str, sender: str | None) -> bytes:
    """The request body: ``template`` (``sms_body_template``) parsed as JSON, every string value
    that is exactly ``"$to"``, ``"$text"``, ``"$key"`` or ``"$sender"`` replaced by its value,
    and the whole written back as UTF-8 JSON. A value is a JSON string however it is written
    (quotes, backslashes, newlines cannot reach the JSON around it)."""
    values = {"$to": to, "$text": text, "$key": key, "$sender": sender}

    def fill(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fill(v) for v in node]
        if isinstance(node, str) and node in values:
            value = values[node]
            if value is None:
                raise SmsError(f"sms_sender: not set, and sms_body_template sends {node}")
            return value
        return node

    try:
        parsed = json.loads(template)
    except ValueError as exc:
        raise SmsError(f"sms_body_template: not JSON: {exc}") from exc
    return json.dumps(fill(parsed), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _dig(data: Any, dotted: str) -> Any:
    """``data``'s value at ``dotted`` (``data.messages.0.id``), or None."""
    for part in dotted.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _words(response: httpx.Response, secret: str) -> str:
    words = " ".join(response.text.split())[:300] or response.reason_phrase
    return words.replace(secret, "***") if secret else words


def _mentions_number(words: str, to: str, settings: BackendSettings) -> bool:
    """Whether a 400/422's words are about the number: they show it (E.164, with or without
    its ``+``, or its national digits), or they say ``recipient``, ``phone``, ``msisdn``,
    ``mobile``, ``destination`` or name the body's field that carries ``$to``."""
    lowered = words.lower()
    parsed = phonenumbers.parse(to, None)
    national = str(parsed.national_number)
    if to[1:] in words or national in re.sub(r"[\s().-]", "", words):
        return True
    if re.search(r"\b(recipient|phone|msisdn|mobile|destination)s?\b", lowered):
        return True
    fields: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if v == "$to":
                    fields.append(k.lower())
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads(settings.sms_body_template))
    return any(re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", lowered) for f in fields)


def _classify(response: httpx.Response, to: str, settings: BackendSettings, secret: str) -> SendResult:
    code = response.status_code
    words = _words(response, secret)
    if 200 <= code < 300:
        try:
            ref = _dig(response.json(), settings.sms_message_id_field)
        except ValueError:
            ref = None
        if isinstance(ref, bool) or not isinstance(ref, (str, int)) or not str(ref).strip():
            return SendResult(Outcome.PERMANENT, code, f"the gateway answered {code} without a message id at "
                              f"{settings.sms_message_id_field!r} (sms_message_id_field): {words}", "gateway")
        return SendResult(Outcome.DELIVERED, code, "accepted by the gateway", "sent", provider_ref=str(ref).strip())
    if code in (408, 409, 425, 429) or 500 <= code < 600:
        return SendResult(Outcome.TEMPORARY, code, words, "gateway")
    if code in (400, 422) and _mentions_number(words, to, settings):
        return SendResult(Outcome.PERMANENT, code, words, "recipient")
    # 3xx (a moved URL is not followed with the credentials), 401, 403, 404, 405, a 400 about the
    # request itself: the gateway's settings are wrong, and every text would fail the same.
    return SendResult(Outcome.PERMANENT, code, words, "gateway")


def _untrusted(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def send(settings: BackendSettings, *, to: str, text: str, key: str) -> SendResult:
    """POST ``text`` to ``to`` through the gateway ``settings`` name, under the idempotency key
    ``key`` (account and step, the same for a resend); what became of it, never raised.

    :class:`SmsError` (before any connection) only for what no resend could mend: settings that
    cannot work (:func:`check_settings`), a number that is not a mobile one (``to``, read with
    ``default_country`` when it has no ``+``), an empty text or one longer than
    ``sms_max_segments``, an empty or multi-line key."""
    check_settings(settings)
    number = normalise_number(to, settings.default_country, field="to")
    check_text(text, max_segments=settings.sms_max_segments)
    if not isinstance(key, str) or not key.strip() or not key.isascii() or not key.isprintable():
        raise SmsError(f"key: {key!r} must be a non-empty line of ASCII (the idempotency key, a header too)")
    body = build_body(settings.sms_body_template, to=number, text=text, key=key, sender=settings.sms_sender)
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json",
               IDEMPOTENCY_HEADER: key, "User-Agent": "collectdesk-sms"}
    secret = ""
    if settings.sms_auth_value is not None:
        secret = settings.sms_auth_value.get_secret_value()
        headers[settings.sms_auth_header] = secret
    url = settings.sms_gateway_url
    assert url is not None
    timeout = settings.sms_timeout_seconds
    try:
        # trust_env=False: no proxy nor CA bundle from the environment, the gateway reached
        # directly and its certificate checked against certifi's CAs; redirects are not followed
        # (the credential is for this URL only).
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=headers)
        result = _classify(response, number, settings, secret)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:  # sms_gateway_url: a port out of range…
        result = SendResult(Outcome.PERMANENT, None, f"sms_gateway_url: cannot be used: {exc}", "gateway")
    except httpx.ConnectTimeout:
        result = SendResult(Outcome.TEMPORARY, None, f"cannot reach the gateway within {timeout:g} s", "connect")
    except httpx.TimeoutException:
        result = SendResult(Outcome.TEMPORARY, None, f"no answer from the gateway within {timeout:g} s", "gateway")
    except httpx.ConnectError as exc:
        untrusted = _untrusted(exc)
        if untrusted is not None:
            result = SendResult(Outcome.PERMANENT, None, f"the gateway's certificate is not trusted: "
                                f"{untrusted.verify_message}", "connect")
        else:
            result = SendResult(Outcome.TEMPORARY, None, f"cannot reach the gateway: {exc}", "connect")
    except httpx.TransportError as exc:  # the connection dropped mid-way: sent or not, resend under the key
        result = SendResult(Outcome.TEMPORARY, None, f"the gateway closed the connection: {exc}", "gateway")
    if result.delivered:
        log.info("sms %s: accepted by the gateway (%s, %s)", key, result.code, result.provider_ref)
    else:
        log.warning("sms %s: %s at %s (%s): %s", key, result.outcome, result.stage, result.code, result.message)
    return result


# --------------------------------------------------------------------------- the signed webhook


def _key_bytes(secret: SecretStr | str | bytes) -> bytes:
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _digest(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(secret: SecretStr | str | bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Collectdesk-Signature`` of ``body`` posted at ``timestamp`` (unix seconds):
    ``sha256=`` and the hex HMAC-SHA256 of ``f"{timestamp}."`` and the body, keyed ``secret``."""
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise SmsError(f"timestamp: {timestamp!r} must be whole unix seconds")
    if not _key_bytes(secret):
        raise SmsError("secret: is empty")
    return SIGNATURE_PREFIX + _digest(_key_bytes(secret), str(timestamp), bytes(body))


@dataclass(frozen=True)
class Verified:
    """An inbound post whose signature holds."""

    signed_at: dt.datetime
    """The timestamp it was signed with (UTC)."""
    replay_key: str
    """The SHA-256 hex of the signature's 64 hex digits (the header without ``sha256=``, as
    computed here, so one post has one key): store it (unique) for at least twice the
    tolerance and refuse a post whose key is there already."""


_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


def verify(secret: SecretStr | str | bytes | None, timestamp: str | None, signature: str | None, body: bytes,
           now: dt.datetime, *, tolerance_seconds: int = 300) -> Verified:
    """Whether ``body`` was posted by the gateway: ``timestamp`` and ``signature`` are the
    ``X-Collectdesk-Timestamp`` and ``X-Collectdesk-Signature`` headers as received (None when
    absent), ``secret`` is ``sms_webhook_secret``, ``now`` the zone-aware time of receipt and
    ``tolerance_seconds`` ``sms_webhook_tolerance_seconds``. :class:`WebhookRefused` naming
    the header (or setting) otherwise."""
    if not isinstance(now, dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise SmsError(f"now: {now!r} must be a zone-aware datetime")
    if secret is None or not _key_bytes(secret):
        raise WebhookRefused("not set: no inbound post is believed", "sms_webhook_secret")
    if timestamp is None or not timestamp.strip():
        raise WebhookRefused("missing", TIMESTAMP_HEADER)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRefused("must be whole unix seconds", TIMESTAMP_HEADER)
    if signature is None or not signature.strip():
        raise WebhookRefused("missing", SIGNATURE_HEADER)
    if not _SIGNATURE.fullmatch(signature):
        raise WebhookRefused("must be sha256= and 64 lower-case hex digits", SIGNATURE_HEADER)
    expected = _digest(_key_bytes(secret), timestamp, bytes(body))
    if not hmac.compare_digest(expected, signature[len(SIGNATURE_PREFIX):]):
        raise WebhookRefused("does not match the body (or another secret signed it)", SIGNATURE_HEADER)
    # the time is checked after the signature, so that what is said of it is the gateway's own
    signed_at = dt.datetime.fromtimestamp(int(timestamp), dt.UTC)
    skew = (now - signed_at).total_seconds()
    if skew > tolerance_seconds:
        raise WebhookRefused(f"signed {skew:.0f} s ago, more than {tolerance_seconds} s: too old", TIMESTAMP_HEADER)
    if -skew > tolerance_seconds:
        raise WebhookRefused(f"signed {-skew:.0f} s ahead of now, more than {tolerance_seconds} s: "
                             "from the future", TIMESTAMP_HEADER)
    return Verified(signed_at=signed_at, replay_key=hashlib.sha256(expected.encode("ascii")).hexdigest())


# --------------------------------------------------------------------------- what comes in

RECEIPT_STATUSES = ("delivered", "failed", "expired")


@dataclass(frozen=True)
class Receipt:
    """What became of a text the gateway had accepted."""

    id: str
    """The gateway's message id: :attr:`SendResult.provider_ref` of the send."""
    status: str
    """``delivered``, ``failed`` or ``expired``."""
    at: dt.datetime
    error: str | None = None


@dataclass(frozen=True)
class Reply:
    """A text a customer sent back."""

    sender: str
    """The number it came from, E.164 (``from`` in the body)."""
    text: str
    at: dt.datetime
    id: str | None = None

    @property
    def opt_out(self) -> bool:
        """True: the reply is an opt-out keyword (:func:`is_opt_out`)."""
        return is_opt_out(self.text)


def _field_str(data: dict[str, Any], name: str, *, required: bool = True, allow_int: bool = False) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise SmsError(f"{name}: is missing")
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise SmsError(f"{name}: {value!r} is not a string")
    return value


def _moment(data: dict[str, Any]) -> dt.datetime:
    value = _field_str(data, "at")
    assert value is not None
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise SmsError(f"at: {value!r} is not an ISO-8601 time") from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise SmsError(f"at: {value!r} has no zone (write Z or +08:00)")
    return at


def parse_inbound(body: bytes | str) -> Receipt | Reply:
    """The receipt or reply a (verified) inbound post carries; :class:`SmsError` naming the
    field for one that is not as the module's docstring says."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SmsError(f"body: not JSON in UTF-8: {exc}") from exc
    if not isinstance(data, dict):
        raise SmsError("body: must be a JSON object")
    kind = data.get("type")
    if kind == "receipt":
        ref = _field_str(data, "id", allow_int=True)
        assert ref is not None
        if not ref.strip():
            raise SmsError("id: is empty")
        status = data.get("status")
        if status not in RECEIPT_STATUSES:
            raise SmsError(f"status: {status!r} is not one of {', '.join(RECEIPT_STATUSES)}")
        return Receipt(id=ref.strip(), status=status, at=_moment(data), error=_field_str(data, "error", required=False))
    if kind == "reply":
        number = _field_str(data, "from")
        assert number is not None
        text = _field_str(data, "text")
        assert text is not None
        ref = _field_str(data, "id", required=False, allow_int=True)
        return Reply(sender=normalise_number(number, None, field="from", mobile=False), text=text,
                     at=_moment(data), id=ref.strip() if ref and ref.strip() else None)
    raise SmsError(f"type: {kind!r} is not receipt or reply")


_OPT_OUT_KEYWORDS = frozenset(("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "退订", "td", "取消订阅"))


def is_opt_out(text: str) -> bool:
    """True when the whole reply is an opt-out keyword: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
    QUIT, 退订, TD or 取消订阅, any case, trimmed, NFKC-normalised (full-width ``ＳＴＯＰ`` is
    STOP), punctuation removed (``stop.``, ``"STOP!"``, ``退订。``). A sentence is not a keyword
    (``please stop calling me``, ``don't stop``): see the module's docstring."""
    if not isinstance(text, str):
        return False
    normal = unicodedata.normalize("NFKC", text)
    bare = "".join(c for c in normal if not unicodedata.category(c).startswith("P"))
    return bare.strip().casefold() in _OPT_OUT_KEYWORDS
