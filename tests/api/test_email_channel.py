"""The e-mail channel (issue 20 item 2) against a real SMTP server on loopback
(``aiosmtpd``): what arrives, once, with both parts, the headers and the opt-out line;
STARTTLS (a throw-away CA from ``trustme``) and AUTH; a refused recipient (5xx) as a
permanent failure, a 4xx and nothing listening as temporary ones; the templates in
English and Chinese with money from minor units."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from backend.channels.email import (
    KEY_HEADER,
    EmailError,
    Outcome,
    build_message,
    message_id,
    render,
    send,
)
from config.settings import BackendSettings

SENDER = "Demo Bank Collections <collections@bank.example>"
KEY = "acct-42:email_5:2026-11-26"
NOW = dt.datetime(2026, 12, 3, 9, 30, tzinfo=ZoneInfo("America/New_York"))
OPT_OUT_URL = "https://bank.example/opt-out/email?t=abc&c=42"
USER, PASSWORD = "relay-user", "s3cret-Pa55"


class Store:
    """An aiosmtpd handler that keeps what it is given, and refuses some recipients."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.com>: no such mailbox"
        if address.startswith("later@"):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "content": envelope.original_content or envelope.content,
                              "tls": session.ssl is not None,
                              "login": session.auth_data.login if session.authenticated else None})
        return "250 2.0.0 OK queued"

    def wait(self, count: int, seconds: float = 5.0) -> list[dict[str, Any]]:
        """The messages received once there are ``count`` (bounded: fails after ``seconds``)."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def relay() -> Iterator[tuple[Store, int]]:
    """A plain SMTP server on loopback (no STARTTLS, no AUTH)."""
    store = Store()
    controller = Controller(store, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield store, controller.port
    finally:
        controller.stop()


@pytest.fixture
def pki(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA(organization_name="collectdesk test relay CA")
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    bundle = tmp_path / "relay-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return server, bundle


def _authenticator(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture
def secure_relay(pki) -> Iterator[tuple[Store, int, Path]]:
    """An SMTP server that demands STARTTLS, then AUTH, before it takes a message."""
    context, bundle = pki
    store = Store()
    controller = Controller(store, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, auth_required=True, authenticator=_authenticator)
    controller.start()
    try:
        yield store, controller.port, bundle
    finally:
        controller.stop()


def _settings(port: int, **over: Any) -> BackendSettings:
    values: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False,
                              "smtp_from": SENDER, "smtp_timeout_seconds": 5}
    return BackendSettings(**{**values, **over})


def _message(to: str = "li.lei@example.com", lang: str = "en", currency: str = "USD", key: str = KEY):
    rendered = render("reminder_email", lang, bank_name="Demo Bank", customer_name="Lei <Li> & Co",
                      amount_due_minor=123456, currency=currency, due_date=dt.date(2026, 11, 26),
                      opt_out_text="Stop these e-mails" if lang == "en" else "退订此类邮件",
                      opt_out_url=OPT_OUT_URL)
    return build_message(rendered, to=to, sender=SENDER, key=key, now=NOW)


def _parts(raw: bytes) -> tuple[email.message.EmailMessage, str, str]:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return msg, text.get_content(), html.get_content()


# --------------------------------------------------------------------------- sending


def test_arrives_once_with_both_parts_headers_and_opt_out(relay) -> None:
    store, port = relay
    result = send(_settings(port), _message())
    assert result.outcome is Outcome.DELIVERED and result.delivered and not result.retry
    assert (result.code, result.stage) == (250, "sent")
    (got,) = store.wait(1)
    assert got["to"] == ["li.lei@example.com"] and got["from"] == "collections@bank.example"
    assert not got["tls"] and got["login"] is None
    msg, text, html = _parts(got["content"])
    assert msg.get_content_type() == "multipart/alternative"
    assert msg["From"] == SENDER and msg["To"] == "li.lei@example.com"
    assert msg["Subject"] == "Demo Bank: your card payment of $1,234.56 is overdue"
    date = email.utils.parsedate_to_datetime(msg["Date"])
    assert date == NOW and date.utcoffset() == dt.timedelta(hours=-5)
    assert msg["Message-ID"] == message_id(KEY, "bank.example")
    assert msg[KEY_HEADER] == KEY
    assert msg["List-Unsubscribe"] == f"<{OPT_OUT_URL}>"
    assert "Dear Lei <Li> & Co," in text and "$1,234.56" in text and "November 26, 2026" in text
    assert f"Stop these e-mails: {OPT_OUT_URL}" in text
    assert "Dear Lei &lt;Li&gt; &amp; Co," in html and "<strong>$1,234.56</strong>" in html
    assert "Stop these e-mails" in html and 'href="https://bank.example/opt-out/email?t=abc&amp;c=42"' in html
    assert len(store.received) == 1


def test_starttls_and_auth_when_configured(secure_relay) -> None:
    store, port, bundle = secure_relay
    settings = _settings(port, smtp_starttls=True, smtp_ca_bundle=bundle, smtp_username=USER,
                         smtp_password=PASSWORD)
    result = send(settings, _message())
    assert result.outcome is Outcome.DELIVERED, result
    (got,) = store.wait(1)
    assert got["tls"] and got["login"] == USER.encode()


def test_a_refused_login_is_permanent_and_never_echoes_the_password(secure_relay, caplog) -> None:
    store, port, bundle = secure_relay
    settings = _settings(port, smtp_starttls=True, smtp_ca_bundle=bundle, smtp_username=USER,
                         smtp_password="wrong-Pa55word")
    result = send(settings, _message())
    assert (result.outcome, result.code, result.stage) == (Outcome.PERMANENT, 535, "auth")
    assert "wrong-Pa55word" not in repr(result) and "wrong-Pa55word" not in caplog.text
    assert "wrong-Pa55word" not in repr(settings)
    assert store.received == []


def test_without_auth_the_secure_relay_refuses_the_sender(secure_relay) -> None:
    store, port, bundle = secure_relay
    result = send(_settings(port, smtp_starttls=True, smtp_ca_bundle=bundle), _message())
    assert (result.outcome, result.code, result.stage) == (Outcome.PERMANENT, 530, "sender")
    assert store.received == []


def test_an_untrusted_relay_certificate_is_refused(secure_relay, tmp_path) -> None:
    store, port, _ = secure_relay
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    result = send(_settings(port, smtp_starttls=True, smtp_ca_bundle=other, smtp_username=USER,
                            smtp_password=PASSWORD), _message())
    assert (result.outcome, result.stage) == (Outcome.PERMANENT, "starttls")
    assert "not trusted" in result.message and store.received == []


def test_starttls_required_but_not_offered_is_permanent(relay) -> None:
    store, port = relay
    result = send(_settings(port, smtp_starttls=True), _message())
    assert (result.outcome, result.code, result.stage) == (Outcome.PERMANENT, None, "starttls")
    assert store.received == []


def test_a_refused_recipient_is_permanent_with_the_code(relay) -> None:
    store, port = relay
    result = send(_settings(port), _message(to="nobody@example.com"))
    assert (result.outcome, result.code, result.stage) == (Outcome.PERMANENT, 550, "recipient")
    assert "no such mailbox" in result.message and not result.retry
    assert store.received == []


def test_a_4xx_is_temporary(relay) -> None:
    store, port = relay
    result = send(_settings(port), _message(to="later@example.com"))
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, 451, "recipient")
    assert result.retry and store.received == []


def test_nothing_listening_is_temporary() -> None:
    port = _free_port()  # bound and closed: nothing listens there
    result = send(_settings(port), _message())
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, None, "connect")
    assert result.retry and str(port) in result.message


def test_settings_that_cannot_work_name_the_setting() -> None:
    with pytest.raises(EmailError, match="^smtp_host: not set"):
        send(BackendSettings(smtp_from=SENDER), _message())
    with pytest.raises(EmailError, match="^smtp_from: not set"):
        send(BackendSettings(smtp_host="127.0.0.1"), _message())
    with pytest.raises(EmailError, match="^smtp_password: not set"):
        send(_settings(25, smtp_username=USER), _message())
    with pytest.raises(ValueError, match="smtp_from"):
        BackendSettings(smtp_from="not an address")


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize("name", ["reminder_email", "pre_due_email"])
@pytest.mark.parametrize(("lang", "currency", "amount", "day", "opt_out"), [
    ("en", "USD", "$1,234.56", "November 26, 2026", "Stop these e-mails"),
    ("zh_CN", "CNY", "¥1,234.56", "2026年11月26日", "退订此类邮件"),
])
def test_templates_in_both_languages(name, lang, currency, amount, day, opt_out) -> None:
    rendered = render(name, lang, bank_name="Demo Bank", customer_name="李雷", amount_due_minor=123456,
                      currency=currency, due_date=dt.date(2026, 11, 26), opt_out_text=opt_out,
                      opt_out_url=OPT_OUT_URL)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert amount in part and "$" not in part.replace(amount, "")
    assert day in rendered.text and day in rendered.html
    assert "李雷" in rendered.text and opt_out in rendered.text and opt_out in rendered.html
    msg = build_message(rendered, to="li@example.com", sender=SENDER, key=KEY, now=NOW)
    assert msg[KEY_HEADER] == KEY


def test_template_and_message_errors_name_what_is_at_fault(tmp_path) -> None:
    (tmp_path / "bad.en.toml").write_text('subject = "Hi $name"\ntext = "x"\nhtml = "y"\n', encoding="utf-8")
    fields: dict[str, Any] = {"bank_name": "B", "customer_name": "C", "amount_due_minor": 100, "currency": "USD",
                              "due_date": dt.date(2026, 1, 1), "opt_out_text": "Stop", "opt_out_url": OPT_OUT_URL}
    with pytest.raises(EmailError, match=r"bad\.en\.toml: subject: unknown field \$name"):
        render("bad", "en", template_dir=tmp_path, **fields)
    with pytest.raises(EmailError, match="no such e-mail template"):
        render("reminder_email", "fr", **fields)
    with pytest.raises(EmailError, match="^amount_due_minor"):
        render("reminder_email", "en", **{**fields, "amount_due_minor": 12.5})
    with pytest.raises(EmailError, match="^opt_out_url"):
        render("reminder_email", "en", **{**fields, "opt_out_url": "http://bank.example/x"})
    # a template that forgets the opt-out line is refused when the message is built
    (tmp_path / "no_opt_out.en.toml").write_text(
        'subject = "Hi"\ntext = "Pay $amount_due. $opt_out_url"\nhtml = "<p>$opt_out: $opt_out_url</p>"\n',
        encoding="utf-8")
    rendered = render("no_opt_out", "en", template_dir=tmp_path, **fields)
    with pytest.raises(EmailError, match="^text: does not show the opt-out line"):
        build_message(rendered, to="c@example.com", sender=SENDER, key=KEY, now=NOW)
    good = render("reminder_email", "en", **fields)
    with pytest.raises(EmailError, match="^now: .* zone-aware"):
        build_message(good, to="c@example.com", sender=SENDER, key=KEY, now=dt.datetime(2026, 1, 1))
    with pytest.raises(EmailError, match="^to: "):
        build_message(good, to="not an address", sender=SENDER, key=KEY, now=NOW)
    with pytest.raises(EmailError, match="^key: "):
        build_message(good, to="c@example.com", sender=SENDER, key="a\nBcc: x@evil.example", now=NOW)


def test_a_relay_that_never_answers_is_temporary() -> None:
    with socket.socket() as silent:  # listens (the kernel accepts), never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = send(_settings(port, smtp_timeout_seconds=0.3), _message())
    assert (result.outcome, result.code, result.stage) == (Outcome.TEMPORARY, None, "connect")
    assert result.retry and "0.3 s" in result.message


def test_every_email_step_of_the_strategies_has_its_templates() -> None:
    import tomllib

    from backend.domain.treatments import parse_treatments
    from config import CONFIG_DIR

    named = set()
    for path in sorted((CONFIG_DIR / "strategies").glob("*.toml")):
        path_steps = parse_treatments(tomllib.loads(path.read_text(encoding="utf-8")), path.name).steps
        named |= {s.template for s in path_steps if s.channel == "email"}
    assert named == {"reminder_email", "pre_due_email"}
    for name in sorted(named):
        for lang in ("en", "zh_CN"):
            render(name, lang, bank_name="B", customer_name="C", amount_due_minor=1, currency="USD",
                   due_date=dt.date(2026, 1, 1), opt_out_text="Stop", opt_out_url=OPT_OUT_URL)
