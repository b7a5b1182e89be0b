"""A desk whose backend's certificate it does not trust (issue 18 item 2) says so, as the
certificate, not as a backend that is merely down; and keeps what was typed as it does then.
(The TLS itself, with real certificates and a real server: tests/cli/test_tls.py.)"""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.desk.conftest import Switch, notices, screen_text, settle

pytestmark = pytest.mark.desk

VERIFY = "unable to get local issuer certificate"


class Untrusted(Switch):
    """The network as a desk sees it when the server's certificate is not trusted: httpx's
    ConnectError from the handshake's SSLCertVerificationError (as httpcore raises it)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.untrusted = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.untrusted:
            cause = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {VERIFY}")
            cause.verify_message = VERIFY
            raise httpx.ConnectError(str(cause), request=request) from cause
        return await super().handle_async_request(request)


def _login_error(desk) -> str:  # noqa: ANN001
    return str(desk.screen.query_one("#login-error").render())


async def test_signing_in_to_an_untrusted_server_names_the_certificate(make_desk, transport) -> None:  # noqa: ANN001
    untrusted = Untrusted(transport)
    untrusted.untrusted = True
    desk = make_desk("agent1", transport=untrusted)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "LoginScreen"
        said = _login_error(desk)
        assert said.startswith(f"No secure connection to {desk.server}: its certificate is not trusted ({VERIFY})")
        assert "ca_bundle" in said and "cannot be reached" not in said


async def test_a_signed_in_desk_says_the_certificate_and_keeps_working(make_desk, transport, accounts) -> None:  # noqa: ANN001
    accounts()
    untrusted = Untrusted(transport)
    desk = make_desk("agent1", transport=untrusted)
    async with desk.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        assert type(desk.screen).__name__ == "WorklistScreen"
        untrusted.untrusted = True  # the server's certificate replaced by one the desk does not trust
        await pilot.press("r")  # the worklist again
        await settle(pilot)
        assert "Backend certificate not trusted" in screen_text(desk)
        messages = [n.message for n in notices(desk)]
        assert any(m.startswith(f"No secure connection to the backend: its certificate is not trusted ({VERIFY})")
                   for m in messages), messages
        assert not any("cannot be reached" in m for m in messages)
        untrusted.untrusted = False  # fixed: the next answer brings it back
        await pilot.press("r")  # the worklist again
        await settle(pilot)
        assert "Online" in screen_text(desk)
