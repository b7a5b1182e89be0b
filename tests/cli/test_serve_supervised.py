"""``collectdesk serve`` is a supervisor and its workers, one worker too (issue 19 item 3):
a worker killed with ``kill -9`` is replaced while the supervisor stays, and at most the
requests it held fail; the configuration (policies, strategies, authority) is reloaded on
SIGHUP the same way in every worker, and a file that cannot be used is refused whole.

Real processes: ``collectdesk serve`` on a free loopback port and a database of the test's
own (``tests/procs.own_database``: SQLite unless the suite runs on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from collectdesk.embedded import free_port
from config import CONFIG_DIR
from tests.cli.cli_helpers import child_env, wait_healthy
from tests.procs import own_database

pytestmark = [pytest.mark.processes, pytest.mark.timers,
              pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")]

STARTED = re.compile(r"Started server process \[(\d+)\]")


class Served:
    """``collectdesk serve`` as an operator runs it, its log in a file."""

    def __init__(self, db_url: str, log: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "collectdesk", "serve", "--db", db_url, "--port", str(self.port),
                 "--log-level", "info", "--exit-with-parent", str(os.getpid()), *args],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env=child_env(**env))

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def workers(self) -> list[int]:
        """The workers started so far (uvicorn's line in each), alive or not."""
        return [int(pid) for pid in STARTED.findall(self.text())]

    def wait_for(self, what: Callable[[], object], timeout: float = 60, why: str = "") -> object:
        deadline = time.monotonic() + timeout
        while True:
            got = what()
            if got:
                return got
            assert self.proc.poll() is None, f"serve exited ({self.proc.returncode}):\n{self.text()}"
            assert time.monotonic() < deadline, f"{why or 'waited'} for {timeout} s:\n{self.text()}"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by the supervisor) is not alive.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def database(tmp_path: Path, scratch_postgres) -> Iterator[str]:  # noqa: ANN001
    with own_database("served", tmp_path, scratch_postgres, accounts=12) as url:
        yield url


def sign_in(url: str, user: str = "agent1") -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/auth/login", json={"username": user, "password": user}, timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_one_worker_killed_with_sigkill_is_replaced_and_the_supervisor_stays(database: str, tmp_path: Path) -> None:
    served = Served(database, tmp_path / "serve.log", "--workers", "1")
    try:
        wait_healthy(served.url, timeout=60, proc=served.proc)
        [first] = served.workers()
        auth = sign_in(served.url)
        outcomes: list[int | str] = []
        stop = threading.Event()

        def client() -> None:
            # Requests one after another, each on a fresh connection: the listening socket is the
            # supervisor's, so those made while no worker runs wait in its backlog for the next one.
            while not stop.is_set():
                try:
                    answer = httpx.get(f"{served.url}/api/v1/worklist?limit=5", headers=auth, timeout=30)
                    outcomes.append(answer.status_code)
                except httpx.HTTPError as exc:
                    outcomes.append(type(exc).__name__)

        clients = [threading.Thread(target=client) for _ in range(2)]
        for thread in clients:
            thread.start()
        served.wait_for(lambda: len(outcomes) >= 10, why="requests before the kill")
        os.kill(first, signal.SIGKILL)
        killed_at = len(outcomes)
        second = served.wait_for(lambda: next((p for p in served.workers() if p != first), None),
                                 why="a worker in place of the one killed")
        served.wait_for(lambda: outcomes[killed_at:].count(200) >= 10, why="answers from the new worker")
        stop.set()
        for thread in clients:
            thread.join(60)
    finally:
        stop.set()
        served.stop()
    assert not alive(first)
    assert second != first
    failed = [o for o in outcomes if o != 200]
    assert len(failed) <= len(clients), failed  # at most the requests the killed worker held
    assert outcomes[-1] == 200
    text = served.text()
    assert f"Child process [{first}] died" in text
    assert text.count("Started parent process") == 1  # the same supervisor all along
    assert served.proc.returncode in (0, -signal.SIGTERM)


def test_a_worker_whose_supervisor_is_killed_stops_and_lets_the_port_go(migrated_url: str, tmp_path: Path) -> None:
    served = Served(migrated_url, tmp_path / "serve.log", "--workers", "1")
    try:
        wait_healthy(served.url, timeout=60, proc=served.proc)
        [worker] = served.workers()
        os.kill(served.proc.pid, signal.SIGKILL)  # the supervisor alone, as a crash would
        served.proc.wait(10)
        deadline = time.monotonic() + 20
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), served.text()
        assert "the supervisor" in served.text() and f"stopping worker [{worker}]" in served.text()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{served.url}/healthz", timeout=5)
    finally:
        served.stop()


# -- the configuration, reloaded on SIGHUP by every worker ----------------------------------


def _copy_config(target: Path) -> Path:
    target.mkdir()
    shutil.copytree(CONFIG_DIR / "policies", target / "policies")
    shutil.copytree(CONFIG_DIR / "strategies", target / "strategies")
    shutil.copy(CONFIG_DIR / "authority.toml", target / "authority.toml")
    return target


def _verdict(url: str, auth: dict[str, str], account: int, at: dt.datetime) -> dict:
    # A new connection each time: the kernel hands it to either worker.
    with httpx.Client(headers=auth, timeout=30) as http:
        answer = http.get(f"{url}/api/v1/accounts/{account}/compliance",
                          params={"channel": "phone", "at": at.isoformat()})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _health(url: str) -> dict:
    with httpx.Client(timeout=30) as http:
        answer = http.get(f"{url}/healthz")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_reload_reaches_every_worker_and_a_bad_file_is_refused_whole(database: str, tmp_path: Path) -> None:
    config = _copy_config(tmp_path / "config")
    served = Served(database, tmp_path / "serve.log", "--workers", "2", COLLECTDESK_CONFIG_DIR=str(config))
    try:
        wait_healthy(served.url, timeout=60, proc=served.proc)
        workers = served.wait_for(lambda: len(served.workers()) >= 2 and served.workers(), why="two workers")
        before = _health(served.url)["config"]
        auth = sign_in(served.url)
        account = httpx.get(f"{served.url}/api/v1/worklist?limit=1", headers=auth, timeout=30).json()["items"][0]["id"]
        # The test's own clock: the first hour of a fixed day at which a call is lawful.
        day = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
        at, verdict = next((t, v) for t in (day + dt.timedelta(hours=h) for h in range(24))
                           if (v := _verdict(served.url, auth, account, t))["allowed"])
        local_hour = dt.datetime.fromisoformat(verdict["customer_local_time"]).hour
        assert 8 <= local_hour < 21
        # The deployment's window made to leave that hour out.
        window = ('start = "06:00"\nend = "07:00"' if local_hour >= 12 else 'start = "22:00"\nend = "23:00"')
        default = config / "policies" / "default.toml"
        good = default.read_text().replace('start = "08:00"\nend = "21:00"', window)
        assert good != default.read_text()
        default.write_text(good)
        # Edited but not reloaded: every worker still serves the old configuration.
        assert all(_verdict(served.url, auth, account, at)["allowed"] for _ in range(4))

        os.kill(served.proc.pid, signal.SIGHUP)
        served.wait_for(lambda: all(re.search(rf"configuration \w+ in use in worker \[{pid}\]", served.text())
                                    for pid in workers), why="both workers to take the new configuration")
        after = _health(served.url)["config"]
        assert after != before
        for _ in range(10):
            verdict = _verdict(served.url, auth, account, at)
            assert not verdict["allowed"] and "call-window" in [b["rule"] for b in verdict["blocks"]], verdict
            assert _health(served.url)["config"] == after

        # A file that cannot be used: refused whole, the last good configuration stays everywhere,
        # even in a worker started after it (one killed and replaced).
        (config / "policies" / "default.toml").write_text(good.replace('end = ', 'end = [', 1))
        (config / "authority.toml").write_text("grace_days = 9\n")  # changed too, but never taken
        os.kill(served.proc.pid, signal.SIGHUP)
        served.wait_for(lambda: "configuration refused, the old one" in served.text(), why="the refusal")
        assert "default.toml" in served.text().split("configuration refused, the old one", 1)[1].splitlines()[0]
        os.kill(workers[0], signal.SIGKILL)
        served.wait_for(lambda: len(served.workers()) >= 3, why="a replacement worker")
        wait_healthy(served.url, timeout=60, proc=served.proc)
        for _ in range(10):
            assert _health(served.url)["config"] == after
            assert not _verdict(served.url, auth, account, at)["allowed"]
    finally:
        served.stop()
    assert served.text().count("Started parent process") == 1


def test_serve_refuses_a_bad_configuration_at_start_in_one_line(migrated_url: str, tmp_path: Path) -> None:
    config = _copy_config(tmp_path / "config")
    (config / "strategies" / "champion.toml").write_text("contactable_now = 'lots'\n")
    done = subprocess.run([sys.executable, "-m", "collectdesk", "serve", "--db", migrated_url, "--port",
                           str(free_port())], capture_output=True, text=True, timeout=60,
                          env=child_env(COLLECTDESK_CONFIG_DIR=str(config)))
    assert done.returncode != 0
    assert "bad configuration:" in done.stderr and "champion.toml" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert "Uvicorn running" not in done.stderr  # refused before anything listens


def test_serve_removes_the_configuration_copies_of_supervisors_killed_before(tmp_path: Path) -> None:
    from collectdesk.cli.desk import SNAPSHOT_PREFIX, _forget_stale_snapshots

    dead = subprocess.Popen(["true"])
    dead.wait()  # reaped: its process id is no process's any more
    stale = tmp_path / f"{SNAPSHOT_PREFIX}{dead.pid}-abc"
    mine = tmp_path / f"{SNAPSHOT_PREFIX}{os.getpid()}-def"
    other = tmp_path / "collectdesk-config-notapid"
    for path in (stale, mine, other):
        (path / "gen-1").mkdir(parents=True)
    _forget_stale_snapshots(tmp_path)
    assert not stale.exists() and mine.exists() and other.exists()
