"""Engines and sessions. SQLite (WAL, foreign keys on) by default; PostgreSQL
through psycopg 3. URLs are plain SQLAlchemy URLs; the driver is ours to pick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """``postgresql://…`` → ``postgresql+psycopg://…``; a bare path → ``sqlite:///path``."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
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
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("read_only") else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; the app holds one of these."""

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = normalize_url(url)
        self.engine = engine or make_engine(self.url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self) -> Iterator[Session]:
        with self.sessionmaker() as session:
            yield session


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


