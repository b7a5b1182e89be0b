"""``collectdesk serve`` behind a reverse proxy (README: "Behind a reverse proxy"):
``--proxy-headers`` and ``--forwarded-allow-ips`` are checked and handed to uvicorn, whose
ProxyHeadersMiddleware then takes the client's address from ``X-Forwarded-For`` only when
the connection comes from a proxy it trusts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from collectdesk.cli.desk import proxy_options
from collectdesk.cli.entry import build_parser
from collectdesk.embedded import free_port
from tests.cli.cli_helpers import child_env, run_child, wait_healthy


def _args(*argv: str):  # noqa: ANN202
    return build_parser().parse_args(["serve", *argv])


def test_proxy_headers_are_off_unless_asked_for() -> None:
    assert proxy_options(_args(), []) == {"proxy_headers": False}
    assert proxy_options(_args(), ["10.0.0.0/8"]) == {"proxy_headers": False}  # the settings alone: sign-ins only


def test_the_proxies_believed_default_to_the_settings_else_loopback() -> None:
    assert proxy_options(_args("--proxy-headers"), []) == {"proxy_headers": True,
                                                            "forwarded_allow_ips": ["127.0.0.1", "::1"]}
    assert proxy_options(_args("--proxy-headers"), ["10.1.2.3/8", "192.0.2.10"]) == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "192.0.2.10"]}


def test_forwarded_allow_ips_are_normalised_and_imply_proxy_headers() -> None:
    args = _args("--forwarded-allow-ips", " 10.1.2.3/8, 192.0.2.10 ,[::1],fd00::/8")
    # A network with host bits set, which uvicorn would keep as a name that never matches, is made a network.
    assert proxy_options(args, ["172.16.0.0/12"]) == {
        "proxy_headers": True, "forwarded_allow_ips": ["10.0.0.0/8", "192.0.2.10", "::1", "fd00::/8"]}
    assert proxy_options(_args("--forwarded-allow-ips", "*"), []) == {"proxy_headers": True,
                                                                       "forwarded_allow_ips": ["*"]}


@pytest.mark.parametrize(("value", "said"), [
    ("proxy.example", "'proxy.example' is no IP address or network"),
    ("10.0.0.0/33", "'10.0.0.0/33' is no IP address or network"),
    ("10.0.0.1,*", "'*' is no IP address or network"),
    (" , ", "no address given"),
])
def test_a_bad_forwarded_allow_ips_is_refused_in_one_line_before_anything_starts(value: str, said: str) -> None:
    run = run_child("serve", "--db", "sqlite:////nonexistent/x.db", "--forwarded-allow-ips", value, timeout=60)
    assert run.code == 2
    assert said in run.err
    assert "Traceback" not in run.err and "Uvicorn" not in run.err


@pytest.mark.processes
@pytest.mark.skipif(os.name != "posix", reason="process groups as on POSIX")
@pytest.mark.parametrize("trusted", [True, False])
def test_the_client_address_is_the_forwarded_one_only_from_a_trusted_proxy(migrated_url: str, tmp_path: Path,
                                                                           trusted: bool) -> None:
    port = free_port()
    allowed = "127.0.0.1" if trusted else "192.0.2.1"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collectdesk", "serve", "--db", migrated_url, "--port", str(port),
             "--forwarded-allow-ips", allowed, "--exit-with-parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=child_env())
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, timeout=60, proc=proc)
        answer = httpx.get(f"{url}/healthz", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"})
        assert answer.status_code == 200
        deadline = time.monotonic() + 10  # wait_healthy's request and this one, in the access log
        while log.read_text().count("GET /healthz") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    access = [line for line in log.read_text().splitlines() if "GET /healthz" in line]
    assert access, log.read_text()
    if trusted:  # uvicorn's access log names the client the proxy forwarded for
        assert "203.0.113.7" in access[-1], access
    else:
        assert "203.0.113.7" not in log.read_text() and access[-1].split()[1].startswith("127.0.0.1:"), access


def test_keep_alive_is_a_positive_number_of_seconds() -> None:
    assert _args().keep_alive == 5  # uvicorn's, for one worker or many
    assert _args("--keep-alive", "75").keep_alive == 75
    run = run_child("serve", "--db", "sqlite:////nonexistent/x.db", "--keep-alive", "0", timeout=60)
    assert run.code == 2 and "0 must be at least 1" in run.err and "Traceback" not in run.err
