"""The SMS channel (issue 20 item 2) against a real HTTP gateway on loopback (a small
``ThreadingHTTPServer`` that records what it is sent): the configured body, auth header and
``Idempotency-Key`` arriving, and the gateway's id back as ``provider_ref``; 5xx, 429, a
timeout and nothing listening as temporary failures; a 401 as an outage; a 400 about the
number as the customer's. The templates in English and Chinese with money from minor units,
segment counting and the opt-out line; the signed webhook (with a clock the tests own),
inbound receipts and replies, and opt-out keywords."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from backend.channels.result import Outcome
from backend.channels.sms import (
    IDEMPOTENCY_HEADER,
    OPT_OUT_TEXT,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Receipt,
    Reply,
    SmsError,
    WebhookRefused,
    build_body,
    is_opt_out,
    normalise_number,
    parse_inbound,
    render,
    segments,
    send,
    sign,
    verify,
)
from config.settings import BackendSettings

KEY = "acct-42:sms_1:2026-11-27"
TOKEN = "Bearer sms-T0ken-secret"
SECRET = "whsec-test-3f1a"
NUMBER = "+12015550123"
NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=ZoneInfo("America/New_York"))
TS = int(NOW.timestamp())


class Gateway(BaseHTTPRequestHandler):
    """Answers by path: ``/send`` 200 with an id; ``/nested`` 201 with the id deep inside;
    ``/noid`` 200 without one; ``/status/<code>[-<what>]`` that code with some words."""

    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
            count = len(self.server.received)
        path = self.path
        if path == "/send":
            self._answer(200, {"id": f"msg-{count}", "status": "queued"})
        elif path == "/nested":
            self._answer(201, {"data": {"messages": [{"id": 4242}]}})
        elif path == "/noid":
            self._answer(200, {"status": "queued"})
        elif path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/send")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path.startswith("/status/"):
            code, _, what = path.removeprefix("/status/").partition("-")
            answers: dict[str, dict[str, Any]] = {
                "number": {"error": f"invalid destination {NUMBER}"},
                "field": {"errors": [{"field": "to", "message": "not a mobile"}]},
                "body": {"error": "malformed JSON: expected a string at text"},
                "echo": {"error": f"bad credentials {self.headers.get('Authorization')}"},
            }
            words = answers.get(what, {"error": "busy"})
            self._answer(int(code), words)
        else:
            self._answer(404, {"error": "no such endpoint"})

    def _answer(self, code: int, data: dict[str, Any]) -> None:
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def gateway() -> Iterator[tuple[list[dict[str, Any]], str]]:
    """A real HTTP gateway on loopback: what it received, and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.received, f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _settings(url: str, **over: Any) -> BackendSettings:
    values: dict[str, Any] = {"sms_gateway_url": url, "sms_auth_value": TOKEN, "sms_sender": "DemoBank",
                              "sms_timeout_seconds": 5, "default_country": "US"}
    return BackendSettings(**{**values, **over})


TEXT = 'Demo Bank: "Li" \\ Lei, pay $1,234.56.\nReply STOP to opt out'


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- sending


def test_delivered_with_the_gateways_id_and_what_was_configured_arriving(gateway, caplog) -> None:
    received, base = gateway
    result = send(_settings(f"{base}/send"), to="(201) 555-0123", text=TEXT, key=KEY)
    assert (result.outcome, result.code, result.stage, result.provider_ref) == (Outcome.DELIVERED, 200, "sent", "msg-1")
    assert result.delivered and not result.retry and not result.outage
    (got,) = received
    assert got["headers"]["Authorization"] == TOKEN
    assert got["headers"][IDEMPOTENCY_HEADER] == KEY
    assert got["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(got["body"]) == {"to": NUMBER, "text": TEXT, "from": "DemoBank", "reference": KEY}
    assert TOKEN not in caplog.text and TOKEN not in repr(result)


def test_a_configured_body_header_and_id_path(gateway) -> None:
    received, base = gateway
    template = ('{"messages": [{"destination": "$to", "content": "$text", "tag": "$text-ish"}], '
                '"client_ref": "$key", "channel": "sms", "priority": 1, "flash": false}')
    with pytest.raises(ValueError, match="(?s)placeholder must be a whole JSON string"):
        _settings(f"{base}/nested", sms_body_template=template)
    template = template.replace('"$text-ish"', '"reminder"')
    settings = _settings(f"{base}/nested", sms_body_template=template, sms_auth_header="X-Api-Key",
                         sms_auth_value="k-123", sms_sender=None, sms_message_id_field="data.messages.0.id")
    result = send(settings, to=NUMBER, text="李雷您好。回复退订停止接收", key=KEY)
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.DELIVERED, 201, "4242")
    (got,) = received
    assert got["headers"]["X-Api-Key"] == "k-123" and "Authorization" not in got["headers"]
    assert json.loads(got["body"].decode("utf-8")) == {
        "messages": [{"destination": NUMBER, "content": "李雷您好。回复退订停止接收", "tag": "reminder"}],
        "client_ref": KEY, "channel": "sms", "priority": 1, "flash": False}


def test_a_resend_carries_the_same_key(gateway) -> None:
    received, base = gateway
    first = send(_settings(f"{base}/status/503"), to=NUMBER, text=TEXT, key=KEY)
    again = send(_settings(f"{base}/send"), to=NUMBER, text=TEXT, key=KEY)
    assert first.retry and again.delivered
    assert [r["headers"][IDEMPOTENCY_HEADER] for r in received] == [KEY, KEY]
    assert received[0]["body"] == received[1]["body"]


@pytest.mark.parametrize("code", [500, 502, 503, 429, 408])
def test_busy_or_broken_gateway_is_temporary(gateway, code) -> None:
    _, base = gateway
    result = send(_settings(f"{base}/status/{code}"), to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, code, "gateway")
    assert result.retry and not result.outage and "busy" in result.message


def test_a_gateway_url_that_cannot_be_used_is_a_permanent_outage() -> None:
    with pytest.raises(ValueError, match="(?s)sms_gateway_url.*out of range"):
        _settings("http://127.0.0.1:99999/send")
    # one that slipped past the settings' check (built without it) is the channel's, not the customer's
    settings = BackendSettings.model_construct(**{**dict(_settings("http://127.0.0.1/")), "sms_gateway_url": "http://[zz]/"})
    result = send(settings, to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.stage) == (Outcome.PERMANENT, "gateway") and result.outage


def test_nothing_listening_is_temporary() -> None:
    port = _free_port()  # bound and closed: nothing listens there
    result = send(_settings(f"http://127.0.0.1:{port}/send"), to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, None, "connect")
    assert result.retry and not result.outage


def test_a_gateway_that_never_answers_is_temporary() -> None:
    with socket.socket() as silent:  # listens (the kernel accepts), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = send(_settings(f"http://127.0.0.1:{port}/send", sms_timeout_seconds=0.3), to=NUMBER, text=TEXT,
                      key=KEY)
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, None, "gateway")
    assert result.retry and "0.3 s" in result.message


@pytest.mark.parametrize("path", ["/status/401", "/status/403", "/status/404", "/status/405", "/nope", "/noid",
                                  "/redirect", "/status/400-body"])
def test_a_refusal_of_the_request_itself_is_a_permanent_outage(gateway, path) -> None:
    _, base = gateway
    result = send(_settings(f"{base}{path}"), to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.stage) == (Outcome.PERMANENT, "gateway")
    assert result.outage and not result.retry and result.provider_ref == ""


def test_a_401_never_echoes_the_auth_value(gateway, caplog) -> None:
    _, base = gateway
    result = send(_settings(f"{base}/status/401-echo"), to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.code, result.stage) == (Outcome.PERMANENT, 401, "gateway") and result.outage
    assert "bad credentials ***" in result.message
    assert "sms-T0ken-secret" not in result.message and "sms-T0ken-secret" not in caplog.text
    assert "sms-T0ken-secret" not in repr(_settings(base))


@pytest.mark.parametrize("path", ["/status/400-number", "/status/422-field"])
def test_a_refused_number_is_the_customers_not_an_outage(gateway, path) -> None:
    _, base = gateway
    result = send(_settings(f"{base}{path}"), to=NUMBER, text=TEXT, key=KEY)
    assert (result.outcome, result.stage) == (Outcome.PERMANENT, "recipient")
    assert not result.outage and not result.retry


def test_what_no_resend_can_mend_is_refused_before_sending(gateway) -> None:
    received, base = gateway
    settings = _settings(f"{base}/send")
    for bad in ("12345", "not a number", "+861012345678", "+18005550100", ""):  # garbage, a landline, toll-free
        with pytest.raises(SmsError, match="^to: "):
            send(settings, to=bad, text=TEXT, key=KEY)
    for key in ("a\nb", "", "clé-42"):
        with pytest.raises(SmsError, match="^key: "):
            send(settings, to=NUMBER, text=TEXT, key=key)
    with pytest.raises(SmsError, match="^sms_auth_value: must be printable ASCII") as refused:
        send(_settings(f"{base}/send", sms_auth_value="Bearer s3cret\r\nX: y"), to=NUMBER, text=TEXT, key=KEY)
    assert "s3cret" not in str(refused.value)
    with pytest.raises(SmsError, match="^text: 4 SMS segments"):
        send(settings, to=NUMBER, text="x" * 500, key=KEY)
    with pytest.raises(SmsError, match="^sms_gateway_url: not set"):
        send(BackendSettings(), to=NUMBER, text=TEXT, key=KEY)
    with pytest.raises(SmsError, match="^sms_sender: not set"):
        send(_settings(f"{base}/send", sms_sender=None), to=NUMBER, text=TEXT, key=KEY)
    assert received == []


def test_settings_that_cannot_work_are_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="(?s)sms_gateway_url.*https:// is required"):
        BackendSettings(sms_gateway_url="http://gateway.example/send")
    BackendSettings(sms_gateway_url="https://gateway.example/send")
    BackendSettings(sms_gateway_url="http://[::1]:8080/send")
    BackendSettings(sms_gateway_url="http://localhost:8080/send")
    with pytest.raises(ValueError, match="(?s)sms_body_template.*has no \\$to"):
        BackendSettings(sms_body_template='{"text": "$text"}')
    with pytest.raises(ValueError, match="(?s)sms_body_template.*not JSON"):
        BackendSettings(sms_body_template='{"to": $to}')
    with pytest.raises(ValueError, match="sms_auth_header"):
        BackendSettings(sms_auth_header="Bad Header:")
    with pytest.raises(ValueError, match="sms_message_id_field"):
        BackendSettings(sms_message_id_field="data..id")
    shown = repr(BackendSettings(sms_auth_value=TOKEN, sms_webhook_secret=SECRET))
    assert "sms-T0ken" not in shown and SECRET not in shown


def test_the_body_keeps_every_value_one_json_string() -> None:
    nasty = '", "to": "+19995550000", "x": "\\u0000\n}'
    body = build_body('{"to": "$to", "text": "$text", "k": ["$key"]}', to=NUMBER, text=nasty, key=KEY, sender=None)
    assert json.loads(body) == {"to": NUMBER, "text": nasty, "k": [KEY]}


def test_numbers_are_normalised_to_e164() -> None:
    assert normalise_number("(201) 555-0123", "US") == NUMBER
    assert normalise_number("+86 138 0013 8000") == "+8613800138000"
    assert normalise_number("138 0013 8000", "CN") == "+8613800138000"
    with pytest.raises(SmsError, match="^to: .*not a mobile"):
        normalise_number("+86 10 1234 5678")


# --------------------------------------------------------------------------- templates and segments


@pytest.mark.parametrize("name", ["reminder_sms", "pre_due_sms", "broken_promise_sms"])
@pytest.mark.parametrize(("lang", "currency", "amount", "day", "encoding"), [
    ("en", "USD", "$1,234.56", "November 26, 2026", "GSM-7"),
    ("zh_CN", "CNY", "¥1,234.56", "2026年11月26日", "UCS-2"),
])
def test_templates_in_both_languages(name, lang, currency, amount, day, encoding) -> None:
    customer = "Li Lei" if lang == "en" else "李雷"
    rendered = render(name, lang, bank_name="Demo Bank", customer_name=customer, amount_due_minor=123456,
                      currency=currency, due_date=dt.date(2026, 11, 26), opt_out_text=OPT_OUT_TEXT[lang])
    text = rendered.text
    assert amount in text and day in text and customer in text and "Demo Bank" in text
    assert text.endswith(OPT_OUT_TEXT[lang]) and "$" not in text.replace(amount, "")
    assert (rendered.segments, rendered.encoding) == (1, encoding)


def test_money_from_minor_units_in_other_currencies() -> None:
    fields: dict[str, Any] = {"bank_name": "B", "customer_name": "C", "due_date": dt.date(2026, 1, 1),
                              "opt_out_text": OPT_OUT_TEXT["en"]}
    assert "¥1,235" in render("reminder_sms", "en", amount_due_minor=1235, currency="JPY", **fields).text
    assert "$0.05" in render("reminder_sms", "en", amount_due_minor=5, currency="USD", **fields).text
    with pytest.raises(SmsError, match="^amount_due_minor"):
        render("reminder_sms", "en", amount_due_minor=12.5, currency="USD", **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [
    ("", (0, "GSM-7")),
    ("a" * 160, (1, "GSM-7")),
    ("a" * 161, (2, "GSM-7")),
    ("a" * 306, (2, "GSM-7")),
    ("a" * 307, (3, "GSM-7")),
    ("€" * 80, (1, "GSM-7")),     # an extension character is two septets
    ("€" * 81, (2, "GSM-7")),
    ("aa" + "€" * 152, (3, "GSM-7")),  # 306 septets, but an escape pair is never split: 152 + 152 + 2
    ("中" * 70, (1, "UCS-2")),
    ("中" * 71, (2, "UCS-2")),
    ("中" * 134, (2, "UCS-2")),
    ("中" * 135, (3, "UCS-2")),
    ("a" * 69 + "é", (1, "GSM-7")),  # é is GSM-7
    ("a" * 70 + "ê", (2, "UCS-2")),  # ê is not: the whole text goes UCS-2
    ("😀" * 35, (1, "UCS-2")),      # two UTF-16 units each
    ("😀" * 36, (2, "UCS-2")),
])
def test_segment_counting(text, expected) -> None:
    assert segments(text) == expected


def test_too_long_a_text_and_a_missing_opt_out_are_refused(tmp_path) -> None:
    fields: dict[str, Any] = {"bank_name": "Demo Bank", "amount_due_minor": 123456, "currency": "CNY",
                              "due_date": dt.date(2026, 11, 26), "opt_out_text": OPT_OUT_TEXT["zh_CN"]}
    assert render("reminder_sms", "zh_CN", customer_name="李" * 20, **fields).segments == 2
    with pytest.raises(SmsError, match=r"reminder_sms\.zh_CN\.toml: text: 2 SMS segments .*sms_max_segments"):
        render("reminder_sms", "zh_CN", customer_name="李" * 20, max_segments=1, **fields)
    (tmp_path / "no_opt_out.en.toml").write_text('text = "Pay $amount_due by $due_date."\n', encoding="utf-8")
    with pytest.raises(SmsError, match=r"no_opt_out\.en\.toml: text: does not show the opt-out line"):
        render("no_opt_out", "en", customer_name="C", template_dir=tmp_path, **fields)
    with pytest.raises(SmsError, match="^opt_out_text: is empty"):
        render("reminder_sms", "en", customer_name="C", **{**fields, "opt_out_text": " "})
    (tmp_path / "bad.en.toml").write_text('text = "Hi $name $opt_out"\n', encoding="utf-8")
    with pytest.raises(SmsError, match=r"bad\.en\.toml: text: unknown field \$name"):
        render("bad", "en", customer_name="C", template_dir=tmp_path, **fields)
    (tmp_path / "extra.en.toml").write_text('text = "$opt_out"\nsubject = "x"\n', encoding="utf-8")
    with pytest.raises(SmsError, match=r"extra\.en\.toml: subject: unknown key"):
        render("extra", "en", customer_name="C", template_dir=tmp_path, **fields)
    with pytest.raises(SmsError, match="no such SMS template"):
        render("reminder_sms", "fr", customer_name="C", **fields)
    with pytest.raises(SmsError, match="^lang: "):
        render("reminder_sms", "../en", customer_name="C", **fields)


def test_every_sms_step_of_the_strategies_has_its_templates() -> None:
    from backend.domain.treatments import parse_treatments
    from config import CONFIG_DIR

    named = set()
    for path in sorted((CONFIG_DIR / "strategies").glob("*.toml")):
        path_steps = parse_treatments(tomllib.loads(path.read_text(encoding="utf-8")), path.name).steps
        named |= {s.template for s in path_steps if s.channel == "sms"}
    assert named == {"reminder_sms", "pre_due_sms", "broken_promise_sms"}
    for name in sorted(named):
        for lang in ("en", "zh_CN"):
            rendered = render(name, lang, bank_name="B", customer_name="C", amount_due_minor=1, currency="USD",
                              due_date=dt.date(2026, 1, 1), opt_out_text=OPT_OUT_TEXT[lang])
            assert rendered.segments == 1


# --------------------------------------------------------------------------- the signed webhook

BODY = b'{"type":"receipt","id":"msg-1","status":"delivered","at":"2026-12-03T14:29:58Z"}'


def test_sign_and_verify_round_trip() -> None:
    signature = sign(SECRET, TS, BODY)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    verified = verify(SECRET, str(TS), signature, BODY, NOW)
    assert verified.signed_at == NOW and verified.signed_at.tzinfo is not None
    assert verified.replay_key == verify(SECRET, str(TS), signature, BODY, NOW + dt.timedelta(seconds=5)).replay_key
    assert verified.replay_key != verify(SECRET, str(TS), sign(SECRET, TS, BODY + b" "), BODY + b" ", NOW).replay_key
    # the secret as a SecretStr (as the settings hold it), or bytes, signs the same
    from pydantic import SecretStr

    assert sign(SecretStr(SECRET), TS, BODY) == sign(SECRET.encode(), TS, BODY) == signature


def test_the_scheme_is_hmac_sha256_of_timestamp_dot_body() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"


@pytest.mark.parametrize(("secret", "timestamp", "signature", "body", "now", "field", "reason"), [
    (SECRET, str(TS), "tampered", BODY.replace(b"delivered", b"failed\x20\x20\x20"), NOW, SIGNATURE_HEADER,
     "does not match"),
    ("another-secret", str(TS), "good", BODY, NOW, SIGNATURE_HEADER, "does not match"),
    (SECRET, str(TS + 1), "good", BODY, NOW, SIGNATURE_HEADER, "does not match"),  # the timestamp is signed too
    (SECRET, str(TS), "good", BODY, NOW + dt.timedelta(seconds=301), TIMESTAMP_HEADER, "too old"),
    (SECRET, str(TS), "good", BODY, NOW - dt.timedelta(seconds=301), TIMESTAMP_HEADER, "from the future"),
    (None, str(TS), "good", BODY, NOW, "sms_webhook_secret", "not set"),
    ("", str(TS), "good", BODY, NOW, "sms_webhook_secret", "not set"),
    (SECRET, None, "good", BODY, NOW, TIMESTAMP_HEADER, "missing"),
    (SECRET, str(TS), None, BODY, NOW, SIGNATURE_HEADER, "missing"),
    (SECRET, "1.7e9", "good", BODY, NOW, TIMESTAMP_HEADER, "whole unix seconds"),
    (SECRET, f"-{TS}", "good", BODY, NOW, TIMESTAMP_HEADER, "whole unix seconds"),
    (SECRET, str(TS), "upper", BODY, NOW, SIGNATURE_HEADER, "lower-case hex"),
    (SECRET, str(TS), "bare", BODY, NOW, SIGNATURE_HEADER, "sha256="),
])
def test_verify_refuses(secret, timestamp, signature, body, now, field, reason) -> None:
    good = sign(SECRET, TS, BODY)
    signature = {"good": good, "tampered": good, "upper": good.upper().replace("SHA256", "sha256"),
                 "bare": good.removeprefix("sha256=")}.get(signature, signature)
    if secret == "another-secret":
        signature = sign(secret, TS, BODY)
        secret = SECRET
    with pytest.raises(WebhookRefused) as refused:
        verify(secret, timestamp, signature, body, now)
    assert refused.value.field == field and reason in refused.value.reason
    assert SECRET not in str(refused.value)


def test_verify_within_tolerance_either_way() -> None:
    signature = sign(SECRET, TS, BODY)
    for seconds in (-300, 300, -10, 10):
        verify(SECRET, str(TS), signature, BODY, NOW + dt.timedelta(seconds=seconds))
    verify(SECRET, str(TS), signature, BODY, NOW + dt.timedelta(seconds=900), tolerance_seconds=900)
    with pytest.raises(SmsError, match="^now: .*zone-aware"):
        verify(SECRET, str(TS), signature, BODY, dt.datetime(2026, 12, 3, 14, 30))


@hsettings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=512), timestamp=st.integers(min_value=0, max_value=10**11),
       secret=st.text(min_size=1, max_size=40), index=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_signed_body_verifies_and_any_byte_changed_fails(body, timestamp, secret, index, flip) -> None:
    now = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    signature = sign(secret, timestamp, body)
    assert verify(secret, str(timestamp), signature, body, now).signed_at == now
    if body:
        changed = bytearray(body)
        changed[index % len(body)] ^= flip
        with pytest.raises(WebhookRefused, match="does not match"):
            verify(secret, str(timestamp), signature, bytes(changed), now)
    with pytest.raises(WebhookRefused, match="does not match"):
        verify(secret, str(timestamp), signature, body + b"\x00", now)


# --------------------------------------------------------------------------- inbound posts


def test_parse_a_receipt_and_a_reply() -> None:
    receipt = parse_inbound(BODY)
    assert receipt == Receipt(id="msg-1", status="delivered", at=dt.datetime(2026, 12, 3, 14, 29, 58, tzinfo=dt.UTC))
    failed = parse_inbound(json.dumps({"type": "receipt", "id": 4242, "status": "failed",
                                       "at": "2026-12-03T22:29:58+08:00", "error": "unreachable"}))
    assert isinstance(failed, Receipt) and failed.id == "4242" and failed.error == "unreachable"
    assert failed.at == receipt.at
    reply = parse_inbound(json.dumps({"type": "reply", "from": "+1 201 555 0123", "text": " Stop. ",
                                      "at": "2026-12-03T14:30:00Z", "unknown": "ignored"}).encode())
    assert isinstance(reply, Reply) and reply.sender == NUMBER and reply.id is None and reply.opt_out
    zh = parse_inbound(json.dumps({"type": "reply", "from": "+8613800138000", "text": "我下周还款",
                                   "at": "2026-12-03T22:30:00+08:00", "id": "in-7"}, ensure_ascii=False).encode())
    assert isinstance(zh, Reply) and zh.id == "in-7" and not zh.opt_out


@pytest.mark.parametrize(("body", "error"), [
    (b"not json", "^body: "),
    (b"\xff\xfe", "^body: "),
    (b"[]", "^body: must be a JSON object"),
    (b'{"type": "mms"}', "^type: "),
    (b'{"type": "receipt", "status": "delivered", "at": "2026-12-03T14:29:58Z"}', "^id: is missing"),
    (b'{"type": "receipt", "id": "", "status": "delivered", "at": "2026-12-03T14:29:58Z"}', "^id: is empty"),
    (b'{"type": "receipt", "id": "m", "status": "read", "at": "2026-12-03T14:29:58Z"}', "^status: 'read'"),
    (b'{"type": "receipt", "id": "m", "status": "delivered", "at": "2026-12-03T14:29:58"}', "^at: .* no zone"),
    (b'{"type": "receipt", "id": "m", "status": "delivered", "at": "yesterday"}', "^at: .* not an ISO-8601"),
    (b'{"type": "receipt", "id": "m", "status": "delivered"}', "^at: is missing"),
    (b'{"type": "receipt", "id": "m", "status": "delivered", "at": 1764772198}', "^at: .* not a string"),
    (b'{"type": "reply", "from": "nobody", "text": "x", "at": "2026-12-03T14:29:58Z"}', "^from: "),
    (b'{"type": "reply", "from": "+12015550123", "at": "2026-12-03T14:29:58Z"}', "^text: is missing"),
    (b'{"type": "reply", "from": "+12015550123", "text": 5, "at": "2026-12-03T14:29:58Z"}', "^text: .* not a string"),
])
def test_parse_inbound_names_the_field_at_fault(body, error) -> None:
    with pytest.raises(SmsError, match=error):
        parse_inbound(body)


@pytest.mark.parametrize("text", ["STOP", "Stop", " stop. ", "stop!", '"STOP"', "StopAll", "UNSUBSCRIBE", "cancel",
                                  "End", "quit", "ＳＴＯＰ", "退订", " 退订。", "TD", "td", "取消订阅", "\n STOP \n"])
def test_opt_out_keywords(text) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["please stop calling me", "don't stop", "stop it", "STOP ALL", "stopp",
                                  "I want to unsubscribe", "回复退订", "退订短信", "我要退订", "weekend", "", "   ", "?",
                                  "T D", "stop 🙏"])
def test_not_opt_out_keywords(text) -> None:
    assert not is_opt_out(text)
