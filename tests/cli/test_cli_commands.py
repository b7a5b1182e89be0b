"""The console script: help, argument errors, friendly failures, ``db upgrade``
and ``user add``."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cli_helpers import child_env, run_child

COMMANDS = ("demo", "desk", "serve", "db", "seed", "user", "import")


def test_help_lists_every_command() -> None:
    run = run_child("--help")
    assert run.code == 0, run.err
    for command in COMMANDS:
        assert f"    {command} " in run.out
    assert "Traceback" not in run.err


@pytest.mark.parametrize("args", [
    ("demo", "--help"), ("desk", "--help"), ("serve", "--help"), ("db", "upgrade", "--help"),
    ("seed", "--help"), ("user", "add", "--help"), ("import", "accounts", "--help"),
])
def test_every_subcommand_has_help(cli, args: tuple[str, ...]) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exit_info:
        cli(*args)
    assert exit_info.value.code == 0


def test_documented_options_are_accepted() -> None:
    from collectdesk.cli.entry import build_parser

    parser = build_parser()
    demo = parser.parse_args(["demo", "--lang", "zh_CN", "--low-bandwidth", "--accounts", "50", "--data-dir", "d"])
    assert (demo.lang, demo.low_bandwidth, demo.accounts, demo.data_dir) == ("zh_CN", True, 50, Path("d").resolve())
    assert parser.parse_args(["demo"]).accounts == 2000
    serve = parser.parse_args(["serve", "--db", "sqlite:///x.db", "--host", "0.0.0.0", "--port", "9000", "--workers", "4"])
    assert (serve.db, serve.host, serve.port, serve.workers) == ("sqlite:///x.db", "0.0.0.0", 9000, 4)
    defaults = parser.parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.workers) == ("127.0.0.1", 8765, 1)
    seed = parser.parse_args(["seed", "--accounts", "100_000", "--seed", "7"])
    assert (seed.accounts, seed.seed) == (100_000, 7)
    user = parser.parse_args(["user", "add", "ann", "--role", "supervisor", "--team", "B", "--password-stdin"])
    assert (user.name, user.role, user.team, user.password_stdin) == ("ann", "supervisor", "B", True)
    imp = parser.parse_args(["import", "accounts", "f.csv", "--as", "root"])
    assert (str(imp.file), imp.as_user) == ("f.csv", "root")
    assert parser.parse_args(["desk", "--lang", "zh-cn"]).lang == "zh_CN"


def test_bare_command_and_bare_options_mean_desk() -> None:
    from collectdesk.cli.entry import normalize_argv as _normalize_argv

    assert _normalize_argv([]) == ["desk"]
    assert _normalize_argv(["--lang", "zh_CN"]) == ["desk", "--lang", "zh_CN"]
    assert _normalize_argv(["--help"]) == ["--help"]
    assert _normalize_argv(["seed", "--accounts", "1"]) == ["seed", "--accounts", "1"]


@pytest.mark.parametrize(("args", "needle"), [
    (("demo", "--lang", "fr"), "LANG is en or zh_CN"),
    (("seed", "--accounts", "-3"), "must not be negative"),
    (("seed", "--accounts", "many"), "not a whole number"),
    (("serve", "--port", "70000"), "not a TCP port"),
    (("serve", "--workers", "0"), "at least 1"),
    (("user", "add", "bob", "--role", "king"), "invalid choice"),
    (("frobnicate",), "invalid choice"),
])
def test_bad_arguments_are_usage_errors_without_traceback(args: tuple[str, ...], needle: str) -> None:
    run = run_child(*args)
    assert run.code == 2
    assert needle in run.err
    assert "Traceback" not in run.err


def test_unreachable_database_is_one_friendly_line() -> None:
    run = run_child("seed", "--accounts", "5", "--db", "postgresql://nobody@127.0.0.1:1/nothing")
    assert run.code == 1
    assert "cannot reach the database postgresql://nobody@127.0.0.1:1/nothing" in run.err
    assert "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_password_in_a_database_url_is_never_shown(cli) -> None:  # noqa: ANN001
    run = cli("db", "upgrade", "--db", "postgresql://ann:s3cret-pw@127.0.0.1:1/nothing")
    assert run.code == 1
    assert "s3cret-pw" not in run.err
    assert "ann:***@127.0.0.1" in run.err


def test_not_a_database_url(cli) -> None:  # noqa: ANN001
    run = cli("seed", "--accounts", "1", "--db", "nosuchdialect://x")
    assert run.code == 1
    assert run.err.startswith("collectdesk: error: --db: nosuchdialect:// is not a database collectdesk runs on")


def test_unmigrated_database_says_how_to_fix_it(cli, sqlite_url: str) -> None:  # noqa: ANN001
    run = cli("seed", "--accounts", "5", "--db", sqlite_url)
    assert run.code == 1
    assert "has no collectdesk tables yet (there is no file" in run.err
    assert run.err.endswith(f"; run: collectdesk db upgrade --db {sqlite_url}\n")


def test_db_upgrade_migrates_to_head_and_is_repeatable(cli, sqlite_url: str, tmp_path) -> None:  # noqa: ANN001
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(sqlite_url)).get_current_head()
    for _ in range(2):
        run = cli("db", "upgrade", "--db", sqlite_url)
        assert run.code == 0, run.err
        assert f"is at revision {head}" in run.out
    with sqlite3.connect(tmp_path / "cli.db") as conn:
        assert conn.execute("select version_num from alembic_version").fetchall() == [(head,)]
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    assert {"accounts", "customers", "phones", "users", "audit_log"} <= tables


def test_db_url_falls_back_to_the_environment(cli, sqlite_url: str, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("COLLECTDESK_DB", sqlite_url)
    assert cli("db", "upgrade").code == 0
    assert (tmp_path / "cli.db").is_file()


def test_db_url_falls_back_to_the_local_sqlite_file(cli, tmp_path) -> None:  # noqa: ANN001
    run = cli("db", "upgrade")
    assert run.code == 0, run.err
    # XDG_DATA_HOME points into tmp_path (see isolated_env).
    assert (tmp_path / "xdg-data" / "collectdesk" / "collectdesk.db").is_file()


# --------------------------------------------------------------------------
# user add


def _users(url: str) -> dict[str, tuple]:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.models import User

    engine = make_engine(url)
    with Session(engine) as session:
        rows = {u.username: (u.role, u.team.name if u.team else None, u.password_hash, u.display_name)
                for u in session.scalars(select(User))}
    engine.dispose()
    return rows


def test_user_add_reads_the_password_from_stdin(cli, migrated_url: str, monkeypatch) -> None:  # noqa: ANN001
    from backend.security import verify_password

    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))
    run = cli("user", "add", "ann", "--role", "agent", "--team", "B", "--password-stdin", "--db", migrated_url)
    assert run.code == 0, run.err
    assert run.out.strip() == "user ann created: agent, team B"
    role, team, password_hash, _display = _users(migrated_url)["ann"]
    assert (role, team) == ("agent", "B")
    assert verify_password(password_hash, "correct horse")
    assert not verify_password(password_hash, "correct horse\n")

    monkeypatch.setattr(sys, "stdin", io.StringIO("battery staple\n"))
    run = cli("user", "add", "ann", "--role", "supervisor", "--team", "A", "--password-stdin", "--db", migrated_url)
    assert run.out.strip() == "user ann updated: supervisor, team A"
    role, team, password_hash, _display = _users(migrated_url)["ann"]
    assert (role, team) == ("supervisor", "A")
    assert verify_password(password_hash, "battery staple")


def test_user_add_over_an_existing_user_ends_their_sessions(cli, migrated_url: str, monkeypatch) -> None:  # noqa: ANN001
    import datetime as dt

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.models import ApiToken, User

    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse\n"))
    assert cli("user", "add", "bea", "--role", "admin", "--password-stdin", "--db", migrated_url).code == 0
    engine = make_engine(migrated_url)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session:
        bea = session.scalar(select(User.id).where(User.username == "bea"))
        session.add_all([ApiToken(user_id=bea, token_hash=f"{n:064x}", expires_at=now + dt.timedelta(hours=1))
                         for n in range(2)])
        session.commit()
    monkeypatch.setattr(sys, "stdin", io.StringIO("battery staple\n"))
    run = cli("user", "add", "bea", "--role", "admin", "--password-stdin", "--db", migrated_url)
    assert run.code == 0, run.err
    with Session(engine) as session:
        revoked = list(session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == bea)))
    engine.dispose()
    assert len(revoked) == 2 and all(at is not None and at >= now for at in revoked)


def test_user_add_as_a_child_process_with_a_pipe(migrated_url: str) -> None:
    run = run_child("user", "add", "root", "--role", "admin", "--password-stdin", "--db", migrated_url,
                    input="a long passphrase\n")
    assert run.code == 0, run.err
    assert _users(migrated_url)["root"][:2] == ("admin", None)


@pytest.mark.parametrize(("args", "stdin", "needle"), [
    (("--role", "agent", "--password-stdin"), "long enough pw\n", "needs a team"),
    (("--role", "admin", "--password-stdin"), "short\n", "at least 8 characters"),
    (("--role", "admin", "--password-stdin"), "", "no password on stdin"),
    (("--role", "admin"), "piped but not asked for\n", "pipe it in with --password-stdin"),
])
def test_user_add_refusals_change_nothing(cli, migrated_url, monkeypatch, args, stdin, needle) -> None:  # noqa: ANN001
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    run = cli("user", "add", "zed", *args, "--db", migrated_url)
    assert run.code != 0
    assert needle in run.err
    assert "zed" not in _users(migrated_url)


def test_user_add_prompts_twice_on_a_terminal(cli, migrated_url, monkeypatch) -> None:  # noqa: ANN001
    import getpass

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["first password", "second password"])
    monkeypatch.setattr(sys, "stdin", Tty(""))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
    run = cli("user", "add", "zed", "--role", "legal", "--db", migrated_url)
    assert run.code == 1
    assert "the two passwords differ" in run.err
    assert "zed" not in _users(migrated_url)

    answers = iter(["same password", "same password"])
    run = cli("user", "add", "zed", "--role", "legal", "--db", migrated_url)
    assert run.code == 0, run.err
    assert _users(migrated_url)["zed"][:2] == ("legal", None)


# --------------------------------------------------------------------------
# Cheap imports


def test_the_desk_command_never_imports_the_backend(tmp_path) -> None:
    """``collectdesk desk --server URL`` reaches the desk without importing the
    backend, SQLAlchemy, FastAPI or uvicorn (a desk host may run hundreds)."""
    script = textwrap.dedent("""
        import sys, types
        import collectdesk.cli.entry as cli, collectdesk.cli.runtime as runtime
        calls = []
        runtime.desk_runner = lambda: (lambda settings, **kw: calls.append((settings.server, settings.lang)) or 0)
        code = cli.main(["desk", "--server", "http://127.0.0.1:9", "--lang", "zh_CN"])
        heavy = sorted({m.split(".")[0] for m in sys.modules} & {"backend", "sqlalchemy", "fastapi", "uvicorn", "alembic"})
        print(code, calls, heavy)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env=child_env(XDG_CONFIG_HOME=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0 [('http://127.0.0.1:9', 'zh_CN')] []"


def test_importing_the_cli_is_cheap() -> None:
    script = ("import sys, collectdesk.cli.entry; "
              "print(sorted({m.split('.')[0] for m in sys.modules} & "
              "{'backend', 'sqlalchemy', 'fastapi', 'uvicorn', 'textual', 'httpx', 'pydantic', 'tui'}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_desk_uses_the_configured_server(cli, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A server in the config file: no embedded backend is started."""
    import collectdesk.cli.runtime as cli_module

    config = tmp_path / "xdg-config" / "collectdesk"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('server = "http://127.0.0.1:1"\nlow_bandwidth = true\n')
    started = []
    monkeypatch.setattr(cli_module, "start_backend", lambda *a, **k: started.append(a))
    seen = []
    monkeypatch.setattr(cli_module, "desk_runner", lambda: (lambda settings, **kw: seen.append(settings) or 0))
    assert cli("desk").code == 0
    assert started == []
    assert seen[0].server == "http://127.0.0.1:1" and seen[0].low_bandwidth is True


def test_a_broken_config_file_is_a_friendly_error(cli, tmp_path) -> None:  # noqa: ANN001
    config = tmp_path / "xdg-config" / "collectdesk"
    config.mkdir(parents=True)
    (config / "config.toml").write_text("server = \n")
    run = cli("desk")
    assert run.code == 1
    assert run.err.startswith("collectdesk: error: cannot read the desk's config file")


def test_desk_settings_come_from_the_command_line_then_the_environment_then_the_file(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """pydantic-settings' own sources, in that order (issue 16 item 6); a key the file does
    not know is ignored, a [keymap] table is read as it is."""
    from config.settings import DeskSettings

    path = tmp_path / "config.toml"
    path.write_text('server = "http://file:1"\nlang = "zh_CN"\ntimeout_s = 3.5\nunknown = 1\n'
                    '[keymap]\n"call.identity" = "f9"\n')
    for name in ("SERVER", "LANG", "TIMEOUT_S", "LOW_BANDWIDTH"):
        monkeypatch.delenv(f"COLLECTDESK_{name}", raising=False)
    from_file = DeskSettings.load(path)
    assert (from_file.server, from_file.lang, from_file.timeout_s, from_file.keymap) == (
        "http://file:1", "zh_CN", 3.5, {"call.identity": "f9"})
    monkeypatch.setenv("COLLECTDESK_SERVER", "http://env:2")
    assert DeskSettings.load(path).server == "http://env:2"
    assert DeskSettings.load(path, server="http://cli:3", lang=None).server == "http://cli:3"
    assert DeskSettings.load(path, lang=None).lang == "zh_CN"
    assert DeskSettings.load(tmp_path / "none.toml").server == "http://env:2"
    assert DeskSettings(server="http://given:4").timeout_s == 10.0  # no file unless loaded


def test_the_system_wide_file_comes_below_the_users_own(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """A desk host's ``/etc/collectdesk/desk.toml`` (``COLLECTDESK_SYSTEM_CONFIG`` names another)
    serves every agent: below the command line, the environment and the user's own file, above the
    defaults; the user's ``[keymap]`` is laid over the system's, key by key."""
    from config.settings import SYSTEM_CONFIG, DeskSettings, system_config_file

    for name in ("SERVER", "LANG", "TIMEOUT_S", "LOW_BANDWIDTH", "CA_BUNDLE"):
        monkeypatch.delenv(f"COLLECTDESK_{name}", raising=False)
    monkeypatch.delenv("COLLECTDESK_SYSTEM_CONFIG", raising=False)
    assert system_config_file() == SYSTEM_CONFIG == Path("/etc/collectdesk/desk.toml")
    system = tmp_path / "etc" / "desk.toml"
    system.parent.mkdir()
    system.write_text('server = "https://system:1"\nca_bundle = "/etc/collectdesk/bank-ca.pem"\nlang = "zh_CN"\n'
                      'low_bandwidth = true\n[keymap]\n"call.identity" = "f9"\n"call.disclosure" = "f10"\n')
    user = tmp_path / "config.toml"
    monkeypatch.setenv("COLLECTDESK_SYSTEM_CONFIG", str(system))
    assert system_config_file() == system

    alone = DeskSettings.load(user)  # no user file: the system's, whole
    assert (alone.server, alone.ca_bundle, alone.lang, alone.low_bandwidth, alone.timeout_s) == (
        "https://system:1", Path("/etc/collectdesk/bank-ca.pem"), "zh_CN", True, 10.0)
    user.write_text('lang = "en"\ntimeout_s = 4.0\n[keymap]\n"call.identity" = "f8"\n')
    both = DeskSettings.load(user)
    assert (both.server, both.lang, both.timeout_s, both.low_bandwidth) == ("https://system:1", "en", 4.0, True)
    assert both.keymap == {"call.identity": "f8", "call.disclosure": "f10"}
    monkeypatch.setenv("COLLECTDESK_SERVER", "http://env:2")
    assert DeskSettings.load(user).server == "http://env:2"
    assert DeskSettings.load(user, server="http://cli:3").server == "http://cli:3"
    monkeypatch.delenv("COLLECTDESK_SERVER")
    other = tmp_path / "other.toml"
    other.write_text('server = "https://other:5"\n')
    assert DeskSettings.load(user, system=other).server == "https://other:5"  # named outright
    assert DeskSettings.load(user, system=tmp_path / "none.toml").server is None  # not there: skipped


def test_desk_uses_the_server_of_the_system_wide_file(cli, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """``collectdesk desk`` on a desk host: the system file names the backend, so no embedded
    backend is started; a system file that cannot be read is said as the config file."""
    import collectdesk.cli.runtime as cli_module

    system = tmp_path / "desk.toml"
    system.write_text('server = "http://127.0.0.1:1"\n')
    monkeypatch.setenv("COLLECTDESK_SYSTEM_CONFIG", str(system))
    started = []
    monkeypatch.setattr(cli_module, "start_backend", lambda *a, **k: started.append(a))
    seen = []
    monkeypatch.setattr(cli_module, "desk_runner", lambda: (lambda settings, **kw: seen.append(settings) or 0))
    assert cli("desk").code == 0
    assert started == [] and seen[0].server == "http://127.0.0.1:1"
    system.write_text("server = \n")
    run = cli("desk")
    assert run.code == 1 and run.err.startswith("collectdesk: error: cannot read the desk's config file"), run.err


def test_a_desk_host_without_a_server_names_the_files_to_set_it_in(cli, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """The desk alone (no backend to embed) and no server anywhere: the agent sees, and can tell
    the operator, both config files by their paths."""
    import importlib.util

    import collectdesk.cli.runtime as cli_module

    monkeypatch.setenv("COLLECTDESK_SYSTEM_CONFIG", str(tmp_path / "etc" / "desk.toml"))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else find_spec(name, *a))
    monkeypatch.setattr(cli_module, "desk_runner", lambda: (lambda settings, **kw: 0))
    run = cli("desk")
    assert run.code == 1
    assert run.err.startswith("collectdesk: error: no server configured (--server, $COLLECTDESK_SERVER, "
                              f"{tmp_path / 'xdg-config' / 'collectdesk' / 'config.toml'} or "
                              f"{tmp_path / 'etc' / 'desk.toml'}), and no backend installed here"), run.err
