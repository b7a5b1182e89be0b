"""Nothing typed is lost: drafts and the outbox, kept in a local SQLite database.

*Drafts* are forms being typed (a call being logged, a note): saved on every
change, so they survive leaving the screen, a dropped connection and a killed
process, and come back when the form for the same account is opened again.

The *outbox* holds contacts and notes the agent has saved but the backend has
not yet accepted. Each entry is written to disk, with its idempotency key,
before it is first sent; it leaves the outbox only when the backend has answered
it. Sending it again after a lost answer, a crash or an outage uses the same
key, so the backend records it exactly once. An entry the backend refuses
(a rule, a field) is kept as *refused* and its text goes back into the draft.

Both are scoped to a server and a user (account ids and idempotency keys mean
nothing elsewhere), and both live in one file, ``store.sqlite3`` in the drafts
directory, that any number of desk processes of the user on the machine share
(a second terminal, an SSH session that lingers after a reconnect):

- Every read goes to the database: no desk holds a copy that another can make
  stale, and no desk rewrites what another wrote. A draft is one row (the last
  write of *that* form wins; another account's or form's draft is untouched).
- A desk sends an entry only once it has *claimed* it (``Outbox.claim``): a
  claim names the desk process and lapses after ``LEASE_S`` seconds, so two
  desks never send one entry at once and a crashed desk's entries go out from
  another. ``Outbox.add`` claims the new entry for the desk that saved it.
- WAL journal, a busy timeout, short ``BEGIN IMMEDIATE`` transactions; the
  outbox's writes are fsynced (``synchronous=FULL``), a draft's keystrokes are
  not (they survive a killed process, as before).

``drafts.json`` and ``outbox.json``, where earlier desks kept them, are imported
once, the first time the database is opened (in one transaction, under the
write lock, with a marker row so a second desk starting at the same moment does
not import them again), and renamed ``*.migrated``. A damaged one is set aside
as ``*.damaged-…``, as before.

The database is opened on first use, once per ``Store``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

EntryKind = Literal["contact", "note"]

DB_NAME = "store.sqlite3"
LEASE_S = 60.0
"""How long a desk's claim on an outbox entry holds: longer than any one send, so
only a desk that died (or hung) while sending loses its entries to another."""
PLACE_KEPT_S = 12 * 3600.0
"""How long a desk that ended without its agent leaving the account (its terminal was
lost, it was killed) is returned to by the user's next desk: a sign-in's longest life."""
BUSY_TIMEOUT_S = 5.0
"""How long a desk waits for another's write to finish before giving up."""
SCHEMA_VERSION = 2
_MIGRATED = "json-imported"
"""The marker row: the JSON files of earlier desks have been imported."""

_log = logging.getLogger(__name__)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS drafts (
        key TEXT PRIMARY KEY,
        server TEXT, user TEXT, account_id INTEGER, form TEXT,
        draft TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS drafts_scope ON drafts (server, user, account_id)",
    """CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        server TEXT NOT NULL, user TEXT NOT NULL,
        account_id INTEGER NOT NULL, account_ref TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        error TEXT NOT NULL DEFAULT '',
        draft TEXT NOT NULL DEFAULT '{}',
        claimed_by TEXT,
        claimed_at REAL
    )""",
    "CREATE INDEX IF NOT EXISTS outbox_scope ON outbox (server, user, state)",
    # Schema 2: where each desk is (issue 18 item 5), so that the desk of an agent whose
    # connection dropped is found again by the next one they start.
    """CREATE TABLE IF NOT EXISTS places (
        desk TEXT PRIMARY KEY,
        server TEXT NOT NULL, user TEXT NOT NULL,
        host TEXT NOT NULL, pid INTEGER NOT NULL, started TEXT NOT NULL,
        account_id INTEGER NOT NULL, account_ref TEXT NOT NULL, name TEXT NOT NULL,
        form TEXT,
        at REAL NOT NULL,
        left_at REAL
    )""",
    "CREATE INDEX IF NOT EXISTS places_scope ON places (server, user)",
)


def default_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("collectdesk", appauthor=False) / "drafts"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _split_key(key: str) -> tuple[str | None, str | None, int | None, str | None]:
    """``server|user|account_id|form`` (``Drafts.key``) → its parts, or Nones."""
    parts = key.rsplit("|", 3)
    if len(parts) == 4:
        server, user, account, form = parts
        with contextlib.suppress(ValueError):
            return server, user, int(account), form
    return None, None, None, None


def _read_json(path: Path) -> Any:
    """A file of an earlier desk: its JSON, or None when absent or damaged (set aside)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        # A damaged file is kept aside rather than dropped: what it holds may matter.
        with contextlib.suppress(OSError):
            path.replace(path.with_name(f"{path.name}.damaged-{uuid.uuid4().hex[:8]}"))
        return None


@dataclass
class OutboxEntry:
    key: str
    """The idempotency key the entry is always sent with."""
    kind: EntryKind
    server: str
    user: str
    account_id: int
    account_ref: str
    body: dict[str, Any]
    """The request body, as JSON."""
    created_at: str
    state: Literal["pending", "refused"] = "pending"
    error: str = ""
    draft: dict[str, Any] = field(default_factory=dict)
    """The form as typed, to put back if the backend refuses the entry."""


_ENTRY_COLUMNS = "key, kind, server, user, account_id, account_ref, body, created_at, state, error, draft"


def _entry(row: tuple[Any, ...]) -> OutboxEntry:
    key, kind, server, user, account_id, account_ref, body, created_at, state, error, draft = row
    return OutboxEntry(key=key, kind=kind, server=server, user=user, account_id=account_id, account_ref=account_ref,
                       body=json.loads(body), created_at=created_at, state=state, error=error, draft=json.loads(draft))


@dataclass(frozen=True)
class Waiting:
    """What this machine keeps for a server and user: the status line's counts, and
    per account the entries not yet sent and the forms with a draft."""

    pending: int = 0
    refused: int = 0
    unsent: dict[int, int] = field(default_factory=dict)
    """Account id → entries waiting to be sent."""
    refused_for: dict[int, int] = field(default_factory=dict)
    """Account id → entries the backend refused (kept until their form takes them back)."""
    drafts: dict[int, tuple[str, ...]] = field(default_factory=dict)
    """Account id → the forms with a draft (``call``, ``note``, ``plan``, ``escalation``)."""
    orphaned: int = 0
    """Pending entries no desk is sending: never claimed, or claimed by a desk whose claim
    has lapsed (it was killed, or lost its line). Any desk of the user may send them."""


def _use_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (it stays so in the file).

    Changing the journal mode needs the database to itself, and SQLite answers
    "database is locked" at once, without waiting the busy timeout, when another
    desk is opening the same new file at that moment: so try again until the
    timeout, then give up with SQLite's error."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.05))


class Store:
    """``store.sqlite3`` in ``directory``: one connection, opened on first use.

    ``clock`` tells the time claims are made and lapse at (tests move it);
    ``token`` names this desk process in its claims."""

    def __init__(self, directory: Path, *, clock: Callable[[], dt.datetime] | None = None,
                 lease_s: float = LEASE_S) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.clock = clock or _utc_now
        self.lease_s = lease_s
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.RLock()
        self.imported: list[Path] = []
        """The earlier desks' JSON files this store imported when it opened the database (if it did)."""

    # -- the connection --------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Autocommit (isolation_level=None): transactions are begun here, explicitly.
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                _use_wal(conn)
                self._setup(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def open(self) -> Store:
        """Open the database now (else it opens on first use)."""
        with self._lock:
            self._connect()
        return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextlib.contextmanager
    def _begin(self, conn: sqlite3.Connection, *, write: bool, durable: bool) -> Iterator[sqlite3.Connection]:
        if write:
            # FULL: the commit is on the disk when it returns (the outbox); NORMAL: it
            # survives the process, not a power cut (a draft's keystrokes).
            conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        # IMMEDIATE: the write lock is taken first (waiting up to the busy timeout), so
        # a transaction that read never fails when it comes to write.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One transaction on the shared database (``durable``: fsynced at commit)."""
        with self._lock:
            conn = self._connect()
            with self._begin(conn, write=write, durable=durable):
                yield conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        """The tables, and the earlier desks' JSON files imported, once."""
        imported: list[Path] = []
        with self._begin(conn, write=True, durable=True):
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if conn.execute("SELECT 1 FROM meta WHERE name = ?", (_MIGRATED,)).fetchone() is None:
                imported = self._import_json(conn)
                conn.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (_MIGRATED, self.clock().isoformat()))
        for path in imported:
            # After the commit: a crash before this leaves a file the marker says was imported.
            with contextlib.suppress(OSError):
                path.replace(path.with_name(f"{path.name}.migrated"))
        self.imported = imported

    def _import_json(self, conn: sqlite3.Connection) -> list[Path]:
        imported = []
        drafts_path, outbox_path = self.directory / "drafts.json", self.directory / "outbox.json"
        drafts = _read_json(drafts_path)
        if drafts is not None:
            imported.append(drafts_path)
        for key, values in (drafts.items() if isinstance(drafts, dict) else ()):
            if isinstance(key, str) and isinstance(values, dict):
                conn.execute("INSERT OR IGNORE INTO drafts (key, server, user, account_id, form, draft, updated_at)"
                             " VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (key, *_split_key(key), _dumps(values), self.clock().isoformat()))
        entries = _read_json(outbox_path)
        if entries is not None:
            imported.append(outbox_path)
        for raw in (entries if isinstance(entries, list) else ()):
            try:
                entry = OutboxEntry(**raw)
            except TypeError:
                _log.warning("outbox.json: an entry that is not one kept: %r", raw)
                continue
            conn.execute(f"INSERT OR IGNORE INTO outbox ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (entry.key, entry.kind, entry.server, entry.user, entry.account_id, entry.account_ref,
                          _dumps(entry.body), entry.created_at, entry.state, entry.error, _dumps(entry.draft)))
        return imported

    # -- what is waiting -------------------------------------------------------------

    def now_s(self) -> float:
        return self.clock().timestamp()

    def waiting(self, server: str, user: str) -> Waiting:
        """What is kept for ``server`` and ``user``, as one snapshot."""
        with self.transaction(write=False) as db:
            outbox = db.execute("SELECT account_id, state, count(*) FROM outbox WHERE server = ? AND user = ?"
                                " GROUP BY account_id, state", (server, user)).fetchall()
            drafts = db.execute("SELECT account_id, form FROM drafts WHERE server = ? AND user = ? ORDER BY form",
                                (server, user)).fetchall()
            orphaned = db.execute(
                "SELECT count(*) FROM outbox WHERE server = ? AND user = ? AND state = 'pending'"
                " AND (claimed_by IS NULL OR claimed_at < ?)",
                (server, user, self.now_s() - self.lease_s)).fetchone()[0]
        unsent: dict[int, int] = {}
        refused: dict[int, int] = {}
        for account_id, state, count in outbox:
            (refused if state == "refused" else unsent)[account_id] = count
        forms: dict[int, tuple[str, ...]] = {}
        for account_id, form in drafts:
            forms[account_id] = (*forms.get(account_id, ()), form)
        return Waiting(pending=sum(unsent.values()), refused=sum(refused.values()), unsent=unsent,
                       refused_for=refused, drafts=forms, orphaned=orphaned)


def _store(where: Store | Path | str) -> Store:
    return where if isinstance(where, Store) else Store(Path(where))


class Outbox:
    """The ``outbox`` table of the store: what was saved and is not yet on the backend.

    ``claim`` before sending, then ``remove`` (answered), ``release`` (not answered:
    another desk, or this one, sends it later) or ``refuse``/``refuse_into_draft``."""

    def __init__(self, where: Store | Path | str) -> None:
        self.store = _store(where)
        self._sending: set[str] = set()
        """Entries this desk has claimed and is sending now (claims name the process, not the send)."""

    @property
    def path(self) -> Path:
        return self.store.path

    def add(self, kind: EntryKind, *, server: str, user: str, account_id: int, account_ref: str,
            body: dict[str, Any], draft: dict[str, Any] | None = None, now: dt.datetime | None = None) -> OutboxEntry:
        """Keep a new entry, on the disk when this returns, claimed by this desk to send now."""
        entry = OutboxEntry(
            key=uuid.uuid4().hex, kind=kind, server=server, user=user, account_id=account_id, account_ref=account_ref,
            body=body, created_at=(now or _utc_now()).isoformat(), draft=dict(draft or {}),
        )
        with self.store.transaction(durable=True) as db:
            db.execute(f"INSERT INTO outbox ({_ENTRY_COLUMNS}, claimed_by, claimed_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (entry.key, kind, server, user, account_id, account_ref, _dumps(body), entry.created_at,
                        entry.state, entry.error, _dumps(entry.draft), self.store.token, self.store.now_s()))
        return entry

    def claim(self, key: str) -> bool:
        """Take ``key`` to send it: true when this desk may send it now. Not while it is
        being sent (by this desk, or another whose claim has not lapsed), nor once
        it has been answered or refused."""
        if key in self._sending:
            return False
        now = self.store.now_s()
        with self.store.transaction() as db:
            claimed = db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_at = ? WHERE key = ? AND state = 'pending'"
                " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_at < ?)",
                (self.store.token, now, key, self.store.token, now - self.store.lease_s)).rowcount == 1
        if claimed:
            self._sending.add(key)
        return claimed

    def release(self, key: str) -> None:
        """Not answered: the entry stays, for whichever desk sends next."""
        self._sending.discard(key)
        with self.store.transaction() as db:
            db.execute("UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE key = ? AND claimed_by = ?",
                       (key, self.store.token))

    def remove(self, key: str) -> None:
        self._sending.discard(key)
        with self.store.transaction(durable=True) as db:
            db.execute("DELETE FROM outbox WHERE key = ?", (key,))

    def refuse(self, key: str, error: str) -> None:
        self._sending.discard(key)
        with self.store.transaction(durable=True) as db:
            db.execute("UPDATE outbox SET state = 'refused', error = ?, claimed_by = NULL, claimed_at = NULL"
                       " WHERE key = ?", (error, key))

    def refuse_into_draft(self, key: str, error: str, draft_key: str) -> bool:
        """The backend refused ``key``: its form goes back into the draft ``draft_key``
        and it leaves the outbox (true), unless a newer draft is being typed there:
        then it stays, as refused, until that form takes it back (false). One
        transaction, so a desk opening the form sees one or the other."""
        self._sending.discard(key)
        with self.store.transaction(durable=True) as db:
            row = db.execute("SELECT draft FROM outbox WHERE key = ?", (key,)).fetchone()
            if row is None:
                return False
            if db.execute("SELECT 1 FROM drafts WHERE key = ?", (draft_key,)).fetchone() is None:
                _put_draft(db, self.store, draft_key, {**json.loads(row[0]), "refused": error})
                db.execute("DELETE FROM outbox WHERE key = ?", (key,))
                return True
            db.execute("UPDATE outbox SET state = 'refused', error = ?, claimed_by = NULL, claimed_at = NULL"
                       " WHERE key = ?", (error, key))
            return False

    def take(self, key: str) -> OutboxEntry | None:
        """Take a refused entry out of the outbox (its form shows it again): the entry,
        or None when another desk took it first."""
        with self.store.transaction(durable=True) as db:
            row = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM outbox WHERE key = ?", (key,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM outbox WHERE key = ?", (key,))
        return _entry(row)

    def _select(self, where: str, params: tuple[Any, ...]) -> list[OutboxEntry]:
        with self.store.transaction(write=False) as db:
            rows = db.execute(f"SELECT {_ENTRY_COLUMNS} FROM outbox WHERE {where} ORDER BY seq", params).fetchall()
        return [_entry(row) for row in rows]

    def get(self, key: str) -> OutboxEntry | None:
        found = self._select("key = ?", (key,))
        return found[0] if found else None

    def entries(self) -> list[OutboxEntry]:
        """Every entry, of every server and user, oldest first."""
        return self._select("1", ())

    def pending(self, server: str, user: str) -> list[OutboxEntry]:
        return self._select("state = 'pending' AND server = ? AND user = ?", (server, user))

    def refused(self, server: str, user: str) -> list[OutboxEntry]:
        return self._select("state = 'refused' AND server = ? AND user = ?", (server, user))

    def for_account(self, server: str, user: str, account_id: int) -> list[OutboxEntry]:
        return self._select("server = ? AND user = ? AND account_id = ?", (server, user, account_id))


def _put_draft(db: sqlite3.Connection, store: Store, key: str, values: dict[str, Any]) -> None:
    db.execute("INSERT INTO drafts (key, server, user, account_id, form, draft, updated_at, updated_by)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
               " ON CONFLICT (key) DO UPDATE SET draft = excluded.draft, updated_at = excluded.updated_at,"
               " updated_by = excluded.updated_by WHERE drafts.draft IS NOT excluded.draft",
               (key, *_split_key(key), _dumps(values), store.clock().isoformat(), store.token))


class Drafts:
    """The ``drafts`` table of the store: forms as typed, by server, user, account and form.
    One row per form; the last desk to write a form's draft wins, and only that form's."""

    def __init__(self, where: Store | Path | str) -> None:
        self.store = _store(where)

    @property
    def path(self) -> Path:
        return self.store.path

    @staticmethod
    def key(server: str, user: str, account_id: int, form: str) -> str:
        return f"{server}|{user}|{account_id}|{form}"

    def get(self, key: str) -> dict[str, Any] | None:
        """The draft as it is now in the store (another desk may have written it since)."""
        with self.store.transaction(write=False) as db:
            row = db.execute("SELECT draft FROM drafts WHERE key = ?", (key,)).fetchone()
        value = json.loads(row[0]) if row else None
        return value if isinstance(value, dict) else None

    def put(self, key: str, values: dict[str, Any]) -> None:
        try:
            with self.store.transaction() as db:
                _put_draft(db, self.store, key, values)
        except sqlite3.OperationalError:
            # Another desk held the store past the busy timeout: the form's next change
            # (or leaving it) writes the whole draft again. Typing must not stop for it.
            _log.warning("draft %s not written: the store is busy", key, exc_info=True)

    def drop(self, key: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM drafts WHERE key = ?", (key,))

    def forms(self, server: str, user: str, account_id: int) -> list[str]:
        """The forms of ``account_id`` with a draft, by name."""
        with self.store.transaction(write=False) as db:
            rows = db.execute("SELECT form FROM drafts WHERE server = ? AND user = ? AND account_id = ? ORDER BY form",
                              (server, user, account_id)).fetchall()
        return [form for (form,) in rows]


# -- where each desk is -------------------------------------------------------------------


def _process_started(pid: int) -> str:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``), so that a
    process id the system has given to another process since is not taken for the desk;
    "" where ``/proc`` is not there (then the id alone is asked)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _alive(pid: int, started: str) -> bool:
    """Whether the desk process ``pid`` (started at ``started``) still runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: not this user's desk, but not provably gone either
    return not started or _process_started(pid) in ("", started)


@dataclass(frozen=True)
class Place:
    """Where a desk of the user was: an account, and the form open on it (``call``,
    ``note``, ``plan``, ``escalation``: the draft's form) or None."""

    desk: str
    account_id: int
    account_ref: str
    name: str
    form: str | None
    at: float
    """When the desk went there (``Store.now_s``)."""
    alive: bool
    """The desk is still running (on this machine), or cannot be known to have ended (another machine)."""


@dataclass(frozen=True)
class Return:
    """What a desk finds when its user signs in: the place to go back to (a desk of the user
    that ended there, taken over by this one), and the places of their desks still open."""

    back_to: Place | None = None
    open_elsewhere: tuple[Place, ...] = ()


class Places:
    """The ``places`` table of the store: the account (and form) each desk process of the
    user is on, so that a desk started after a dropped connection returns there.

    A desk writes its place as the agent moves (``here``), clears it when the agent goes
    back to a list, signs out or quits (``leave``), and marks it *left* when its terminal
    is gone (``lost``: kept, for the next desk). The next desk to sign in as the user takes
    the newest place of a desk that has ended (``take``): one that marked itself left, or
    whose process is no longer running (killed); a place of a desk still running is told,
    not taken, since two desks typing into one draft would each undo the other."""

    def __init__(self, where: Store | Path | str) -> None:
        self.store = _store(where)
        self._host = os.uname().nodename if hasattr(os, "uname") else ""
        self._pid = os.getpid()
        self._started = _process_started(self._pid)
        self._written: tuple[Any, ...] | None = None
        self.ended = False
        """The desk's terminal is gone (``lost``): nothing it does after that moves its place."""

    def here(self, server: str, user: str, account_id: int, account_ref: str, name: str,
             form: str | None = None) -> None:
        """This desk is on ``account_id`` (with ``form`` open)."""
        written = (server, user, account_id, account_ref, name, form)
        if written == self._written or self.ended:
            return
        try:
            with self.store.transaction() as db:
                db.execute(
                    "INSERT INTO places (desk, server, user, host, pid, started, account_id, account_ref, name,"
                    " form, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (desk) DO UPDATE SET server = excluded.server, user = excluded.user,"
                    " account_id = excluded.account_id, account_ref = excluded.account_ref, name = excluded.name,"
                    " form = excluded.form, at = excluded.at, left_at = NULL",
                    (self.store.token, server, user, self._host, self._pid, self._started, account_id, account_ref,
                     name, form, self.store.now_s()))
        except sqlite3.OperationalError:
            _log.warning("place not written: the store is busy", exc_info=True)
            return
        self._written = written

    def leave(self) -> None:
        """This desk is on no account (a list, the sign-in, or it quit as asked)."""
        if self._written is None or self.ended:
            return
        try:
            with self.store.transaction() as db:
                db.execute("DELETE FROM places WHERE desk = ?", (self.store.token,))
        except sqlite3.OperationalError:
            _log.warning("place not cleared: the store is busy", exc_info=True)
            return
        self._written = None

    def lost(self) -> None:
        """This desk ends without its agent leaving (the terminal is gone): its place is
        kept for the next desk, and what it had claimed to send is let go at once."""
        self.ended = True
        now = self.store.now_s()
        with self.store.transaction(durable=True) as db:
            db.execute("UPDATE places SET left_at = ? WHERE desk = ?", (now, self.store.token))
            db.execute("UPDATE outbox SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by = ?"
                       " AND state = 'pending'", (self.store.token,))

    def _place(self, row: tuple[Any, ...]) -> Place:
        desk, host, pid, started, account_id, ref, name, form, at, left_at = row
        alive = left_at is None and (host != self._host or _alive(int(pid), str(started)))
        return Place(desk=desk, account_id=account_id, account_ref=ref, name=name, form=form, at=at, alive=alive)

    def take(self, server: str, user: str) -> Return:
        """For a desk whose user just signed in: the newest place of the user's desks that
        have ended, taken (it is no other desk's to take after this), and the places of
        their desks still open. Places older than ``PLACE_KEPT_S`` are forgotten."""
        now = self.store.now_s()
        with self.store.transaction() as db:
            db.execute("DELETE FROM places WHERE at < ?", (now - PLACE_KEPT_S,))
            rows = db.execute(
                "SELECT desk, host, pid, started, account_id, account_ref, name, form, at, left_at FROM places"
                " WHERE server = ? AND user = ? AND desk <> ? ORDER BY at DESC", (server, user, self.store.token),
            ).fetchall()
            places = [self._place(row) for row in rows]
            ended = [p for p in places if not p.alive]
            if ended:
                # Every ended desk's place is let go: the newest is where the agent was last.
                db.executemany("DELETE FROM places WHERE desk = ?", [(p.desk,) for p in ended])
        return Return(back_to=ended[0] if ended else None, open_elsewhere=tuple(p for p in places if p.alive))
