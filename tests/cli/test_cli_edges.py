"""The console script's edges (issue 17 item 7): the desk without a terminal, a ``--db``
that is no database URL, ``serve`` on a database that is not at this collectdesk's
schema, and directories that are not there. Every test drives the real entry point
(a child process, or ``main`` in this process) on real SQLite files."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_helpers import child_env, run_child, wait_healthy

from collectdesk.embedded import free_port

posix_only = pytest.mark.skipif(os.name != "posix", reason="terminals (pty) as on POSIX")
ONE_LINE = "collectdesk: error: the desk needs a terminal, and {} is not one (a pipe or a file)"


# --------------------------------------------------------------------------
# The desk wants a terminal


def _desk_child(args: list[str], *, stdin_tty: bool, stdout_tty: bool, stderr_tty: bool, tmp_path: Path, **env: str):
    """``collectdesk ARGS`` with standard input, output and error each a terminal (a pty) or not
    (stdin: /dev/null, stdout and stderr: pipes); returns the process and the pty's master end."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    proc = subprocess.Popen(
        [sys.executable, "-m", "collectdesk", *args],
        stdin=slave if stdin_tty else subprocess.DEVNULL, stdout=slave if stdout_tty else subprocess.PIPE,
        stderr=slave if stderr_tty else subprocess.PIPE, text=True,
        env=child_env(XDG_DATA_HOME=str(tmp_path / "xdg-data"), XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
                      TMPDIR=str(tmp_path), TERM="xterm-256color", COLUMNS="80", LINES="24", **env),
        start_new_session=True)
    os.close(slave)
    return proc, master


@posix_only
@pytest.mark.parametrize("args", [
    ["desk", "--server", "http://127.0.0.1:9"],
    [],  # bare ``collectdesk`` is the desk, here on an embedded backend: refused before one is started
    ["demo", "--accounts", "10"],  # refused before the demo database is built
    ["train", "job_loss", "--data-dir", "{tmp}/training"],  # refused before the sandbox is built
])
@pytest.mark.parametrize("stdin_tty, stdout_tty, which", [
    (True, False, "standard output"),  # `collectdesk desk | less`, or a CI job's log
    (False, True, "standard input"),  # `collectdesk desk < /dev/null`: Textual spun at 90 % CPU here
    (True, True, "standard error"),  # `collectdesk desk 2> log`: Textual draws on standard error
])
def test_the_desk_without_a_terminal_exits_at_once(args, stdin_tty, stdout_tty, which, tmp_path: Path) -> None:  # noqa: ANN001
    started = time.monotonic()
    args = [a.format(tmp=tmp_path) for a in args]
    proc, master = _desk_child(args, stdin_tty=stdin_tty, stdout_tty=stdout_tty, stderr_tty=False, tmp_path=tmp_path)
    try:
        out, err = proc.communicate(timeout=30)  # it once spun here at 90 % CPU, drawing for nobody
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    assert proc.returncode == 1, err
    assert err.strip().splitlines()[-1].startswith(ONE_LINE.format(which)), err
    assert "'collectdesk demo --no-desk' or 'collectdesk serve' for the backend alone" in err
    assert "Traceback" not in err
    assert not (out or "").strip()  # no escape sequences sent down the pipe
    assert "starting an embedded backend" not in err and "building a demo database" not in err
    assert not list(tmp_path.glob("collectdesk-demo-*")) and not (tmp_path / "training").exists()
    assert time.monotonic() - started < 20


def _read_until(master: int, proc: subprocess.Popen, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        assert time.monotonic() < deadline, f"{needle!r} not drawn within {timeout} s: {seen[-400:]!r}"
        assert proc.poll() is None, f"the desk exited ({proc.returncode}): {seen[-400:]!r}"
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                pass
    return seen


@posix_only
def test_on_a_terminal_the_desk_still_opens(tmp_path: Path) -> None:
    """The refusal above never takes a real terminal for a pipe: on a pty the sign-in screen is drawn
    and ctrl+q quits with status 0."""
    proc, master = _desk_child(["desk", "--server", "http://127.0.0.1:9", "--lang", "en"], stdin_tty=True,
                               stdout_tty=True, stderr_tty=True, tmp_path=tmp_path)
    try:
        _read_until(master, proc, b"Sign in", timeout=60)
        os.write(master, b"\x11")  # ctrl+q
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)


# --------------------------------------------------------------------------
# --db: a database URL, SQLite's or PostgreSQL's, and nothing else

@pytest.mark.parametrize("form", ["sqlite:///{rel}", "sqlite:///{abs}", "sqlite+pysqlite:///{abs}"])
def test_sqlite_urls_are_taken(cli, form: str, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    url = form.format(rel="here.db", abs=tmp_path / "here.db")
    run = cli("db", "upgrade", "--db", url)
    assert run.code == 0, run.err
    assert "is at revision" in run.out
    assert (tmp_path / "here.db").is_file()


@pytest.mark.parametrize("url", ["postgresql://ann@127.0.0.1:1/cd", "postgresql+psycopg://ann:pw@127.0.0.1:1/cd",
                                 "postgres://ann@127.0.0.1:1/cd"])
def test_postgresql_urls_are_taken(cli, url: str) -> None:  # noqa: ANN001
    """Taken as URLs: what stops them here is only that nothing listens on port 1."""
    run = cli("db", "upgrade", "--db", url)
    assert run.code == 1
    assert run.err.startswith("collectdesk: error: cannot reach the database postgres")
    assert "Connection refused" in run.err or "connection failed" in run.err
    assert ":pw@" not in run.err


@pytest.mark.parametrize("url, reason", [
    ("notaurl", "'notaurl' is not a database URL (for a SQLite file say sqlite:///notaurl; "
                "for PostgreSQL postgresql://user@host/db)"),
    ("cli.db", "'cli.db' is not a database URL (for a SQLite file say sqlite:///cli.db"),
    ("", "'' is not a database URL"),
    ("mysql://ann@127.0.0.1/cd", "mysql:// is not a database collectdesk runs on: SQLite "
                                 "(sqlite:///path/to/file.db) or PostgreSQL (postgresql://user@host/db)"),
    ("postgresql+asyncpg://ann@127.0.0.1/cd", "postgresql+asyncpg:// is not a database collectdesk runs on"),
    ("nosuchdialect://x", "nosuchdialect:// is not a database collectdesk runs on"),
    ("sqlite://", "sqlite:// names no file (an in-memory database is gone when the command ends): "
                  "say sqlite:///path/to/file.db"),
    ("sqlite:///:memory:", "sqlite:///:memory: names no file"),
    ("sqlite:///missing/cli.db", "the directory {tmp}/missing for the database file cli.db does not exist "
                                 "(make it first, or name another)"),
])
@pytest.mark.parametrize("command", [("db", "upgrade"), ("serve", "--port", "9"), ("seed", "--accounts", "1")])
def test_anything_else_is_refused_with_the_reason_and_nothing_made(cli, url: str, reason: str, command,  # noqa: ANN001
                                                                   tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    run = cli(*command, "--db", url)
    assert run.code == 1
    assert run.err.startswith(f"collectdesk: error: --db: {reason.format(tmp=tmp_path)}"), run.err
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err
    assert not [p for p in tmp_path.iterdir() if p.name not in ("xdg-config", "xdg-data")]  # no file named notaurl


def test_the_environments_url_is_held_to_the_same(cli, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLLECTDESK_DB", "notaurl")
    run = cli("db", "upgrade")
    assert run.code == 1
    assert run.err.startswith("collectdesk: error: COLLECTDESK_DB: 'notaurl' is not a database URL")
    assert not (tmp_path / "notaurl").exists()


def test_the_backend_refuses_a_bare_path_too() -> None:
    """One rule for the URL wherever it comes from (``uvicorn backend.app:create_app`` reads COLLECTDESK_DB)."""
    from backend.db import Database, DatabaseURLError, make_engine, normalize_url

    assert normalize_url("postgres://a@h/d") == "postgresql+psycopg://a@h/d"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    for bad in ("notaurl", "mysql://a@h/d"):
        with pytest.raises(DatabaseURLError):
            Database(bad)
    with pytest.raises(DatabaseURLError, match="does not exist"):
        make_engine("sqlite:////nonexistent-collectdesk-dir/x.db")


# --------------------------------------------------------------------------
# serve on a database that is not at this collectdesk's schema: it says so, with the one command


def test_serve_on_a_missing_sqlite_file_makes_nothing(cli, tmp_path: Path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'new.db'}"
    run = cli("serve", "--db", url, "--port", "9")
    assert run.code == 1
    assert run.err == (f"collectdesk: error: the database {url} has no collectdesk tables yet (there is no file "
                       f"{tmp_path / 'new.db'}); run: collectdesk db upgrade --db {url}\n")
    assert not (tmp_path / "new.db").exists()  # once made empty by the refusal itself


def test_serve_on_an_older_revision_names_the_command_and_the_command_fixes_it(cli, tmp_path: Path) -> None:  # noqa: ANN001
    from alembic import command
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    script = ScriptDirectory.from_config(alembic_config(url))
    head = script.get_current_head()
    older = script.get_revision(head).down_revision
    command.upgrade(alembic_config(url), older)

    run = cli("serve", "--db", url, "--port", "9")
    assert run.code == 1
    hint = f"run: collectdesk db upgrade --db {url}"
    assert run.err == (f"collectdesk: error: the database {url} is at revision {older}, not {head}; {hint}\n")

    fix = run.err.rsplit("run: ", 1)[1].split()
    assert fix[0] == "collectdesk"
    fixed = cli(*fix[1:])
    assert fixed.code == 0, fixed.err
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--db", url, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc=proc)
        assert httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                          json={"username": "x", "password": "y"}).status_code == 401
    finally:
        proc.terminate()
        proc.wait(15)


def test_serve_on_someone_elses_database_does_not_offer_to_migrate_it(cli, tmp_path: Path) -> None:  # noqa: ANN001
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("create table invoices (id integer primary key)")
    url = f"sqlite:///{tmp_path / 'other.db'}"
    run = cli("serve", "--db", url, "--port", "9")
    assert run.code == 1
    assert "has tables (invoices) but no collectdesk revision: is it the right database?" in run.err
    assert "db upgrade" not in run.err


def test_serve_on_an_empty_postgresql_database_says_the_same(cli, scratch_postgres) -> None:  # noqa: ANN001
    if not os.environ.get("COLLECTDESK_TEST_DB"):
        pytest.skip("COLLECTDESK_TEST_DB names no PostgreSQL server")
    with scratch_postgres("collectdesk_cli_edges") as url:
        run = cli("serve", "--db", url, "--port", "9")
    assert run.code == 1
    assert "has no collectdesk tables yet; run: collectdesk db upgrade --db postgresql" in run.err


# --------------------------------------------------------------------------
# A directory that is not there is an error naming it, never made


def test_demo_data_dir_in_a_missing_directory(tmp_path: Path) -> None:
    run = run_child("demo", "--no-desk", "--data-dir", str(tmp_path / "missing" / "demo"), timeout=30)
    assert run.code == 2
    assert (f"error: argument --data-dir: the directory {tmp_path / 'missing'} does not exist "
            "(make it first, or name another)") in run.err
    assert not (tmp_path / "missing").exists()


def test_demo_data_dir_itself_may_be_new(tmp_path: Path) -> None:
    from collectdesk.cli.entry import build_parser

    args = build_parser().parse_args(["demo", "--data-dir", str(tmp_path / "demo")])
    assert args.data_dir == tmp_path / "demo"  # made by the demo (in a directory that is there)


def test_train_data_dir_in_a_missing_directory(cli, tmp_path: Path) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as info:
        cli("train", "--data-dir", str(tmp_path / "missing" / "training"))
    assert info.value.code == 2
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("kind", ["team", "strategies"])
def test_report_output_in_a_missing_directory(kind: str, migrated_url: str, tmp_path: Path) -> None:
    run = run_child("report", kind, "--output", str(tmp_path / "missing" / "r.csv"), "--db", migrated_url, timeout=30)
    assert run.code == 2
    assert f"argument --output: the directory {tmp_path / 'missing'} does not exist" in run.err
    assert not (tmp_path / "missing").exists()


def test_report_output_that_is_a_directory(migrated_url: str, tmp_path: Path) -> None:
    run = run_child("report", "team", "--output", str(tmp_path), "--db", migrated_url, timeout=30)
    assert run.code == 2
    assert f"argument --output: {tmp_path} is a directory: name a file in it" in run.err


def test_the_apps_own_data_directory_is_made(cli, tmp_path: Path) -> None:  # noqa: ANN001
    """No --db and no COLLECTDESK_DB: the local file in the platform's data directory, made if need be."""
    assert not (tmp_path / "xdg-data").exists()
    run = cli("db", "upgrade")
    assert run.code == 0, run.err
    assert (tmp_path / "xdg-data" / "collectdesk" / "collectdesk.db").is_file()
