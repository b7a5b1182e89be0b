"""SQLite's writers take turns in a queue of the process (issue 19 item 2): a lock taken
before ``BEGIN IMMEDIATE`` and let go when the transaction ends, in whatever thread it
ends; readers (``read_only``) never wait for it; a writer that gets no turn within its
bound is refused "database is locked" (the API's 503 with Retry-After).

SQLite files of the tests' own, whatever database the suite runs on."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

import backend.db
from backend.db import make_engine

pytestmark = pytest.mark.timers  # real waits: not under faketime (.ci/run)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'writers.db'}", pool_size=40, max_overflow=0, pool_timeout=30)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (writer INTEGER, n INTEGER)"))
    yield engine
    engine.dispose()


def test_many_writers_at_once_all_write_and_failures_give_the_turn_back(sqlite_engine: Engine) -> None:
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for n in range(20):
                with sqlite_engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:k, :n)"), {"k": k, "n": n})
                with pytest.raises(ZeroDivisionError), sqlite_engine.begin() as conn:  # rolled back
                    conn.execute(text("INSERT INTO t VALUES (:k, -1)"), {"k": k})
                    1 / 0  # noqa: B018
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(n) FROM t")).one() == (600, 0)


def test_a_transaction_ended_in_another_thread_gives_the_turn_back(sqlite_engine: Engine) -> None:
    conn = sqlite_engine.connect()
    tx = conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1, 1)"))
    ended = threading.Thread(target=tx.commit)  # the thread hop a request's turns may make
    ended.start()
    ended.join(10)
    conn.close()
    with sqlite_engine.begin() as other:  # not waiting for a turn that was never given back
        other.execute(text("INSERT INTO t VALUES (2, 1)"))


def test_a_connection_closed_mid_transaction_gives_the_turn_back(sqlite_engine: Engine,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend.db, "WRITER_WAIT_S", 2.0)
    conn = sqlite_engine.connect()
    conn.begin()
    conn.execute(text("INSERT INTO t VALUES (1, 1)"))
    conn.invalidate()  # a connection lost with its transaction open
    conn.close()
    with sqlite_engine.begin() as other:
        other.execute(text("INSERT INTO t VALUES (2, 1)"))


def test_readers_do_not_wait_and_a_writer_without_a_turn_is_refused_in_its_bound(
        sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend.db, "WRITER_WAIT_S", 0.3)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1, 1)"))
            holding.set()
            done.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(10)
        with sqlite_engine.connect().execution_options(read_only=True) as reader, reader.begin():
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0  # the snapshot before it
        t0 = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"), sqlite_engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (2, 1)"))
        assert time.monotonic() - t0 < 5
    finally:
        done.set()
        holder.join(10)
    with sqlite_engine.begin() as conn:  # the refused one left the turn as it was: free now
        conn.execute(text("INSERT INTO t VALUES (3, 1)"))
