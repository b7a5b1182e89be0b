"""Real backend processes for the ``processes`` tests: ``collectdesk serve`` on a
loopback port, killed (SIGKILL, as a crash) and started again at will, on a
database migrated and seeded by the ``collectdesk`` commands themselves.

Shared by ``tests/desk/test_many_desks.py`` (desk processes) and
``tests/api/test_kill_once.py`` (raw HTTP)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from collectdesk.embedded import free_port
from tests.cli.cli_helpers import child_env, wait_healthy

TEST_DB = os.environ.get("COLLECTDESK_TEST_DB", "")
ON_POSTGRES = TEST_DB.startswith(("postgresql", "postgres:"))
"""True when the suite runs on PostgreSQL (``COLLECTDESK_TEST_DB``)."""


def seed_database(url: str, accounts: int = 24) -> str:
    """Migrate ``url`` and seed it (the demo users, ``accounts`` accounts shared among the
    agents) with ``collectdesk db upgrade`` and ``collectdesk seed``, as an operator would."""
    for args in (["db", "upgrade"], ["seed", "--accounts", str(accounts)]):
        done = subprocess.run([sys.executable, "-m", "collectdesk", *args, "--db", url], capture_output=True,
                              text=True, timeout=120, env=child_env())
        assert done.returncode == 0, done.stderr
    return url


@contextlib.contextmanager
def own_database(name: str, tmp_dir: Path, scratch_postgres: Callable[[str], AbstractContextManager[str]],
                 accounts: int = 24) -> Iterator[str]:
    """A database of a test's own, migrated and seeded (``seed_database``): a scratch database
    ``name`` on the suite's PostgreSQL server when it runs on one (dropped after), else a
    SQLite file in ``tmp_dir``. Its URL."""
    from backend.db import normalize_url

    with contextlib.ExitStack() as stack:
        if ON_POSTGRES:
            url = normalize_url(stack.enter_context(scratch_postgres(name)))
        else:
            url = f"sqlite:///{tmp_dir / 'backend.db'}"
        yield seed_database(url, accounts)


class Backend:
    """``collectdesk serve`` on a fixed loopback port, killed and started again at will."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url = db_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "collectdesk", "serve", "--port", str(self.port), "--log-level", "warning",
                 "--exit-with-parent", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env=child_env(COLLECTDESK_DB=self.db_url))
        wait_healthy(self.url, timeout=30, proc=self.proc)

    def kill(self) -> None:
        """As a crash would: no shutdown, requests in flight lose their answers."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.kills += 1

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
