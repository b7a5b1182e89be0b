"""Nothing typed is lost: drafts and the outbox, kept in local files.

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
nothing elsewhere). Files are replaced atomically; the outbox is fsynced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

EntryKind = Literal["contact", "note"]


def default_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("collectdesk", appauthor=False) / "drafts"


def _write_json(path: Path, data: Any, *, durable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1, sort_keys=True)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if durable and hasattr(os, "O_DIRECTORY"):
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


def _read_json(path: Path, default: Any) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        return default
    except (OSError, ValueError):
        # A damaged file is kept aside rather than overwritten: what it holds may matter.
        with contextlib.suppress(OSError):
            path.replace(path.with_name(f"{path.name}.damaged-{uuid.uuid4().hex[:8]}"))
        return default


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


class Outbox:
    """``outbox.json`` in the drafts directory."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "outbox.json"
        self._entries: list[OutboxEntry] = [
            OutboxEntry(**raw) for raw in _read_json(self.path, []) if isinstance(raw, dict) and "key" in raw
        ]

    def _save(self) -> None:
        _write_json(self.path, [asdict(e) for e in self._entries], durable=True)

    def add(self, kind: EntryKind, *, server: str, user: str, account_id: int, account_ref: str,
            body: dict[str, Any], draft: dict[str, Any] | None = None, now: dt.datetime | None = None) -> OutboxEntry:
        entry = OutboxEntry(
            key=uuid.uuid4().hex, kind=kind, server=server, user=user, account_id=account_id, account_ref=account_ref,
            body=body, created_at=(now or dt.datetime.now(dt.UTC)).isoformat(), draft=dict(draft or {}),
        )
        self._entries.append(entry)
        self._save()
        return entry

    def remove(self, key: str) -> None:
        before = len(self._entries)
        self._entries = [e for e in self._entries if e.key != key]
        if len(self._entries) != before:
            self._save()

    def refuse(self, key: str, error: str) -> None:
        for entry in self._entries:
            if entry.key == key:
                entry.state, entry.error = "refused", error
        self._save()

    def get(self, key: str) -> OutboxEntry | None:
        return next((e for e in self._entries if e.key == key), None)

    def pending(self, server: str, user: str) -> list[OutboxEntry]:
        return [e for e in self._entries if e.state == "pending" and e.server == server and e.user == user]

    def refused(self, server: str, user: str) -> list[OutboxEntry]:
        return [e for e in self._entries if e.state == "refused" and e.server == server and e.user == user]

    def for_account(self, server: str, user: str, account_id: int) -> list[OutboxEntry]:
        return [e for e in self._entries if e.server == server and e.user == user and e.account_id == account_id]


class Drafts:
    """``drafts.json``: forms as typed, by server, user, account and form."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "drafts.json"
        raw = _read_json(self.path, {})
        self._drafts: dict[str, dict[str, Any]] = raw if isinstance(raw, dict) else {}

    @staticmethod
    def key(server: str, user: str, account_id: int, form: str) -> str:
        return f"{server}|{user}|{account_id}|{form}"

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._drafts.get(key)
        return dict(value) if isinstance(value, dict) else None

    def put(self, key: str, values: dict[str, Any]) -> None:
        if self._drafts.get(key) == values:
            return
        self._drafts[key] = dict(values)
        _write_json(self.path, self._drafts, durable=False)

    def drop(self, key: str) -> None:
        if self._drafts.pop(key, None) is not None:
            _write_json(self.path, self._drafts, durable=False)
