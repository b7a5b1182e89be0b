"""Many desks of one user on one machine, and a backend that stops and restarts.

Real OS processes: a backend (``collectdesk serve`` on a loopback port, its own
temporary SQLite database, seeded with the demo portfolio) and two, then ten,
desk processes (``desk_worker.py``: the desk's own store and send path, without
the screens) of ``agent1`` sharing one drafts directory. Together they save 200
contacts and notes while the test kills the backend (SIGKILL, so answers are
lost mid-request) and starts it again, twice. Then every one of the 200 is on
the server exactly once, the outbox is empty, and no draft is lost.

Marked ``processes``; each case took 12-17 s on two busy cores (bounded: the workers give
up after 45 s).
"""

from __future__ import annotations

import asyncio
import collections
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from backend_client.client import BackendClient, TooManyRequests
from tests.cli.cli_helpers import child_env
from tests.procs import Backend, seed_database
from tui.store import Drafts, Outbox, Store

pytestmark = [pytest.mark.desk, pytest.mark.processes]

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("desk_worker.py")
ITEMS = 200
ADDING_S = 7.0
"""About how long the desks take to save their items: the two outages fall inside it."""


@pytest.fixture(scope="module")
def backend_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A temporary SQLite database, migrated and seeded (the demo users, agent1's accounts)."""
    return seed_database(f"sqlite:///{tmp_path_factory.mktemp('many-desks') / 'backend.db'}")


@pytest.fixture
def backend(backend_db: str, tmp_path: Path):  # noqa: ANN201
    server = Backend(backend_db, tmp_path / "backend.log")
    server.start()
    yield server
    server.kill()


async def sign_in(api: BackendClient) -> None:
    """As agent1, waiting as told: a sign-in the backend was killed in the middle of keeps
    the name's turn taken until it is stale (``login_checking_stale_seconds``, 30 s), and
    until then another is asked to try again later (429 with Retry-After)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            await api.login("agent1", "agent1")
            return
        except TooManyRequests as exc:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(exc.retry_after)


async def agent1_accounts(url: str) -> list[int]:
    async with BackendClient(url) as api:
        await sign_in(api)
        page = await api.worklist(limit=50)
    return [item.id for item in page.items]


async def saved_on_server(url: str, accounts: list[int], run: str) -> collections.Counter:
    """Every contact note and note text of this run on agent1's accounts, counted."""
    seen: collections.Counter = collections.Counter()
    async with BackendClient(url) as api:
        await sign_in(api)
        for account in accounts:
            for item in (await api.timeline(account)).items:
                text = item.contact.note if item.kind == "contact" else item.note.text if item.kind == "note" else ""
                if text.startswith(f"{run}:"):
                    seen[text] += 1
    return seen


@pytest.mark.parametrize("desks", [2, 10])
def test_many_desks_save_everything_once_while_the_backend_restarts(backend: Backend, tmp_path: Path,
                                                                     desks: int) -> None:
    accounts = asyncio.run(agent1_accounts(backend.url))
    assert len(accounts) >= 3
    run, per = uuid.uuid4().hex[:8], ITEMS // desks
    drafts_dir, go = tmp_path / "drafts", tmp_path / "go"
    workers = []
    for me in range(desks):
        workers.append(subprocess.Popen(
            [sys.executable, str(WORKER), "--server", backend.url, "--drafts", str(drafts_dir), "--run", run,
             "--accounts", ",".join(map(str, accounts)), "--ready", str(tmp_path / f"ready-{me}"), "--go", str(go),
             "--me", str(me), "--items", str(per), "--pace", str(ADDING_S / per)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=child_env(PYTHONPATH=str(REPO))))
    try:
        deadline = time.monotonic() + 30
        while not all((tmp_path / f"ready-{me}").exists() for me in range(desks)):
            assert time.monotonic() < deadline, "the desk processes did not start"
            assert all(w.poll() is None for w in workers), [w.communicate() for w in workers if w.poll() is not None]
            time.sleep(0.05)
        go.touch()
        # Twice: down for a second (every send refused at the door, answers lost mid-request), then back.
        for _ in range(2):
            time.sleep(ADDING_S / 5)
            backend.kill()
            time.sleep(1.0)
            backend.start()
        reports = []
        for worker in workers:
            out, err = worker.communicate(timeout=60)
            assert worker.returncode == 0, f"{out}\n{err}"
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

    # The outages were real: some saves were kept to send later, and were.
    assert sum(r["kept"] for r in reports) > 0
    assert sum(r["sent_later"] for r in reports) >= sum(r["kept"] for r in reports)
    # Every contact and note on the server, none twice.
    seen = asyncio.run(saved_on_server(backend.url, accounts, run))
    expected = {f"{run}:{me}:{i}" for me in range(desks) for i in range(per)}
    assert len(expected) == ITEMS
    assert set(seen) == expected
    assert [text for text, count in seen.items() if count > 1] == []
    # Nothing left to send, no draft lost (each desk's own, last written), the saved ones' dropped.
    store = Store(drafts_dir)
    try:
        assert Outbox(store).entries() == []
        drafts = Drafts(store)
        server = backend.url  # as BackendClient.base_url has it
        for me in range(desks):
            assert drafts.get(Drafts.key(server, "agent1", accounts[0], f"plan.w{me}")) == {"amount": str(per - 1)}
        forms = {form for account_forms in store.waiting(server, "agent1").drafts.values() for form in account_forms}
        assert forms == {f"plan.w{me}" for me in range(desks)}
    finally:
        store.close()
