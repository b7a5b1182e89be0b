"""Servers the tests run on loopback for the channels treatments send through: an SMTP
relay (``aiosmtpd``) and an HTTP SMS gateway, each keeping what it was given with the
instant it arrived on the test's clock. Real servers, not mocks: the channels speak SMTP
and HTTP to them as to the bank's."""

from __future__ import annotations

import contextlib
import datetime as dt
import email
import email.policy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

Clock = Callable[[], dt.datetime]


class Relay:
    """An SMTP server keeping what it is given, with the instant each arrived (the test's clock)."""

    def __init__(self, clock: Clock) -> None:
        self.clock: Clock = clock
        self.received: list[dict[str, Any]] = []
        self.port = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        self.received.append({"to": list(envelope.rcpt_tos), "msg": msg, "at": self.clock()})
        return "250 2.0.0 OK queued"


class Gateway:
    """An SMS gateway on loopback: answers each send with its id, keeps what it was sent with
    the instant (the test's clock); ``answer`` may be set to a status to refuse with."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.received, self.answer = clock, [], 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = gateway.answer
                if status == 200:
                    gateway.received.append({"body": json.loads(body), "headers": dict(self.headers),
                                             "at": gateway.clock()})
                    reply = json.dumps({"id": f"gw-{len(gateway.received)}"}).encode()
                else:
                    reply = b'{"error": "refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def texts_to(self, number: str) -> list[dict[str, Any]]:
        return [r for r in self.received if number in json.dumps(r["body"])]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_relay(clock: Clock) -> Iterator[Relay]:
    """An SMTP relay on loopback (no STARTTLS, no AUTH) while the block runs; ``relay.port``."""
    store = Relay(clock)
    controller = Controller(store, hostname="127.0.0.1", port=free_port())
    controller.start()
    store.port = controller.port
    try:
        yield store
    finally:
        controller.stop()


@contextlib.contextmanager
def running_gateway(clock: Clock) -> Iterator[Gateway]:
    """The SMS gateway on loopback while the block runs; ``gateway.port``."""
    gateway = Gateway(clock)
    gateway.thread.start()
    try:
        yield gateway
    finally:
        gateway.server.shutdown()
        gateway.server.server_close()
