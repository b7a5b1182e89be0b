"""The backend's own log lines reach ``collectdesk serve``'s log (issue 19 item 3): the
``collectdesk`` logger (start-up, the sweep, the contactability rounds, failures) had no
handler in a served process, so its lines went nowhere. Now they are on uvicorn's handler,
in every worker. A real ``collectdesk serve --workers 2`` on a migrated SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collectdesk.embedded import free_port
from tests.cli.cli_helpers import child_env

pytestmark = pytest.mark.processes


def test_the_backends_lines_are_in_the_servers_log_from_every_worker(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    done = subprocess.run([sys.executable, "-m", "collectdesk", "db", "upgrade", "--db", url], capture_output=True,
                          text=True, timeout=120, env=child_env())
    assert done.returncode == 0, done.stderr
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "collectdesk", "serve", "--db", url, "--port", str(free_port()), "--workers", "2",
             "--log-level", "info", "--exit-with-parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=child_env())
    try:
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count("collectdesk backend ") < 2:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)
    lines = [line for line in log.read_text(errors="replace").splitlines() if "collectdesk backend " in line]
    assert len(lines) == 2, lines  # one per worker
    assert all(line.startswith("INFO:") and "2 threads, 10+10 connections, at most 50 requests" in line
               for line in lines), lines
