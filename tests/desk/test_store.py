"""The desk's local store (``tui.store``): drafts and the outbox in one SQLite
file that several desk processes of one user share. Processes here are real
(``python -c``), each with its own connection, as two terminals would be."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tui.store import DB_NAME, LEASE_S, Drafts, Outbox, Store

T0 = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
SERVER, USER = "http://backend", "agent1"
REPO = Path(__file__).resolve().parents[2]


class Clock:
    """A clock the test moves."""

    def __init__(self, at: dt.datetime = T0) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desks(tmp_path: Path, clock: Clock):  # noqa: ANN201
    """``a, b = desks(2)``: stores of separate desks on one directory (each its own
    connection and claim token), on the test's clock."""
    opened: list[Store] = []

    def _make(n: int) -> list[Store]:
        stores = [Store(tmp_path / "drafts", clock=clock) for _ in range(n)]
        opened.extend(stores)
        return stores

    yield _make
    for store in opened:
        store.close()


def add(outbox: Outbox, account_id: int = 1, text: str = "a note", kind: str = "note"):  # noqa: ANN201
    return outbox.add(kind, server=SERVER, user=USER, account_id=account_id, account_ref=f"A-{account_id:04d}",  # type: ignore[arg-type]
                      body={"text": text, "visibility": "team"}, draft={"text": text, "shared": False}, now=T0)


def run_children(script: str, *args: list[str], go: Path | None = None, timeout: float = 60) -> list[str]:
    """Run ``script`` in one process per argument list, all at once; their outputs.
    ``go``: a file the scripts wait for, made once they have all started (so they
    begin together, not one by one as they finish importing)."""
    code = textwrap.dedent(script)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [subprocess.Popen([sys.executable, "-c", code, *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, cwd=REPO) for a in args]
    if go is not None:
        time.sleep(0.3)
        go.touch()
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err
        outs.append(out)
    return outs


# -- one desk -----------------------------------------------------------------------


def test_the_store_is_one_sqlite_file_in_wal_mode(desks, tmp_path: Path) -> None:
    (store,) = desks(1)
    assert not (tmp_path / "drafts").exists()  # opened on first use
    add(Outbox(store))
    assert (tmp_path / "drafts" / DB_NAME).exists()
    with sqlite3.connect(tmp_path / "drafts" / DB_NAME) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert not list((tmp_path / "drafts").glob("*.json"))


def test_outbox_entries_are_read_back_as_kept(desks) -> None:
    (store,) = desks(1)
    outbox = Outbox(store)
    first = add(outbox, 1, "one")
    second = add(outbox, 2, "two", kind="contact")
    assert len(first.key) == 32 and first.key != second.key
    assert [e.key for e in outbox.pending(SERVER, USER)] == [first.key, second.key]  # oldest first
    assert outbox.get(first.key) == first
    assert outbox.for_account(SERVER, USER, 2) == [second]
    assert outbox.pending(SERVER, "agent2") == [] and outbox.pending("http://other", USER) == []
    outbox.refuse(second.key, "complaint")
    assert [e.key for e in outbox.refused(SERVER, USER)] == [second.key]
    assert outbox.get(second.key).error == "complaint"
    outbox.remove(first.key)
    assert outbox.pending(SERVER, USER) == []
    waiting = store.waiting(SERVER, USER)
    assert (waiting.pending, waiting.refused, waiting.refused_for) == (0, 1, {2: 1})


def test_drafts_by_key_and_by_account(desks) -> None:
    (store,) = desks(1)
    drafts = Drafts(store)
    call, note = Drafts.key(SERVER, USER, 7, "call"), Drafts.key(SERVER, USER, 7, "note")
    assert drafts.get(call) is None
    drafts.put(call, {"outcome": "NA", "note": "rang"})
    drafts.put(note, {"text": "moved"})
    drafts.put(Drafts.key(SERVER, "agent2", 7, "plan"), {"amount": "1"})
    assert drafts.get(call) == {"outcome": "NA", "note": "rang"}
    assert drafts.forms(SERVER, USER, 7) == ["call", "note"]
    assert store.waiting(SERVER, USER).drafts == {7: ("call", "note")}
    drafts.drop(call)
    assert drafts.get(call) is None and drafts.forms(SERVER, USER, 7) == ["note"]


def test_a_refused_entry_goes_back_into_its_form_unless_a_newer_draft_is_there(desks) -> None:
    (store,) = desks(1)
    outbox, drafts = Outbox(store), Drafts(store)
    form = Drafts.key(SERVER, USER, 1, "note")
    entry = add(outbox, 1, "first")
    assert outbox.refuse_into_draft(entry.key, "collection paused", form) is True
    assert outbox.get(entry.key) is None
    assert drafts.get(form) == {"text": "first", "shared": False, "refused": "collection paused"}
    # A newer draft in the form: the refused entry waits in the outbox, the draft is untouched.
    newer = add(outbox, 1, "second")
    assert outbox.refuse_into_draft(newer.key, "collection paused", form) is False
    assert drafts.get(form)["text"] == "first"
    assert [e.key for e in outbox.refused(SERVER, USER)] == [newer.key]
    assert outbox.take(newer.key).draft == {"text": "second", "shared": False}
    assert outbox.take(newer.key) is None  # taken once


# -- claims -------------------------------------------------------------------------


def test_one_desk_sends_an_entry_at_a_time(desks) -> None:
    a, b = desks(2)
    mine, theirs = Outbox(a), Outbox(b)
    entry = add(mine)
    # Saved by desk A, which sends it now: B leaves it alone.
    assert theirs.claim(entry.key) is False
    assert mine.claim(entry.key) is True
    assert mine.claim(entry.key) is False  # not twice at once, in one desk either
    mine.release(entry.key)  # not answered
    assert theirs.claim(entry.key) is True
    assert mine.claim(entry.key) is False
    theirs.remove(entry.key)  # answered
    assert mine.claim(entry.key) is False and theirs.claim(entry.key) is False


def test_a_claim_lapses_after_the_lease(desks, clock: Clock) -> None:
    a, b = desks(2)
    crashed, other = Outbox(a), Outbox(b)
    entry = add(crashed)
    assert crashed.claim(entry.key)
    clock.advance(LEASE_S - 1)
    assert other.claim(entry.key) is False
    clock.advance(2)
    assert other.claim(entry.key) is True  # desk A died sending it: B sends it (with the same key)
    assert other.get(entry.key).key == entry.key


def test_refused_entries_are_not_sent_again(desks) -> None:
    (store,) = desks(1)
    outbox = Outbox(store)
    entry = add(outbox)
    outbox.refuse(entry.key, "no")
    assert outbox.claim(entry.key) is False


def test_many_processes_send_every_entry_exactly_once(tmp_path: Path) -> None:
    """Four desk processes go through one outbox of 120 entries at once, each sending
    what it can claim: every entry is sent by exactly one of them."""
    directory = tmp_path / "drafts"
    outbox = Outbox(directory)
    keys = {add(outbox, n % 5, f"note {n}").key for n in range(120)}
    # Released, as a desk that lost the backend leaves them.
    for key in keys:
        outbox.claim(key)
        outbox.release(key)
    outbox.store.close()
    script = """
        import sys, time
        from pathlib import Path
        from tui.store import Outbox
        directory, go = Path(sys.argv[1]), Path(sys.argv[2])
        outbox = Outbox(directory)
        while not go.exists():
            time.sleep(0.005)
        sent = []
        for entry in outbox.pending("http://backend", "agent1"):
            if outbox.claim(entry.key):
                time.sleep(0.002)  # the request
                sent.append(entry.key)
                outbox.remove(entry.key)
        print("\\n".join(sent))
    """
    go = tmp_path / "go"
    outs = run_children(script, *[[str(directory), str(go)]] * 4, go=go)
    sent = [key for out in outs for key in out.split()]
    assert sorted(sent) == sorted(keys)  # each once: none twice, none left
    assert Outbox(directory).entries() == []


def test_desks_in_many_processes_keep_each_others_drafts(tmp_path: Path) -> None:
    """Six processes type drafts into one store at once, each its own forms and one
    form they share: nothing one writes overwrites another's form, and the shared
    form holds one whole draft (the last written)."""
    script = """
        import sys
        from pathlib import Path
        from tui.store import Drafts
        directory, me = Path(sys.argv[1]), int(sys.argv[2])
        drafts = Drafts(directory)
        for n in range(60):
            drafts.put(Drafts.key("http://backend", "agent1", me, "note"), {"text": f"desk {me} typed {n}"})
            drafts.put(Drafts.key("http://backend", "agent1", 99, "call"), {"note": f"desk {me}", "n": n})
        drafts.put(Drafts.key("http://backend", "agent1", me, "plan"), {"amount": str(me)})
        drafts.drop(Drafts.key("http://backend", "agent1", me, "plan"))
    """
    directory = tmp_path / "drafts"
    run_children(script, *[[str(directory), str(me)] for me in range(6)])
    drafts = Drafts(directory)
    for me in range(6):
        assert drafts.get(Drafts.key(SERVER, USER, me, "note")) == {"text": f"desk {me} typed 59"}
        assert drafts.get(Drafts.key(SERVER, USER, me, "plan")) is None
    shared = drafts.get(Drafts.key(SERVER, USER, 99, "call"))
    assert shared is not None and shared["n"] == 59
    assert set(drafts.store.waiting(SERVER, USER).drafts) == {0, 1, 2, 3, 4, 5, 99}


def test_a_desk_waits_for_another_that_is_writing(tmp_path: Path) -> None:
    """One process holds the write lock for a second; another's save waits for it
    (the busy timeout) rather than failing."""
    directory = tmp_path / "drafts"
    Store(directory).open().close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sqlite3, sys, time
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("holding", flush=True)
        time.sleep(1.0)
        db.execute("COMMIT")
    """), str(directory / DB_NAME)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    started = time.monotonic()
    outbox = Outbox(directory)
    entry = add(outbox)
    assert time.monotonic() - started > 0.5
    assert holder.wait(timeout=30) == 0
    assert outbox.get(entry.key) is not None


# -- durability ---------------------------------------------------------------------


def test_an_entry_is_on_disk_when_add_returns_even_if_the_process_is_killed(tmp_path: Path) -> None:
    directory = tmp_path / "drafts"
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from tui.store import Drafts, Outbox
        outbox = Outbox(Path(sys.argv[1]))
        drafts = Drafts(outbox.store)
        entry = outbox.add("contact", server="http://backend", user="agent1", account_id=3, account_ref="A-0003",
                           body={"channel": "phone", "outcome": "NA"}, draft={"outcome": "NA"})
        drafts.put(Drafts.key("http://backend", "agent1", 4, "note"), {"text": "half typed"})
        print(entry.key, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """), str(directory)], stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO)
    key = proc.stdout.readline().strip()
    assert proc.wait(timeout=30) == -signal.SIGKILL
    outbox = Outbox(directory)
    (entry,) = outbox.pending(SERVER, USER)
    assert entry.key == key and entry.body == {"channel": "phone", "outcome": "NA"}
    assert Drafts(outbox.store).get(Drafts.key(SERVER, USER, 4, "note")) == {"text": "half typed"}
    # The dead desk's claim lapses; until then another desk leaves the entry alone.
    later = Store(directory, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=LEASE_S + 1))
    assert Outbox(outbox.store).claim(key) is False
    assert Outbox(later).claim(key) is True


def test_the_outbox_commits_are_fsynced(desks, tmp_path: Path) -> None:
    """``synchronous=FULL`` while an outbox entry is written; NORMAL for a draft's keystroke."""
    (store,) = desks(1)
    seen: list[int] = []
    with store.transaction(durable=True) as db:
        seen.append(db.execute("PRAGMA synchronous").fetchone()[0])
    with store.transaction() as db:
        seen.append(db.execute("PRAGMA synchronous").fetchone()[0])
    assert seen == [2, 1]  # FULL, NORMAL


# -- the JSON files of earlier desks -----------------------------------------------------


def old_files(directory: Path) -> tuple[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    keep = {"key": "k" * 32, "kind": "note", "server": SERVER, "user": USER, "account_id": 5,
            "account_ref": "A-0005", "body": {"text": "kept offline", "visibility": "team"},
            "created_at": T0.isoformat(), "state": "pending", "error": "", "draft": {"text": "kept offline"}}
    refused = {**keep, "key": "r" * 32, "state": "refused", "error": "complaint"}
    (directory / "outbox.json").write_text(json.dumps([keep, refused]), encoding="utf-8")
    draft_key = Drafts.key(SERVER, USER, 5, "call")
    (directory / "drafts.json").write_text(json.dumps({draft_key: {"note": "typed"}}), encoding="utf-8")
    return keep["key"], draft_key


def test_json_files_of_earlier_desks_are_imported_once(tmp_path: Path) -> None:
    directory = tmp_path / "drafts"
    key, draft_key = old_files(directory)
    store = Store(directory).open()
    assert sorted(p.name for p in store.imported) == ["drafts.json", "outbox.json"]
    outbox, drafts = Outbox(store), Drafts(store)
    assert [e.key for e in outbox.pending(SERVER, USER)] == [key]
    assert [e.error for e in outbox.refused(SERVER, USER)] == ["complaint"]
    assert drafts.get(draft_key) == {"note": "typed"} and drafts.forms(SERVER, USER, 5) == ["call"]
    assert sorted(p.name for p in directory.iterdir() if "json" in p.name) == [
        "drafts.json.migrated", "outbox.json.migrated"]
    outbox.remove(key)  # sent
    store.close()
    # Even were the old file back (a desk of the old version still running), nothing comes back.
    (directory / "outbox.json").write_bytes((directory / "outbox.json.migrated").read_bytes())
    again = Store(directory).open()
    assert again.imported == [] and Outbox(again).pending(SERVER, USER) == []
    again.close()


def test_two_desks_starting_at_once_import_the_json_files_once(tmp_path: Path) -> None:
    directory = tmp_path / "drafts"
    key, _draft_key = old_files(directory)
    script = """
        import sys, time
        from pathlib import Path
        from tui.store import Outbox, Store
        directory, go = Path(sys.argv[1]), Path(sys.argv[2])
        while not go.exists():
            time.sleep(0.002)
        store = Store(directory).open()
        print(len(store.imported), len(Outbox(store).entries()))
    """
    go = tmp_path / "go"
    outs = run_children(script, *[[str(directory), str(go)]] * 4, go=go)
    results = [tuple(int(n) for n in out.split()) for out in outs]
    assert sorted(results) == [(0, 2), (0, 2), (0, 2), (2, 2)]  # one imported both files; all see both entries
    with sqlite3.connect(directory / DB_NAME) as db:
        assert db.execute("SELECT count(*) FROM meta WHERE name = 'json-imported'").fetchone()[0] == 1


def test_a_damaged_json_file_is_kept_aside(tmp_path: Path) -> None:
    directory = tmp_path / "drafts"
    directory.mkdir(parents=True)
    (directory / "outbox.json").write_text("[{\"key\": ", encoding="utf-8")
    store = Store(directory).open()
    assert store.imported == [] and Outbox(store).entries() == []
    (damaged,) = directory.glob("outbox.json.damaged-*")
    assert damaged.read_text(encoding="utf-8") == "[{\"key\": "
    store.close()
