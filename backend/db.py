"""Engines and sessions. SQLite (WAL, foreign keys on) by default; PostgreSQL
through psycopg 3. URLs are plain SQLAlchemy URLs; the driver is ours to pick."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

DRIVERS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite", "postgresql": "postgresql+psycopg",
           "postgres": "postgresql+psycopg", "postgresql+psycopg": "postgresql+psycopg"}
"""The URL schemes collectdesk takes, and the driver each means (SQLite, or PostgreSQL through psycopg 3)."""


class DatabaseURLError(ValueError):
    """A database URL collectdesk does not take; the message says why, in one line."""


def normalize_url(url: str) -> str:
    """``postgresql://…`` (or ``postgres://…``) → ``postgresql+psycopg://…``; ``sqlite:///path`` as it is.

    Only URLs: a bare path is refused (``--db notaurl`` once made a SQLite file named
    ``notaurl``), as is any scheme but SQLite's and PostgreSQL's (``DatabaseURLError``)."""
    from sqlalchemy.exc import ArgumentError

    text = url.strip()
    if "://" not in text:
        hint = f"sqlite:///{text}" if text else "sqlite:///path/to/file.db"
        raise DatabaseURLError(f"{url!r} is not a database URL (for a SQLite file say {hint}; "
                               "for PostgreSQL postgresql://user@host/db)")
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise DatabaseURLError(f"{url!r} is not a database URL (try sqlite:///path/to/file.db "
                               "or postgresql://user@host/db)") from None
    driver = DRIVERS.get(parsed.drivername)
    if driver is None:
        raise DatabaseURLError(f"{parsed.drivername}:// is not a database collectdesk runs on: "
                               "SQLite (sqlite:///path/to/file.db) or PostgreSQL (postgresql://user@host/db)")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (``None`` for PostgreSQL or an in-memory database)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path is not None and not path.parent.is_dir():
            # Never made here: a directory that is not there is a mistyped path more often
            # than a wish (the app's own data directory is made by whoever chose it).
            raise DatabaseURLError(f"the directory {path.parent} for the database file {path.name} does not exist")
        if path is None:  # in memory: one connection per thread (SingletonThreadPool), no pool to size
            for option in ("pool_size", "max_overflow", "pool_timeout"):
                kwargs.pop(option, None)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is off),
            # so BEGIN IMMEDIATE can be issued where one writer must win.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            # SQLite's own lower() and upper() know only ASCII; PostgreSQL's know
            # Unicode. Python's make case-insensitive search (ILIKE, which SQLite
            # runs as lower(x) LIKE lower(y)) find "Élodie" and "张伟" alike on both.
            dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
            dbapi_conn.create_function("upper", 1, _upper, deterministic=True)

        writer = _OneWriter(engine)

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # noqa: ANN001
            # IMMEDIATE: take the write lock when the transaction begins (waiting
            # up to the busy timeout for it). Nearly every request writes (views
            # are audited), and in WAL mode a transaction that read before another
            # connection committed can never write: it fails at once with
            # "database is locked". Taking the lock first makes concurrent
            # requests take turns instead of failing. A connection that only reads
            # says so (execution option ``read_only``): it reads a snapshot beside
            # the writer instead of waiting for the lock.
            if conn.get_execution_options().get("read_only"):
                conn.exec_driver_sql("BEGIN")
                return
            # One writer at a time in this process, queued on a lock taken *before* BEGIN
            # IMMEDIATE and let go when the transaction ends, in whichever thread it ends:
            # SQLite's own busy handler polls with growing sleeps, so a crowd of writers
            # waiting on it got through far fewer transactions than one orderly queue
            # (issue 19 item 2). Other processes on the file still wait on the busy handler.
            writer.acquire(conn)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writer.release(conn.connection.dbapi_connection)
                raise

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


WRITER_WAIT_S = 10.0
"""How long a SQLite write transaction waits for its turn before it is refused ("database is
locked": the API answers 503 with Retry-After)."""


class _OneWriter:
    """The write lock of one SQLite engine in this process: taken before ``BEGIN IMMEDIATE``,
    released when the DBAPI connection commits or rolls back (the dialect's ``do_commit`` /
    ``do_rollback``, wrapped), or is closed or invalidated with its transaction open."""

    def __init__(self, engine: Engine) -> None:
        import threading

        self._lock = threading.Lock()
        self._holder: int | None = None
        """``id()`` of the DBAPI connection whose transaction holds the lock."""
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.release(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]
        for name in ("close", "invalidate", "soft_invalidate"):
            event.listen(engine, name, lambda dbapi_connection, *_: self.release(dbapi_connection))

    def acquire(self, conn: Any) -> None:
        from sqlalchemy.exc import OperationalError

        if not self._lock.acquire(timeout=WRITER_WAIT_S):
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3_locked())
        self._holder = id(conn.connection.dbapi_connection)

    def release(self, dbapi_connection: Any) -> None:
        # The dialect is handed the pool's proxy of the DBAPI connection; the pool's events, the connection.
        dbapi_connection = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        if dbapi_connection is not None and self._holder == id(dbapi_connection):
            self._holder = None
            self._lock.release()


def sqlite3_locked() -> Exception:
    import sqlite3

    return sqlite3.OperationalError(f"database is locked (no turn to write within {WRITER_WAIT_S:.0f} s)")


class Database:
    """One engine and its session factory; the app holds one of these."""

    def __init__(self, url: str, engine: Engine | None = None, **engine_options: Any) -> None:
        self.url = normalize_url(url)
        self.engine = engine or make_engine(self.url, **engine_options)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


def alembic_config(url: str):  # noqa: ANN201
    from alembic.config import Config

    here = Path(__file__).parent
    cfg = Config()
    cfg.set_main_option("script_location", str(here / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, engine: Engine | None = None) -> None:
    """Alembic migrations to head: the only way the schema is made."""
    from alembic import command

    cfg = alembic_config(url)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    else:
        command.upgrade(cfg, "head")


