"""The ``collectdesk`` console script (SPEC §2).

Argument parsing and dispatch only. Each command imports what it needs when it
runs, so ``collectdesk desk`` never imports the backend, and ``--help`` is
instant. Errors are one friendly line on stderr (set ``COLLECTDESK_DEBUG=1``
for a traceback).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

PROG = "collectdesk"
ROLES = ("agent", "supervisor", "legal", "trainer", "admin", "service")
MIN_PASSWORD = 8


class CliError(Exception):
    """A failure to report in one line (no traceback), with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------
# Argument types


def _lang(value: str) -> str:
    v = value.strip().replace("-", "_")
    if v.lower() in ("en", "en_us", "en_gb", "english"):
        return "en"
    if v.lower() in ("zh", "zh_cn", "zh_hans", "zh_hans_cn"):
        return "zh_CN"
    raise argparse.ArgumentTypeError(f"{value!r}: LANG is en or zh_CN")


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return n


def _count(value: str) -> int:
    try:
        n = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return n


def _port(value: str) -> int:
    n = _positive(value)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1–65535)")
    return n


def _seed(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return n


def _days(value: str) -> int:
    n = _positive(value)
    if n > 366:
        raise argparse.ArgumentTypeError(f"{value}: at most 366 days")
    return n


def _date(value: str):  # noqa: ANN202
    """A date from the command line, in the range the API takes (2000 to 2099, issue 15)."""
    import datetime as dt

    from backend_client.models import day_problem

    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if problem := day_problem(day):
        raise argparse.ArgumentTypeError(f"{value}: {problem}")
    return day


# --------------------------------------------------------------------------
# Parser


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL (sqlite:///path or postgresql://user@host/db); "
                             "default: $COLLECTDESK_DB, else the local SQLite file")


def _desk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", type=_lang, metavar="LANG", help="en or zh_CN (default: the locale)")
    parser.add_argument("--low-bandwidth", action="store_true",
                        help="for thin SSH links: 16 colours, no mouse tracking, no animations")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A keyboard-driven workstation for credit-card collection agents. "
                    "With no command, opens the desk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="a fresh demo database, an embedded backend, and the desk signed in as agent1",
                          description="Build a fresh demo database (SQLite), start an embedded backend on a free "
                                      "loopback port and open the desk signed in as agent1.")
    _desk_options(demo)
    demo.add_argument("--accounts", type=_count, default=2000, metavar="N", help="accounts to seed (default 2000)")
    demo.add_argument("--seed", type=_seed, default=None, metavar="S", help="portfolio seed (default 1)")
    demo.add_argument("--data-dir", type=Path, metavar="DIR",
                      help="keep the demo here (its demo.db is made afresh); default: a temporary directory "
                           "removed on exit")
    demo.add_argument("--no-desk", action="store_true",
                      help="do not open the desk: print the backend's URL and serve until Ctrl-C")
    demo.set_defaults(func=cmd_demo)

    desk = sub.add_parser("desk", help="the desk (the default command)",
                          description="Open the desk against a backend. With no server configured (--server, "
                                      "$COLLECTDESK_SERVER or the config file), an embedded backend is started on "
                                      "the local database.")
    desk.add_argument("--server", metavar="URL", help="the backend's base URL, e.g. http://10.0.0.5:8765")
    _desk_options(desk)
    desk.set_defaults(func=cmd_desk)

    serve = sub.add_parser("serve", help="run the backend", description="Run the HTTP backend (uvicorn).")
    _db_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    serve.add_argument("--workers", type=_positive, default=1, metavar="N", help="worker processes (default 1)")
    serve.add_argument("--migrate", action="store_true", help="apply database migrations before serving")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                       help="uvicorn's log level (default info)")
    serve.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations (Alembic) up to the newest",
                                description="Apply the database migrations up to the newest (Alembic head).")
    _db_option(upgrade)
    upgrade.set_defaults(func=cmd_db_upgrade)

    seed = sub.add_parser("seed", help="a synthetic portfolio of N accounts and the demo users",
                          description="Add a deterministic synthetic portfolio of N accounts on real account "
                                      "histories, and the demo users that are missing (password = user name). "
                                      "Accounts of the same seed that exist already are kept.")
    seed.add_argument("--accounts", type=_count, required=True, metavar="N", help="number of accounts")
    seed.add_argument("--seed", type=_seed, default=None, metavar="S", help="seed (default 1)")
    _db_option(seed)
    seed.set_defaults(func=cmd_seed)

    user = sub.add_parser("user", help="manage users", description="Manage users.")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_sub.add_parser("add", help="add a user, or change an existing one's role, team and password",
                              description="Add a user, or change an existing user's role, team and password. "
                                          "The password is asked for twice, or read from stdin.")
    add.add_argument("name", metavar="NAME", help="user name")
    add.add_argument("--role", required=True, choices=ROLES,
                     help="agent, supervisor, legal, trainer, admin or service (customer service, sales: "
                          "reads the notes collections shares, nothing else)")
    add.add_argument("--team", metavar="T", help="team (required for agents and supervisors)")
    add.add_argument("--display-name", metavar="TEXT", help="name shown on the desk (default: the user name)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    _db_option(add)
    add.set_defaults(func=cmd_user_add)

    imp = sub.add_parser("import", help="import a bank file", description="Import a bank file, all or nothing.")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="KIND", required=True)
    accounts = imp_sub.add_parser(
        "accounts", help="accounts with their customers (CSV)",
        description="Import accounts with their customers from a CSV file (SPEC §5 columns, UTF-8, header row; "
                    "phones ;-separated). Optional columns: phone_kinds, each phone's kind in the same order (home, mobile, "
                    "work or other, like mobile;home), and timezone_source (customer when the customer confirmed the "
                    "timezone, else record). A file with any bad row imports nothing and every bad row is listed as "
                    "'line N: field: problem'. Accounts that exist already are skipped, so importing a file again "
                    "changes nothing.")
    accounts.add_argument("file", type=Path, metavar="FILE.csv")
    accounts.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                          help="the admin the import is recorded as (default admin)")
    _db_option(accounts)
    accounts.set_defaults(func=cmd_import_accounts)
    payments = imp_sub.add_parser(
        "payments", help="payments from the bank's feed (CSV)",
        description="Import payments from a CSV file with the header bank_ref,account_ref,amount,currency,paid_at "
                    "(UTF-8; amount in major units like 1234.50; paid_at in ISO 8601 with its UTC offset, like "
                    "2026-03-11T15:00:00+08:00 or 2026-03-11T07:00:00Z: a time without an offset is refused). "
                    "Each payment is matched to the due items of the account's active plan, oldest first, the "
                    "balances are recomputed and the sweep runs for the accounts touched. A file with any bad row "
                    "imports nothing and every bad row is listed as 'line N: field: problem'. Payments recorded "
                    "already (the same bank_ref with the same details) are skipped, so importing a file again "
                    "changes nothing.")
    payments.add_argument("file", type=Path, metavar="FILE.csv")
    payments.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                          help="the admin the import is recorded as (default admin)")
    _db_option(payments)
    payments.set_defaults(func=cmd_import_payments)

    score = sub.add_parser(
        "score", help="default risk for accounts in the UCI column format (CSV), as ID,risk lines",
        description="Read accounts in the UCI credit-card column format (a header row with ID, X1..X23; Y and "
                    "X2..X5 may be there and are never read) and write 'ID,risk' lines to stdout, risk being the "
                    "probability of default next month (6 decimals). A file with any bad row writes nothing: every "
                    "bad row is listed on stderr as 'line N: column: problem' (the header is line 1).")
    score.add_argument("file", metavar="FILE.csv", help="the CSV file (UTF-8, a BOM is fine); - for stdin")
    score.set_defaults(func=cmd_score)

    report = sub.add_parser("report", help="reports", description="Reports, to stdout unless --output.")
    report_sub = report.add_subparsers(dest="report_kind", metavar="KIND", required=True)
    strategies = report_sub.add_parser(
        "strategies", help="champion against challenger: the worklist strategies compared",
        description="Compare the worklist strategies (champion and challenger) over the last N days: accounts, "
                    "balance, outbound attempts, right-party contacts and rate, promises and the amount promised, "
                    "plans kept and broken, money collected and the share of accounts that paid. Per strategy, "
                    "never per agent. Counts the accounts USER may see.")
    strategies.add_argument("--days", type=_days, default=30, metavar="N", help="the last N days (default 30)")
    strategies.add_argument("--format", dest="fmt", choices=("table", "csv", "md"), default="table",
                            help="table (default), csv or md (a Markdown table)")
    strategies.add_argument("--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    strategies.add_argument("--as", dest="as_user", default="admin", metavar="USER",
                            help="the supervisor, legal officer or admin the report is for (default admin)")
    _db_option(strategies)
    strategies.set_defaults(func=cmd_report_strategies)
    from collectdesk.reports_cli import add_parsers as add_report_parsers  # agent, team, portfolio, cases

    add_report_parsers(report_sub, _days, _date, _db_option)

    sweep = sub.add_parser("sweep", help="mark plan instalments and promises kept or broken",
                           description="Mark the items of active plans kept (paid in full) or broken (unpaid by "
                                       "their date plus the grace days), and the plans with them; a broken plan "
                                       "raises its account in the worklist. The backend also runs this daily and "
                                       "on each payment. Running it twice changes nothing the second time.")
    sweep.add_argument("--as-of", dest="as_of", type=_date, metavar="DATE",
                       help="the day to judge by, YYYY-MM-DD (default: today in UTC)")
    _db_option(sweep)
    sweep.set_defaults(func=cmd_sweep)

    rescore = sub.add_parser(
        "rescore", help="score and rank every account again (after a scorecard or strategy change, or nightly)",
        description="Score every account again from its own statement history and rank it with its strategy "
                    "(champion or challenger), as the backend does after each change to an account; only accounts "
                    "whose risk, priority or reasons change are written. Accounts whose phone answer has lapsed "
                    "are evaluated again by the compliance engine. Safe while desks work: an account saved "
                    "during the pass keeps what that save wrote.")
    rescore.add_argument("--workers", type=int, default=0, metavar="N",
                         help="processes, each on its own range of accounts (default: one per CPU)")
    rescore.add_argument("--batch", type=int, default=0, metavar="N",
                         help="accounts per transaction (default 5,000 on PostgreSQL, 25,000 on SQLite)")
    _db_option(rescore)
    rescore.set_defaults(func=cmd_rescore)

    from collectdesk.train import add_parser as add_train_parser  # standard library only: --help stays instant

    add_train_parser(sub, _desk_options).set_defaults(func=cmd_train)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("collectdesk")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        return "0+unknown"


# --------------------------------------------------------------------------
# Shared helpers


def _redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL: show it as given
        return url


def resolve_db(url: str | None) -> str:
    """``--db``, else ``COLLECTDESK_DB``, else the local SQLite file."""
    if url:
        return url
    from config.settings import BackendSettings

    return BackendSettings().db


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def open_engine(url: str, *, migrated: bool = True):  # noqa: ANN201
    """An engine on ``url`` that answers, and (unless ``migrated=False``) whose
    schema is at this collectdesk's newest migration."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from backend.db import make_engine, normalize_url

    try:
        normalized = normalize_url(url)
    except ArgumentError:
        raise CliError(f"{url!r} is not a database URL (try sqlite:///path or postgresql://user@host/db)") from None
    kwargs: dict[str, Any] = {}
    if normalized.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = make_engine(normalized, **kwargs)
    except ModuleNotFoundError as exc:
        raise CliError(f"no driver for {_redact(url)}: {exc.name} is not installed") from None
    except (ArgumentError, OSError) as exc:
        raise CliError(f"cannot open the database {_redact(url)}: {exc}") from None
    try:
        with engine.connect() as conn:
            if migrated:
                _check_revision(conn, normalized, url)
    except DBAPIError as exc:
        engine.dispose()
        raise CliError(f"cannot reach the database {_redact(url)}: {_reason(exc)}") from None
    except CliError:
        engine.dispose()
        raise
    return engine


def _check_revision(conn, normalized: str, given: str) -> None:  # noqa: ANN001
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(normalized))
    current = set(MigrationContext.configure(conn).get_current_heads())
    heads = set(script.get_heads())
    if current == heads:
        return
    hint = f"run: {PROG} db upgrade" + (f" --db {_redact(given)}" if given else "")
    if not current:
        raise CliError(f"the database {_redact(given)} has no collectdesk tables yet; {hint}")
    if not current <= {r.revision for r in script.walk_revisions()}:
        raise CliError(f"the database {_redact(given)} is at revision {', '.join(sorted(current))}, "
                       "newer than this collectdesk knows; upgrade collectdesk")
    raise CliError(f"the database {_redact(given)} is at revision {', '.join(sorted(current))}, "
                   f"not {', '.join(sorted(heads))}; {hint}")


def _session(engine):  # noqa: ANN001, ANN202
    from sqlalchemy.orm import Session

    return Session(engine, expire_on_commit=False)


def _desk_runner() -> Callable[..., int]:
    try:
        from tui.app import run_desk
    except ImportError as exc:
        if exc.name in ("tui.app", "tui"):
            raise CliError("the desk (tui.app) is not part of this installation") from None
        raise CliError(f"the desk cannot start: {exc}") from None
    return run_desk


def _desk_settings(**overrides: Any):  # noqa: ANN202
    from pydantic import ValidationError

    from config.settings import DeskSettings

    try:
        return DeskSettings.load(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CliError(f"bad desk settings: {problems}") from None
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise CliError(f"cannot read the desk's config file: {exc}") from None


def _start_backend(db_url: str, *, migrate: bool, log_path: Path):  # noqa: ANN202
    from collectdesk.embedded import EmbeddedBackend, EmbeddedBackendError

    backend = EmbeddedBackend(db_url, migrate=migrate, log_path=log_path)
    try:
        backend.start()
    except EmbeddedBackendError as exc:
        raise CliError(str(exc)) from None
    return backend


def _say(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Commands


def cmd_desk(args: argparse.Namespace) -> int:
    settings = _desk_settings(server=args.server, lang=args.lang, low_bandwidth=True if args.low_bandwidth else None)
    run_desk = _desk_runner()
    if settings.server:
        return int(run_desk(settings) or 0)
    from config.settings import BackendSettings, data_dir

    db_url = BackendSettings().db
    _say(f"{PROG}: no server configured; starting an embedded backend on {_redact(db_url)}")
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        _say(f"{PROG}: a new database has no users yet: add one with '{PROG} user add NAME --role agent --team A', "
             f"or try '{PROG} demo'")
    backend = _start_backend(db_url, migrate=True, log_path=data_dir() / "embedded-backend.log")
    try:
        return int(run_desk(settings.model_copy(update={"server": backend.url})) or 0)
    finally:
        backend.stop()


def _fresh_demo_dir(args: argparse.Namespace) -> tuple[Path, bool]:
    if args.data_dir is None:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="collectdesk-demo-")), True
    data_dir = args.data_dir.expanduser().resolve()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        for name in ("demo.db", "demo.db-wal", "demo.db-shm"):
            (data_dir / name).unlink(missing_ok=True)
    except OSError as exc:
        raise CliError(f"cannot use {data_dir} for the demo: {exc}") from None
    return data_dir, False


def build_demo_database(db_url: str, accounts: int, seed: int | None, *, quiet: bool = False):  # noqa: ANN201
    """Migrate a fresh database and seed it; returns the seed report."""
    from backend.db import upgrade
    from backend.seed import DEFAULT_SEED, seed_portfolio
    from collectdesk.progress import ProgressBar

    upgrade(db_url)
    engine = open_engine(db_url)
    bar = None if quiet else ProgressBar("seeding the demo portfolio")
    try:
        with _session(engine) as session:
            report = seed_portfolio(session, accounts, DEFAULT_SEED if seed is None else seed, progress=bar)
            session.commit()
    finally:
        if bar:
            bar.close()
        engine.dispose()
    return report


def cmd_demo(args: argparse.Namespace) -> int:
    run_desk = None if args.no_desk else _desk_runner()
    data_dir, temporary = _fresh_demo_dir(args)
    db_url = f"sqlite:///{data_dir / 'demo.db'}"
    try:
        _say(f"{PROG}: building a demo database in {data_dir}")
        report = build_demo_database(db_url, args.accounts, args.seed)
        _say(f"{PROG}: {report.created:,} accounts on {report.source}")
        backend = _start_backend(db_url, migrate=False, log_path=data_dir / "backend.log")
        try:
            if run_desk is None:
                return _serve_until_interrupted(backend)
            settings = _desk_settings(lang=args.lang, low_bandwidth=True if args.low_bandwidth else None,
                                      server=backend.url, drafts_dir=data_dir / "drafts")
            return int(run_desk(settings, username="agent1", password="agent1") or 0)
        finally:
            backend.stop()
    finally:
        if temporary:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


def cmd_train(args: argparse.Namespace) -> int:
    from collectdesk.train import TrainError
    from collectdesk.train import cmd_train as train

    try:
        return train(args, say=_say, desk_settings=_desk_settings, start_backend=_start_backend)
    except TrainError as exc:
        raise CliError(str(exc)) from None


def _serve_until_interrupted(backend) -> int:  # noqa: ANN001
    import signal
    import time

    def _stop(_signum, _frame):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"backend: {backend.url}", flush=True)
    _say(f"{PROG}: the demo backend is at {backend.url}; sign in as agent1 (password agent1). Ctrl-C stops it.")
    try:
        while backend.alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        _say(f"{PROG}: stopping the demo backend")
        return 0
    raise CliError("the demo backend stopped by itself; see backend.log in the demo directory")


def _exit_with_parent(pid: int) -> None:
    """Stop this server (gracefully, by SIGTERM) when the process that started it is gone."""
    import signal
    import threading
    import time

    def _watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=_watch, name="exit-with-parent", daemon=True).start()


def cmd_serve(args: argparse.Namespace) -> int:
    db_url = resolve_db(args.db)
    if args.migrate:
        _upgrade(db_url)
    open_engine(db_url).dispose()
    # The app factory reads its settings from the environment, in every worker.
    os.environ["COLLECTDESK_DB"] = db_url
    if args.exit_with_parent:
        _exit_with_parent(args.exit_with_parent)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        _say(f"{PROG}: serving on {args.host}: put TLS in front of it (a reverse proxy); tokens travel in headers")
    import uvicorn

    uvicorn.run("backend.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, proxy_headers=False)
    return 0


def _upgrade(db_url: str) -> str:
    from sqlalchemy.exc import DBAPIError

    from backend.db import upgrade

    engine = open_engine(db_url, migrated=False)  # reachable, with a friendly error if not
    engine.dispose()
    try:
        upgrade(db_url)
    except DBAPIError as exc:
        raise CliError(f"cannot upgrade the database {_redact(db_url)}: {_reason(exc)}") from None
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config, normalize_url

    return ", ".join(sorted(ScriptDirectory.from_config(alembic_config(normalize_url(db_url))).get_heads()))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db_url = resolve_db(args.db)
    head = _upgrade(db_url)
    print(f"database {_redact(db_url)} is at revision {head} (newest)")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from backend.seed import DEFAULT_SEED, load_pool, seed_portfolio
    from collectdesk.progress import ProgressBar

    db_url = resolve_db(args.db)
    seed = DEFAULT_SEED if args.seed is None else args.seed
    try:
        pool, source = load_pool()
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read the account histories: {exc}") from None
    engine = open_engine(db_url)
    bar = ProgressBar("seeding accounts")
    try:
        with _session(engine) as session:
            report = seed_portfolio(session, args.accounts, seed, pool=pool, source=source, progress=bar)
            session.commit()
    finally:
        bar.close()
        engine.dispose()
    print(f"seed {seed}: {report.created:,} accounts created"
          + (f", {report.existing:,} there already" if report.existing else "") + f" (on {report.source})")
    if report.users_created:
        print(f"demo users created (password = user name): {', '.join(report.users_created)}")
    return 0


def _read_password(name: str, from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise CliError("no password on stdin")
    else:
        if not sys.stdin.isatty():
            raise CliError("no terminal to ask for the password on; pipe it in with --password-stdin")
        import getpass

        password = getpass.getpass(f"Password for {name}: ")
        if password != getpass.getpass("Again: "):
            raise CliError("the two passwords differ; nothing changed")
    if len(password) < MIN_PASSWORD:
        raise CliError(f"a password has at least {MIN_PASSWORD} characters; nothing changed")
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    if args.role in ("agent", "supervisor") and not args.team:
        raise CliError(f"an {args.role} needs a team (--team)" if args.role == "agent" else
                       f"a {args.role} needs a team (--team)", code=2)
    password = _read_password(args.name, args.password_stdin)
    from sqlalchemy import select

    from backend.api.errors import ProblemError
    from backend.models import User
    from backend.services.users import add_user

    engine = open_engine(resolve_db(args.db))
    try:
        with _session(engine) as session:
            existed = session.scalar(select(User.id).where(User.username == args.name)) is not None
            try:
                add_user(session, args.name, password, args.role, args.team, args.display_name)
            except ProblemError as exc:
                raise CliError(exc.detail or exc.title) from None
            session.commit()
    finally:
        engine.dispose()
    print(f"user {args.name} {'updated' if existed else 'created'}: {args.role}"
          + (f", team {args.team}" if args.team else ""))
    return 0


def cmd_import_accounts(args: argparse.Namespace) -> int:
    from backend.importer import ImportRefused, import_accounts
    from collectdesk.progress import ProgressBar

    path: Path = args.file
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    engine = open_engine(resolve_db(args.db))
    bar = ProgressBar(f"importing {path.name}")
    try:
        with _session(engine) as session:
            result = import_accounts(session, raw, actor=args.as_user, progress=bar)
    except ImportRefused as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()
        engine.dispose()
    if result.errors:
        for error in result.errors:
            print(error, file=sys.stderr)
        bad = len({e.line for e in result.errors})
        raise CliError(f"nothing imported: {bad} bad row{'s' if bad != 1 else ''} in {path.name} "
                       f"({result.rows} row{'s' if result.rows != 1 else ''})")
    print(f"{path.name}: {result.created:,} account{'s' if result.created != 1 else ''} imported as {args.as_user}"
          + (f", {result.unchanged:,} there already (left as they are)" if result.unchanged else ""))
    if result.differing:
        _say(f"note: {len(result.differing)} account{'s' if len(result.differing) != 1 else ''} there already "
             "differ from the file; an import never overwrites an account:")
        from backend.domain.accounts import mask_card_numbers

        for line, ref, fields in result.differing[:10]:
            _say(mask_card_numbers(f"  line {line}: {ref}: {', '.join(fields)}"))
        if len(result.differing) > 10:
            _say(f"  … and {len(result.differing) - 10} more")
    return 0


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def cmd_import_payments(args: argparse.Namespace) -> int:
    from backend.importer import ImportRefused
    from backend.payments_import import format_amount, import_payments
    from collectdesk.progress import ProgressBar

    path: Path = args.file
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    engine = open_engine(resolve_db(args.db))
    bar = ProgressBar(f"importing {path.name}")
    try:
        with _session(engine) as session:
            result = import_payments(session, raw, actor=args.as_user, progress=bar)
    except ImportRefused as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()
        engine.dispose()
    if result.errors:
        for error in result.errors:
            print(error, file=sys.stderr)
        bad = len({e.line for e in result.errors})
        raise CliError(f"nothing imported: {_plural(bad, 'bad row')} in {path.name} ({_plural(result.rows, 'row')})")
    print(f"{path.name}: {_plural(result.created, 'payment')} imported as {args.as_user}, "
          f"{result.recorded_already:,} recorded already"
          + (f", {_plural(result.repeated, 'row')} repeating another row of the file (skipped)"
             if result.repeated else ""))
    if result.totals:
        print("total: " + ", ".join(format_amount(minor, currency) for currency, minor in sorted(result.totals.items())))
    if result.created:
        print(f"swept {_plural(result.accounts, 'account')}: {_plural(result.items_kept, 'plan item')} kept, "
              f"{result.items_broken:,} broken; {_plural(result.plans_kept, 'plan')} kept, "
              f"{result.plans_broken:,} broken")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from backend.models import utcnow
    from backend.services.plans import sweep

    as_of = args.as_of or utcnow().date()
    engine = open_engine(resolve_db(args.db))
    try:
        with _session(engine) as session:
            try:
                result = sweep(session, as_of)
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        engine.dispose()
    print(f"sweep as of {as_of.isoformat()}: {_plural(result.items_kept, 'plan item')} kept, "
          f"{result.items_broken:,} broken; {_plural(result.plans_kept, 'plan')} kept, {result.plans_broken:,} broken")
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from backend.services.rescore import rescore_portfolio

    if args.workers < 0 or args.batch < 0:
        raise CliError("--workers and --batch must not be negative (0: the default)")
    url = resolve_db(args.db)
    open_engine(url).dispose()  # answers, and is migrated: a clear error otherwise
    done = rescore_portfolio(url, workers=args.workers or None, batch=args.batch or None)
    print(f"rescored {_plural(done.accounts, 'account')} in {done.elapsed:.1f} s with {_plural(done.workers, 'process', 'processes')}: "
          f"{done.changed:,} changed, {done.accounts - done.changed - done.raced:,} as they were, "
          f"{done.raced:,} saved by someone else meanwhile (kept); "
          f"{done.lapsed:,} with a lapsed phone answer evaluated again")
    return 0


def _open_score_input(name: str):  # noqa: ANN202
    import io

    if name == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", newline="")
    try:
        return open(name, newline="", encoding="utf-8-sig")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None


def cmd_score(args: argparse.Namespace) -> int:
    import csv

    from backend.scoring import ScoreInputError, score_csv

    name = "stdin" if args.file == "-" else Path(args.file).name
    stream = _open_score_input(args.file)
    try:
        # score_csv writes nothing until every row has been read and scored.
        score_csv(stream, sys.stdout)
        sys.stdout.flush()
    except ScoreInputError as exc:
        for error in exc.errors:
            print(_describe_score_error(error), file=sys.stderr)
        lines = {line for line, _column, _problem in exc.errors}
        if lines == {1}:
            raise CliError(f"nothing scored: {name} has no usable header") from None
        raise CliError(f"nothing scored: {_plural(len(lines), 'bad row')} in {name}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"nothing scored: {name} is not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise CliError(f"nothing scored: {name} is not a CSV file: {exc}") from None
    except BrokenPipeError:
        # The reader went away (``| head``): not an error of ours; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        if args.file != "-":
            stream.close()
    return 0


def _describe_score_error(error: tuple) -> str:
    line, column, problem = error
    return ": ".join([*([f"line {line}"] if line is not None else []), *([column] if column else []), problem])


def _actor(session, name: str, roles: tuple[str, ...], what: str):  # noqa: ANN001, ANN202
    from sqlalchemy import select

    from backend.models import User

    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise CliError(f"no user {name!r} to run the report as (name one with --as)")
    if not user.active:
        raise CliError(f"{name} is not active")
    if user.role not in roles:
        raise CliError(f"{name} is a{'n' if user.role[0] in 'aeiou' else ''} {user.role}; {what}")
    return user


STRATEGY_COLUMNS = (
    ("strategy", "strategy"), ("accounts", "accounts"), ("balance", "balance"), ("attempts", "attempts"),
    ("right_party_contacts", "RPC"), ("rpc_rate", "RPC rate"), ("promises", "promises"), ("promised", "promised"),
    ("plans_kept", "plans kept"), ("plans_broken", "plans broken"), ("kept_rate", "kept rate"),
    ("collected", "collected"), ("paying_accounts", "paying accounts"), ("paying_share", "paying share"),
)


def _amounts(amounts, fmt: str) -> str:  # noqa: ANN001
    from backend.domain.money import exponent, to_major

    if fmt == "csv":  # plain numbers: "USD 1234.50 TWD 10"
        return " ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):.{exponent(m.currency)}f}"
                        for m in amounts)
    return "; ".join(f"{m.currency} {to_major(m.amount_minor, m.currency):,.{exponent(m.currency)}f}"
                     for m in amounts) or "-"


def _strategy_cells(figures, fmt: str) -> list[str]:  # noqa: ANN001
    cells = []
    for field, _title in STRATEGY_COLUMNS:
        value = getattr(figures, field)
        if isinstance(value, list):  # money: one amount per currency
            cells.append(_amounts(value, fmt))
        elif field.endswith(("_rate", "_share")):
            if fmt == "csv":
                cells.append("" if value is None else f"{value:.4f}")
            else:
                cells.append("-" if value is None else f"{value * 100:.1f} %")
        elif isinstance(value, int) and fmt != "csv":
            cells.append(f"{value:,}")
        else:
            cells.append(str(value))
    return cells


def format_strategy_report(report, fmt: str) -> str:  # noqa: ANN001
    """The report as text: a table (one strategy a column), CSV (one strategy a row,
    plain numbers, rates from 0 to 1) or a Markdown table."""
    from backend_client.exports import csv_text, md_cell

    rows = [_strategy_cells(f, fmt) for f in report.strategies]
    if fmt == "csv":
        return csv_text([field for field, _title in STRATEGY_COLUMNS], rows)
    titles = [title for _field, title in STRATEGY_COLUMNS]
    heading = (f"Champion against challenger, last {report.days} days ({report.since.date().isoformat()} to "
               f"{report.until.date().isoformat()}): per strategy, never per agent")
    if not rows:
        return f"{heading}\n\nno accounts to report\n"
    if fmt == "md":
        lines = [f"**{heading}**", "", "| " + " | ".join(titles) + " |",
                 "| --- |" + " ---: |" * (len(titles) - 1)]
        lines += ["| " + " | ".join(md_cell(cell) for cell in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    # A table with one strategy a column (fourteen figures across would not fit in
    # 80 columns), an amount in each currency on a line of its own.
    cells = [[cell.split("; ") for cell in row] for row in rows]
    width = max(len(t) for t in titles)
    col = max(12, *(len(part) for row in cells for cell in row for part in cell))
    lines = [heading, ""]
    for i, title in enumerate(titles):
        for n in range(max(len(row[i]) for row in cells)):
            label = title if n == 0 else ""
            lines.append(f"{label:<{width}}" + "".join(
                f"  {row[i][n] if n < len(row[i]) else '':>{col}}" for row in cells).rstrip())
        if i == 0:
            lines.append("-" * (width + (col + 2) * len(rows)))
    return "\n".join(lines) + "\n"


def cmd_report_strategies(args: argparse.Namespace) -> int:
    from backend.api.errors import ProblemError
    from backend.services import audit
    from backend.services.reports import REPORT_ROLES, strategies

    engine = open_engine(resolve_db(args.db))
    try:
        with _session(engine) as session:
            user = _actor(session, args.as_user, REPORT_ROLES, "reports are for supervisors, legal officers and admins")
            try:
                report = strategies(session, user, args.days)
            except ProblemError as exc:
                raise CliError(exc.detail or exc.title) from None
            audit.record(session, user.id, "view", "report", None, report="strategies", days=args.days, via="cli")
            session.commit()
    finally:
        engine.dispose()
    text = format_strategy_report(report, args.fmt)
    if args.output:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        _say(f"{PROG}: report written to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


# --------------------------------------------------------------------------
# Entry point


def _normalize_argv(argv: list[str]) -> list[str]:
    """Bare ``collectdesk`` (or only desk options) means ``collectdesk desk``."""
    if not argv:
        return ["desk"]
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["desk", *argv]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _normalize_argv(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        _error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        if os.environ.get("COLLECTDESK_DEBUG"):
            raise
        module = type(exc).__module__
        if module.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            _error(f"database error: {_reason(exc)}")
        else:
            _error(f"{type(exc).__name__}: {exc} (set COLLECTDESK_DEBUG=1 for the traceback)")
        return 1


def _error(message: str) -> None:
    """An error line; whatever it quotes shows no more of a card number than its BIN and last four."""
    from backend.domain.accounts import mask_card_numbers  # pure, and only on the way out

    print(f"{PROG}: error: {mask_card_numbers(message)}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
