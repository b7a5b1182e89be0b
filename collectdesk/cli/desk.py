"""``collectdesk demo``, ``desk`` and ``serve``: the desk, with a backend of its own or
another's, and the backend alone."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from collectdesk.cli import options, runtime
from collectdesk.cli.runtime import PROG, CliError, open_engine, open_session, redact, resolve_db, say, upgrade_db


def add_parsers(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="a fresh demo database, an embedded backend, and the desk signed in as agent1",
                          description="Build a fresh demo database (SQLite), start an embedded backend on a free "
                                      "loopback port and open the desk signed in as agent1.")
    options.desk_options(demo)
    demo.add_argument("--accounts", type=options.count, default=2000, metavar="N", help="accounts to seed (default 2000)")
    demo.add_argument("--seed", type=options.seed, default=None, metavar="S", help="portfolio seed (default 1)")
    demo.add_argument("--data-dir", type=options.data_dir, metavar="DIR",
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
    options.desk_options(desk)
    desk.set_defaults(func=cmd_desk)

    serve = sub.add_parser("serve", help="run the backend", description="Run the HTTP backend (uvicorn).")
    options.db_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=options.port, default=8765, help="port (default 8765)")
    serve.add_argument("--workers", type=options.positive, default=1, metavar="N", help="worker processes (default 1)")
    serve.add_argument("--migrate", action="store_true", help="apply database migrations before serving")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                       help="uvicorn's log level (default info)")
    serve.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)


def cmd_desk(args: argparse.Namespace) -> int:
    settings = runtime.desk_settings(server=args.server, lang=args.lang, low_bandwidth=True if args.low_bandwidth else None)
    run_desk = runtime.desk_runner()
    if settings.server:
        return int(run_desk(settings) or 0)
    import importlib.util

    if importlib.util.find_spec("fastapi") is None:
        raise CliError("no server configured (--server, $COLLECTDESK_SERVER or the config file), and no backend "
                       "installed here to start one: name the backend's URL, or pip install 'collectdesk[server]'")
    from config.settings import data_dir

    db_url = resolve_db(None)  # COLLECTDESK_DB, else the local file (its directory made: the app's own)
    say(f"{PROG}: no server configured; starting an embedded backend on {redact(db_url)}")
    if db_url.startswith("sqlite:///") and not Path(db_url.removeprefix("sqlite:///")).exists():
        say(f"{PROG}: a new database has no users yet: add one with '{PROG} user add NAME --role agent --team A', "
             f"or try '{PROG} demo'")
    backend = runtime.start_backend(db_url, migrate=True, log_path=data_dir() / "embedded-backend.log")
    try:
        return int(run_desk(settings.model_copy(update={"server": backend.url})) or 0)
    finally:
        backend.stop()


def _fresh_demo_dir(args: argparse.Namespace) -> tuple[Path, bool]:
    if args.data_dir is None:
        import tempfile

        return Path(tempfile.mkdtemp(prefix="collectdesk-demo-")), True
    data_dir: Path = args.data_dir  # its parent is there (options.data_dir)
    try:
        data_dir.mkdir(exist_ok=True)
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
        with open_session(engine) as session:
            report = seed_portfolio(session, accounts, DEFAULT_SEED if seed is None else seed, progress=bar)
            session.commit()
    finally:
        if bar:
            bar.close()
        engine.dispose()
    return report


def cmd_demo(args: argparse.Namespace) -> int:
    run_desk = None if args.no_desk else runtime.desk_runner()
    data_dir, temporary = _fresh_demo_dir(args)
    db_url = f"sqlite:///{data_dir / 'demo.db'}"
    try:
        say(f"{PROG}: building a demo database in {data_dir}")
        report = build_demo_database(db_url, args.accounts, args.seed)
        say(f"{PROG}: {report.created:,} accounts on {report.source}")
        backend = runtime.start_backend(db_url, migrate=False, log_path=data_dir / "backend.log")
        try:
            if run_desk is None:
                return _serve_until_interrupted(backend)
            settings = runtime.desk_settings(lang=args.lang, low_bandwidth=True if args.low_bandwidth else None,
                                      server=backend.url, drafts_dir=data_dir / "drafts")
            return int(run_desk(settings, username="agent1", password="agent1") or 0)
        finally:
            backend.stop()
    finally:
        if temporary:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


def _serve_until_interrupted(backend) -> int:  # noqa: ANN001
    import signal
    import time

    def _stop(_signum, _frame):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"backend: {backend.url}", flush=True)
    say(f"{PROG}: the demo backend is at {backend.url}; sign in as agent1 (password agent1). Ctrl-C stops it.")
    try:
        while backend.alive():
            time.sleep(0.2)
    except KeyboardInterrupt:
        say(f"{PROG}: stopping the demo backend")
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
        upgrade_db(db_url)
    open_engine(db_url).dispose()
    # The app factory reads its settings from the environment, in every worker.
    os.environ["COLLECTDESK_DB"] = db_url
    if args.exit_with_parent:
        _exit_with_parent(args.exit_with_parent)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        say(f"{PROG}: serving on {args.host}: put TLS in front of it (a reverse proxy); tokens travel in headers")
    import uvicorn

    uvicorn.run("backend.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, proxy_headers=False)
    return 0


