"""TLS from the desk to the backend (issue 18 item 2), with throw-away CAs from ``trustme``:
``collectdesk serve --certfile --keyfile`` on a loopback port, the desk's client trusting the
CA that signed it (and no other), no plain HTTP on the HTTPS port, and the refusals in one line
(a missing certificate, a key that is not its key, an unusable CA bundle)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
import trustme
from cli_helpers import child_env, run_child

from backend_client.client import BackendClient, BackendUnavailable, UntrustedServer
from backend_client.tls import CABundleError, certificate_problem, verify_context
from collectdesk.cli.desk import _server_tls
from collectdesk.cli.runtime import CliError
from collectdesk.embedded import free_port
from config.settings import DeskSettings
from tests.procs import seed_database

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups as on POSIX")


class Pki:
    """A CA and a server certificate for 127.0.0.1 and localhost it signed, as PEM files."""

    def __init__(self, directory: Path, name: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.ca = trustme.CA(organization_name=f"collectdesk test CA {name}")
        self.server = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_pem = directory / "ca.pem"
        self.cert_pem = directory / "server-chain.pem"
        self.key_pem = directory / "server-key.pem"
        self.both_pem = directory / "server-key-and-chain.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_pem))
        for i, blob in enumerate(self.server.cert_chain_pems):
            blob.write_to_path(str(self.cert_pem), append=i > 0)
        self.server.private_key_pem.write_to_path(str(self.key_pem))
        self.server.private_key_and_cert_chain_pem.write_to_path(str(self.both_pem))


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"), "A")


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """Another CA: its certificates look as good, and the desk trusting ``pki`` refuses them."""
    return Pki(tmp_path_factory.mktemp("pki-other"), "B")


def _wait_https(url: str, ca_pem: Path, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    context = ssl.create_default_context(cafile=str(ca_pem))
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2.0, verify=context).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/healthz did not answer within {timeout} s")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def https_backend(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``collectdesk serve --certfile --keyfile`` on a seeded database; yields its port."""
    db = seed_database(f"sqlite:///{tmp_path_factory.mktemp('tls-db') / 'backend.db'}", accounts=6)
    port = free_port()
    log = tmp_path_factory.mktemp("tls-log") / "backend.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collectdesk", "serve", "--port", str(port), "--log-level", "warning",
             "--certfile", str(pki.cert_pem), "--keyfile", str(pki.key_pem), "--exit-with-parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env=child_env(COLLECTDESK_DB=db))
    try:
        _wait_https(f"https://127.0.0.1:{port}", pki.ca_pem, proc)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(15)


def _health(url: str, ca_bundle: Path | None = None) -> object:
    async def go() -> object:
        async with BackendClient(url, ca_bundle=ca_bundle) as api:
            return await api.health()

    return asyncio.run(go())


async def _sign_in_and_read(url: str, ca_bundle: Path | None) -> int:
    async with BackendClient(url, ca_bundle=ca_bundle) as api:
        await api.login("agent1", "agent1")
        page = await api.worklist(limit=10)
    return len(page.items)


# -- (1) trusted: the desk's client signs in and reads its worklist over HTTPS ------------------


def test_a_desk_trusting_the_ca_signs_in_and_reads_the_worklist(https_backend: int, pki: Pki) -> None:
    for host in ("127.0.0.1", "localhost"):
        assert asyncio.run(_sign_in_and_read(f"https://{host}:{https_backend}", pki.ca_pem)) > 0


def test_the_desk_settings_name_the_ca_bundle(tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'server = "https://127.0.0.1:8765"\nca_bundle = "{pki.ca_pem}"\n', encoding="utf-8")
    assert DeskSettings.load(config).ca_bundle == pki.ca_pem
    monkeypatch.setenv("COLLECTDESK_CA_BUNDLE", str(tmp_path / "from-env.pem"))
    assert DeskSettings.load(config).ca_bundle == tmp_path / "from-env.pem"  # the environment before the file
    assert DeskSettings.load(config, ca_bundle=pki.ca_pem).ca_bundle == pki.ca_pem  # the command line first


# -- (2) untrusted: refused, and said to be the certificate ------------------------------------


@pytest.mark.parametrize("trust", ["another CA", "the default trust store"])
def test_a_desk_refuses_a_server_whose_certificate_it_does_not_trust(https_backend: int, other_pki: Pki,
                                                                     trust: str) -> None:
    ca_bundle = other_pki.ca_pem if trust == "another CA" else None
    with pytest.raises(UntrustedServer) as refused:
        asyncio.run(_sign_in_and_read(f"https://127.0.0.1:{https_backend}", ca_bundle))
    # Still a BackendUnavailable (the desk keeps what was typed), but said as what it is.
    assert isinstance(refused.value, BackendUnavailable)
    assert str(refused.value) == ("no secure connection to the backend: its certificate is not trusted "
                                  "(unable to get local issuer certificate)")


def test_a_certificate_for_another_host_is_refused(tmp_path: Path, pki: Pki) -> None:
    """The host name is checked too: a certificate of the right CA, for another name."""
    other = pki.ca.issue_cert("collect.bank.example")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    other.cert_chain_pems[0].write_to_path(str(cert))
    other.private_key_pem.write_to_path(str(key))
    server = _tls_server(cert, key)
    try:
        with pytest.raises(UntrustedServer, match=r"its certificate is not trusted \((Hostname|IP address) mismatch"):
            _health(f"https://127.0.0.1:{server.port}", pki.ca_pem)
    finally:
        server.stop()
    assert server.paths == []  # the request was never sent


# -- (3) no downgrade ---------------------------------------------------------------------------


def test_plain_http_to_the_https_port_gets_no_answer(https_backend: int) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{https_backend}/healthz", timeout=5)
    with pytest.raises(BackendUnavailable) as failed:
        _health(f"http://127.0.0.1:{https_backend}")
    assert not isinstance(failed.value, UntrustedServer)


def test_an_https_desk_never_falls_back_to_a_plain_http_server(pki: Pki) -> None:
    """A server that speaks only HTTP is refused over https://: what it was sent was a TLS
    hello, never a request in clear, and its plain answer ends the desk's attempt."""
    server = _PlainHTTPListener()
    try:
        with pytest.raises(UntrustedServer, match=r"the TLS handshake failed"):
            _health(f"https://127.0.0.1:{server.port}", pki.ca_pem)
    finally:
        server.stop()
    assert server.received, "the desk sent nothing"
    assert all(first.startswith(b"\x16\x03") for first in server.received)  # a TLS handshake record
    assert not any(b"GET " in first or b"healthz" in first for first in server.received)


# -- (4) serve refuses what it cannot use, in one line ------------------------------------------


def _one_line(run) -> str:  # noqa: ANN001
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


def test_serve_refuses_a_missing_certificate_and_a_key_that_is_not_its_key(tmp_path: Path, pki: Pki,
                                                                           other_pki: Pki) -> None:
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    assert run_child("db", "upgrade", "--db", db).code == 0
    port = str(free_port())
    missing = _one_line(run_child("serve", "--db", db, "--port", port, "--certfile", str(tmp_path / "nope.pem"),
                                  "--keyfile", str(pki.key_pem)))
    assert missing == f"collectdesk: error: the certificate file {tmp_path / 'nope.pem'} does not exist"
    mismatch = _one_line(run_child("serve", "--db", db, "--port", port, "--certfile", str(pki.cert_pem),
                                   "--keyfile", str(other_pki.key_pem)))
    assert mismatch == (f"collectdesk: error: the key {other_pki.key_pem} is not the key of the certificate "
                        f"{pki.cert_pem}")
    # The same from the environment, as a service's unit file would set it.
    from_env = _one_line(run_child("serve", "--db", db, "--port", port, COLLECTDESK_TLS_CERTFILE=str(pki.cert_pem),
                                   COLLECTDESK_TLS_KEYFILE=str(tmp_path / "gone.key")))
    assert from_env == f"collectdesk: error: the key file {tmp_path / 'gone.key'} does not exist"


def _serve_args(certfile: Path | None, keyfile: Path | None) -> argparse.Namespace:
    return argparse.Namespace(certfile=certfile, keyfile=keyfile)


def test_serve_tls_options(tmp_path: Path, pki: Pki, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("COLLECTDESK_TLS_CERTFILE", "COLLECTDESK_TLS_KEYFILE", "COLLECTDESK_TLS_KEYFILE_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    assert _server_tls(_serve_args(None, None)) == {}  # plain HTTP
    assert _server_tls(_serve_args(pki.cert_pem, pki.key_pem)) == {"ssl_certfile": str(pki.cert_pem),
                                                                   "ssl_keyfile": str(pki.key_pem)}
    assert _server_tls(_serve_args(pki.both_pem, None)) == {"ssl_certfile": str(pki.both_pem)}
    with pytest.raises(CliError, match="a key file without a certificate"):
        _server_tls(_serve_args(None, pki.key_pem))
    with pytest.raises(CliError, match=r"cannot use the certificate .* \(both PEM"):
        _server_tls(_serve_args(pki.cert_pem, None))  # no key in the certificate's file
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    with pytest.raises(CliError, match=r"cannot use the certificate"):
        _server_tls(_serve_args(not_pem, pki.key_pem))
    with pytest.raises(CliError, match=r"the certificate file .* is a directory"):
        _server_tls(_serve_args(tmp_path, pki.key_pem))
    if os.geteuid() != 0:
        unreadable = tmp_path / "unreadable.pem"
        unreadable.write_bytes(pki.key_pem.read_bytes())
        unreadable.chmod(0)
        with pytest.raises(CliError, match=r"cannot read the key file .*: Permission denied"):
            _server_tls(_serve_args(pki.cert_pem, unreadable))
    # An encrypted key: refused without its passphrase (never a prompt at the terminal), taken with it.
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pki.key_pem.read_bytes(), password=None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.BestAvailableEncryption(b"s3cret-phrase")))
    with pytest.raises(CliError, match="is encrypted: set COLLECTDESK_TLS_KEYFILE_PASSWORD"):
        _server_tls(_serve_args(pki.cert_pem, locked))
    monkeypatch.setenv("COLLECTDESK_TLS_KEYFILE_PASSWORD", "wrong")
    with pytest.raises(CliError, match="cannot decrypt the key"):
        _server_tls(_serve_args(pki.cert_pem, locked))
    monkeypatch.setenv("COLLECTDESK_TLS_KEYFILE_PASSWORD", "s3cret-phrase")
    assert _server_tls(_serve_args(pki.cert_pem, locked))["ssl_keyfile_password"] == "s3cret-phrase"


# -- the desk's CA bundle: refused before the desk opens when it cannot be used -----------------


def test_the_desk_refuses_an_unusable_ca_bundle_in_one_line(cli, tmp_path: Path, pki: Pki) -> None:  # noqa: ANN001
    https = "https://127.0.0.1:9"
    run = cli("desk", "--server", https, "--ca-bundle", str(tmp_path / "missing.pem"))
    assert run.code == 1 and run.err.strip() == f"collectdesk: error: the CA bundle {tmp_path / 'missing.pem'} does not exist"
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    run = cli("desk", "--server", https, "--ca-bundle", str(junk))
    assert run.code == 1 and run.err.strip().startswith(f"collectdesk: error: the CA bundle {junk} holds no usable "
                                                        "PEM certificate")
    run = cli("desk", "--server", "http://10.0.0.5:8765", "--ca-bundle", str(pki.ca_pem))
    assert run.code == 1 and "is plain HTTP: name it https://" in run.err
    with pytest.raises(CABundleError, match="is a directory"):
        verify_context(tmp_path)
    assert verify_context(None) is True  # none configured: httpx's default trust store, never False


def test_certificate_problem_reads_only_tls_failures() -> None:
    assert certificate_problem(httpx.ConnectError("connection refused")) is None
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed")
        except ssl.SSLError as inner:
            raise httpx.ConnectError("x") from inner
    except httpx.ConnectError as outer:
        assert certificate_problem(outer) is not None


# -- small servers for the refusals -------------------------------------------------------------


class _PlainHTTPListener:
    """What an HTTP server does with a TLS hello: reads it, answers 400 in clear, and closes.
    Keeps the first bytes of each connection."""

    def __init__(self) -> None:
        import socket

        self.received: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.received.append(conn.recv(4096))
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.sock.close()


class _ThreadedHTTPServer:
    """A small HTTP server over TLS (``context``), on loopback, in a thread; records the paths it served."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "ok"}')

            def log_message(self, *args: object) -> None:
                pass

        self.paths = paths
        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _tls_server(cert: Path, key: Path) -> _ThreadedHTTPServer:
    """The same over TLS with the given certificate and key."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return _ThreadedHTTPServer(context)
