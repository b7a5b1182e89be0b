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
    desk.add_argument("--server", metavar="URL", help="the backend's base URL, e.g. https://collect.bank.example:8765")
    desk.add_argument("--ca-bundle", type=Path, metavar="FILE",
                      help="CA certificates (PEM) to verify an https:// backend's certificate by (default: "
                           "$COLLECTDESK_CA_BUNDLE, the config file's ca_bundle, else the usual public CAs)")
    options.desk_options(desk)
    desk.set_defaults(func=cmd_desk)

    serve = sub.add_parser("serve", help="run the backend",
                           description="Run the HTTP backend (uvicorn); HTTPS with --certfile and --keyfile.")
    options.db_option(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=options.port, default=8765, help="port (default 8765)")
    serve.add_argument("--workers", type=options.positive, default=1, metavar="N", help="worker processes (default 1)")
    serve.add_argument("--migrate", action="store_true", help="apply database migrations before serving")
    serve.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"),
                       help="uvicorn's log level (default info)")
    serve.add_argument("--certfile", type=Path, metavar="FILE",
                       help="serve HTTPS with this certificate (PEM, its chain after it; default: "
                            "$COLLECTDESK_TLS_CERTFILE). Its key's passphrase, if any: $COLLECTDESK_TLS_KEYFILE_PASSWORD")
    serve.add_argument("--keyfile", type=Path, metavar="FILE",
                       help="the certificate's private key (PEM; default: $COLLECTDESK_TLS_KEYFILE, else the "
                            "certificate file holds it)")
    serve.add_argument("--keep-alive", type=options.positive, default=5, metavar="SECONDS",
                       help="how long an idle connection is kept open for its next request (default 5; behind a "
                            "reverse proxy, longer than the proxy keeps its idle connections to the backend)")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="behind a reverse proxy: take the client's address from X-Forwarded-For and the scheme "
                            "from X-Forwarded-Proto, when the connection comes from --forwarded-allow-ips")
    serve.add_argument("--forwarded-allow-ips", type=options.networks, metavar="LIST",
                       help="the proxies whose X-Forwarded-* headers are believed, comma-separated addresses or "
                            "networks (10.0.0.0/8), or * for any (implies --proxy-headers; default: "
                            "$COLLECTDESK_TRUSTED_PROXIES, else 127.0.0.1,::1)")
    serve.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)


def cmd_desk(args: argparse.Namespace) -> int:
    settings = runtime.desk_settings(server=args.server, lang=args.lang, low_bandwidth=True if args.low_bandwidth else None,
                                     ca_bundle=args.ca_bundle)
    if settings.server:
        _check_desk_tls(settings.server, settings.ca_bundle)
    run_desk = runtime.desk_runner()
    if settings.server:
        return int(run_desk(settings) or 0)
    import importlib.util

    if importlib.util.find_spec("fastapi") is None:
        from config.settings import config_dir, system_config_file

        # On a desk host the agent reads this and the operator fixes it: the files by their paths.
        raise CliError(f"no server configured (--server, $COLLECTDESK_SERVER, {config_dir() / 'config.toml'} or "
                       f"{system_config_file()}), and no backend installed here to start one: name the backend's "
                       "URL, or pip install 'collectdesk[server]'")
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


def _check_desk_tls(server: str, ca_bundle: Path | None) -> None:
    """A CA bundle that cannot be read, or one given for a plain-HTTP server (whose traffic it
    would not protect), is refused before the desk opens; plain HTTP beyond this machine is said."""
    from urllib.parse import urlsplit

    from backend_client.tls import CABundleError, verify_context

    url = urlsplit(server)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise CliError(f"the server {server!r} is no http:// or https:// URL (e.g. https://collect.bank.example:8765)")
    if ca_bundle is not None:
        if url.scheme == "http":
            raise CliError(f"a CA bundle ({ca_bundle}) is set but the server {server} is plain HTTP: name it "
                           "https://, or unset ca_bundle")
        try:
            verify_context(ca_bundle)
        except CABundleError as exc:
            raise CliError(str(exc)) from None
    elif url.scheme == "http" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
        say(f"{PROG}: warning: {server} is plain HTTP: passwords, tokens and accounts cross the network in clear "
            "(serve HTTPS: see the README's 'TLS between desk and backend')")


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
    """The backend: a supervisor (``collectdesk.supervisor``) and ``--workers`` worker processes,
    one worker too: a worker that dies (``kill -9``) is replaced, and every worker serves the
    configuration the supervisor checked (SIGHUP reloads it: ``backend.services.configuration``)."""
    db_url = resolve_db(args.db)
    settings = _backend_settings()
    proxy = proxy_options(args, settings.trusted_proxies)
    if args.migrate:
        upgrade_db(db_url)
    open_engine(db_url).dispose()
    # The app factory reads its settings from the environment, in every worker.
    os.environ["COLLECTDESK_DB"] = db_url
    tls = _server_tls(args, settings)
    if not tls and args.host not in ("127.0.0.1", "localhost", "::1"):
        say(f"{PROG}: serving plain HTTP on {args.host}: give it --certfile and --keyfile, or put a reverse proxy "
            "that terminates TLS in front of it; tokens travel in headers")
    import shutil
    import tempfile

    from backend.services.configuration import ConfigurationError, Snapshots
    from config import CONFIG_DIR

    _forget_stale_snapshots(Path(tempfile.gettempdir()))
    snapshots = Snapshots(Path(settings.config_dir).expanduser() if settings.config_dir else CONFIG_DIR,
                          Path(tempfile.mkdtemp(prefix=f"{SNAPSHOT_PREFIX}{os.getpid()}-")))
    try:
        try:
            snapshots.install()
        except ConfigurationError as exc:
            raise CliError(f"bad configuration: {exc}") from None
        os.environ["COLLECTDESK_CONFIG_DIR"] = str(snapshots.current)  # the workers read the checked copy
        if args.exit_with_parent:
            _exit_with_parent(args.exit_with_parent)
        return _supervise(args, tls, proxy, snapshots.reload)
    finally:
        shutil.rmtree(snapshots.root, ignore_errors=True)


SNAPSHOT_PREFIX = "collectdesk-config-"
"""The supervisor's copies of the configuration: ``collectdesk-config-<its pid>-…`` in the temporary directory."""


def _forget_stale_snapshots(tmp: Path) -> None:
    """Remove the copies left by supervisors that were killed (SIGKILL leaves no time to clean up)."""
    import shutil

    for path in tmp.glob(f"{SNAPSHOT_PREFIX}*-*"):
        pid = path.name.removeprefix(SNAPSHOT_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or not path.is_dir() or path.stat().st_uid != os.getuid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass  # alive (another user's), or cannot tell: leave it


APP_FACTORY = "backend.app:create_app"
"""What each worker serves (the training sandbox's serve names its own: ``collectdesk.cli.sandbox``)."""


def _supervise(args: argparse.Namespace, tls: dict[str, object], proxy: dict[str, object], on_hup) -> int:  # noqa: ANN001
    from uvicorn.config import Config

    from collectdesk.supervisor import Supervisor

    # One worker or many, the same path: the supervisor binds the socket (TCP_NODELAY on every
    # connection accepted from it: collectdesk.supervisor) and every worker serves it with the
    # same keep-alive.
    config = Config(APP_FACTORY, factory=True, host=args.host, port=args.port, workers=args.workers,
                    log_level=args.log_level, log_config=server_log_config(args.log_level),
                    timeout_keep_alive=args.keep_alive, **proxy, **tls)  # type: ignore[arg-type]
    sock = config.bind_socket()  # "address already in use" is uvicorn's line and exit code 3
    supervisor = Supervisor(config, [sock], on_hup=on_hup)
    try:
        supervisor.run()
    finally:
        sock.close()
    if supervisor.startup_failed:
        raise CliError("a worker could not start (its error is in the log above); stopped", code=3)
    return 0


def proxy_options(args: argparse.Namespace, trusted_proxies: list[str]) -> dict[str, object]:
    """uvicorn's options for a reverse proxy in front: off unless ``--proxy-headers`` or
    ``--forwarded-allow-ips``; the proxies believed default to ``trusted_proxies`` (the
    settings' ``COLLECTDESK_TRUSTED_PROXIES``), else loopback."""
    if not args.proxy_headers and args.forwarded_allow_ips is None:
        return {"proxy_headers": False}
    allowed = args.forwarded_allow_ips
    if allowed is None:
        allowed = options.networks(",".join(trusted_proxies)) if trusted_proxies else ["127.0.0.1", "::1"]
    return {"proxy_headers": True, "forwarded_allow_ips": allowed}


def server_log_config(level: str) -> dict[str, object]:
    """uvicorn's logging, with the backend's own logger (``collectdesk``: the sweep, the
    contactability rounds, failures) on uvicorn's handler at ``level``: without it those lines
    had no handler in a served process and went nowhere. Applied in every worker."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["collectdesk"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def _encrypted_key(path: Path) -> bool:
    """Whether the PEM file holds an encrypted private key (PKCS#8, or OpenSSL's older headers)."""
    try:
        text = path.read_bytes()
    except OSError:
        return False
    return b"ENCRYPTED PRIVATE KEY" in text or b"Proc-Type: 4,ENCRYPTED" in text


def _backend_settings():  # noqa: ANN202 - BackendSettings, imported here
    from pydantic import ValidationError

    from config.settings import BackendSettings

    try:
        return BackendSettings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CliError(f"bad backend settings: {problems}") from None


def _server_tls(args: argparse.Namespace, settings=None) -> dict[str, object]:  # noqa: ANN001
    """uvicorn's TLS options from --certfile/--keyfile (else ``COLLECTDESK_TLS_*``), tried here
    first: a file missing or unreadable, not PEM, or a key that is not the certificate's is
    refused in one line before uvicorn starts (it would say it in a traceback). {} for plain HTTP."""
    import ssl

    settings = settings or _backend_settings()
    certfile = args.certfile or settings.tls_certfile
    keyfile = args.keyfile or settings.tls_keyfile
    if certfile is None:
        if keyfile is not None:
            raise CliError("a key file without a certificate: name the certificate too (--certfile or "
                           "COLLECTDESK_TLS_CERTFILE)")
        return {}
    certfile, keyfile = Path(certfile).expanduser(), Path(keyfile).expanduser() if keyfile else None
    for what, path in (("certificate", certfile), ("key", keyfile)):
        if path is None:
            continue
        if path.is_dir():
            raise CliError(f"the {what} file {path} is a directory")
        try:
            path.open("rb").close()
        except FileNotFoundError:
            raise CliError(f"the {what} file {path} does not exist") from None
        except OSError as exc:
            raise CliError(f"cannot read the {what} file {path}: {exc.strerror or exc}") from None
    password = settings.tls_keyfile_password

    def _passphrase() -> str:
        if password is None:  # OpenSSL would otherwise ask at the terminal, or hang a service
            raise CliError(f"the key in {keyfile or certfile} is encrypted: set COLLECTDESK_TLS_KEYFILE_PASSWORD, "
                           "or give an unencrypted key")
        return password

    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(certfile, keyfile, password=_passphrase)
    except ssl.SSLError as exc:
        import re

        # "[SSL] PEM lib (_ssl.c:3905)": OpenSSL's words without the library's tag and the C source line
        reason = re.sub(r"^\[\w+\]\s*|\s*\(_ssl\.c:\d+\)$", "", str(exc.reason or (exc.args[-1] if exc.args else exc)))
        if "KEY_VALUES_MISMATCH" in reason.upper():
            raise CliError(f"the key {keyfile or certfile} is not the key of the certificate {certfile}") from None
        if password is not None and _encrypted_key(keyfile or certfile):
            raise CliError(f"cannot decrypt the key {keyfile or certfile}: is COLLECTDESK_TLS_KEYFILE_PASSWORD "
                           "its passphrase?") from None
        raise CliError(f"cannot use the certificate {certfile} and key {keyfile or '(in the same file)'}: {reason} "
                       "(both PEM: the certificate, its chain after it, and its private key)") from None
    options: dict[str, object] = {"ssl_certfile": str(certfile)}
    if keyfile is not None:
        options["ssl_keyfile"] = str(keyfile)
    if password is not None:
        options["ssl_keyfile_password"] = password
    return options


