"""Reconnect with real processes (issue 18 item 5): ``collectdesk desk`` in a pseudo-terminal
at 80×24 against a real backend, as sshd runs it. The agent signs in, opens the top
account's call form and types a note; then the terminal goes (the pty's master is closed,
as sshd does when the connection drops). The desk process ends within seconds, not
living on as an orphan; a new desk signed in as the same agent opens on that account's
call form with the note as typed.

Marked ``processes``: about 10-15 s.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

import pytest

from tests.cli.cli_helpers import child_env
from tests.procs import Backend, seed_database
from tui.hangup import EXIT_CODE
from tui.store import Store

pytestmark = [pytest.mark.desk, pytest.mark.processes]

NOTE = "left word with her son"


@pytest.fixture
def backend(tmp_path: Path):  # noqa: ANN201
    server = Backend(seed_database(f"sqlite:///{tmp_path / 'backend.db'}"), tmp_path / "backend.log")
    server.start()
    yield server
    server.kill()


class Terminal:
    """``collectdesk desk`` in a pty of its own (the session's leader, as under sshd)."""

    def __init__(self, url: str, drafts: Path) -> None:
        env = child_env(TERM="xterm", TEXTUAL_COLOR_SYSTEM="standard", TEXTUAL_ANIMATIONS="none", LANG="C.UTF-8",
                        COLLECTDESK_DRAFTS_DIR=str(drafts), COLLECTDESK_LANG="en")
        env.pop("COLUMNS", None)
        env.pop("LINES", None)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            os.execve(sys.executable, [sys.executable, "-m", "collectdesk", "desk", "--server", url], env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.seen = b""

    def read_until(self, needle: bytes, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while needle not in self.seen:
            assert time.monotonic() < end, f"never shown: {needle!r}; last written: {self.seen[-1500:]!r}"
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    break

    def type(self, *keys: bytes, pause: float = 0.3) -> None:
        for key in keys:
            os.write(self.fd, key)
            time.sleep(pause)
            self.drain()

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0.05)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.seen += chunk

    def hang_up(self) -> None:
        os.close(self.fd)

    def wait(self, timeout: float) -> int | None:
        """The process's exit status (``os.waitpid``'s), or None if it still runs."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return status
            time.sleep(0.05)
        return None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_a_dropped_terminal_ends_the_desk_and_the_next_desk_returns_to_the_draft(backend: Backend,
                                                                                 tmp_path: Path) -> None:
    drafts = tmp_path / "store"
    first = Terminal(backend.url, drafts)
    try:
        first.read_until(b"Sign in")
        first.type(b"agent1", b"\t", b"agent1", b"\r")
        first.read_until(b"Worklist")
        first.type(b"\r")  # the top account
        first.read_until(b"Log call")
        first.type(b"c")
        first.read_until(b"Outcome")
        first.type(b"2", b"\t")  # no answer; to the note
        first.type(NOTE.encode(), pause=1.0)
        store = Store(drafts)
        deadline = time.monotonic() + 10
        while True:  # the draft is on the disk as typed
            with store.transaction(write=False) as db:
                rows = [r[0] for r in db.execute("SELECT draft FROM drafts WHERE form = 'call'")]
            if any(NOTE in r for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert any(NOTE in r for r in rows), rows

        first.hang_up()
        status = first.wait(timeout=10)
        assert status is not None, "the desk lived on without its terminal"
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_CODE, status
        with store.transaction(write=False) as db:
            left = db.execute("SELECT account_ref, form, left_at FROM places").fetchall()
        assert len(left) == 1 and left[0][1] == "call" and left[0][2] is not None, left
        ref = left[0][0]
    finally:
        first.kill()

    second = Terminal(backend.url, drafts)
    try:
        second.read_until(b"Sign in")
        second.type(b"agent1", b"\t", b"agent1", b"\r")
        second.read_until(b"Back where you were")
        second.read_until(NOTE.encode())
        assert f"Call \xb7 {ref}".encode() in second.seen or f"Call · {ref}".encode() in second.seen
        second.type(b"\x11")  # ctrl+q: quit as asked
        status = second.wait(timeout=10)
        assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        second.kill()
    with store.transaction(write=False) as db:  # quit as asked: nothing to return to
        assert db.execute("SELECT count(*) FROM places").fetchone()[0] == 0
