"""``collectdesk train [SCENARIO] [--demo|--practice] [--lang LANG] [--web]`` (issue 7).

A sandbox SQLite database, made afresh for every run (nothing in training
touches real accounts): the demo users, a ``trainee`` (an agent of team A,
password ``trainee``), and one account per scenario, assigned to the trainee.
A sandbox backend serves it on a free loopback port, its clock pinned to the
scenario's instant (``tui.training.clock``), and the desk opens in trainer
mode: trainer1's scenario list, or the scenario asked for, in demo (trainer1)
or practice (trainee). Scorecards are saved under the user's data directory
(``training/results``) for the trainer.

``--web`` is the classroom view: textual-serve (the ``web`` extra) serves the
same trainer command to a browser on loopback; every browser session runs it
afresh, with a sandbox of its own.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from collectdesk.cli import options, runtime
from collectdesk.cli.runtime import CliError, say
from collectdesk.embedded import EmbeddedBackend, EmbeddedBackendError, free_port

TRAINEE = "trainee"
SANDBOX_DB = "sandbox.db"
CLOCK_FILE = "clock.json"
WEB_PORT = 8000


class TrainError(Exception):
    """What the command reports in one line."""


def training_dir(data_dir: Path | None = None) -> Path:
    if data_dir is not None:
        return data_dir.expanduser().resolve()
    from config.settings import data_dir as user_data_dir

    return user_data_dir() / "training"


def reset_sandbox(directory: Path) -> str:
    """A fresh SQLite file in ``directory``; returns its URL."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in (SANDBOX_DB, f"{SANDBOX_DB}-wal", f"{SANDBOX_DB}-shm"):
            (directory / name).unlink(missing_ok=True)
    except OSError as exc:
        raise TrainError(f"cannot make the training sandbox in {directory}: {exc}") from None
    return f"sqlite:///{directory / SANDBOX_DB}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def private_sandbox(directory: Path) -> Path:
    """A sandbox directory of this run's own (a browser session's), beside the shared results."""
    import tempfile

    base = directory / "sandboxes"
    try:
        base.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="run-", dir=base))
    except OSError as exc:
        raise TrainError(f"cannot make the training sandbox in {base}: {exc}") from None


def account_row(scenario: Any, index: int) -> dict[str, Any]:
    """The scenario's account, as an import row for the trainee."""
    facts = scenario.account
    return {
        "account_ref": f"TRN-{index:03d}-{scenario.id}"[:64], "customer_name": facts.customer_name,
        "phones": [facts.phone], "country": facts.country, "region": facts.region, "timezone": facts.timezone,
        "currency": facts.currency, "credit_limit": str(max(facts.balance, Decimal(1000))),
        "balance": str(facts.balance), "overdue": str(facts.overdue),
        "minimum_due": str((facts.overdue / 10).quantize(Decimal("0.01"))), "dpd": facts.dpd,
        "card_number": "4111111111111111", "team": "A", "agent": TRAINEE,
    }


def build_sandbox(db_url: str, scenarios: list[Any]) -> dict[str, int]:
    """Migrate, add the users and the scenarios' accounts; returns scenario id → account id."""
    from sqlalchemy.orm import Session

    from backend.db import make_engine, upgrade
    from backend.seed import ensure_demo_users
    from backend.services.accounts import create_account
    from backend.services.users import add_user
    from backend_client.models import AccountCreate

    upgrade(db_url)
    engine = make_engine(db_url)
    accounts: dict[str, int] = {}
    try:
        with Session(engine, expire_on_commit=False) as session:
            ensure_demo_users(session)
            add_user(session, TRAINEE, TRAINEE, "agent", "A", "Trainee")
            session.commit()
            for index, scenario in enumerate(scenarios, 1):
                account = create_account(session, AccountCreate.model_validate(account_row(scenario, index)), None)
                session.commit()
                accounts[scenario.id] = account.id
    finally:
        engine.dispose()
    return accounts


class SandboxBackend(EmbeddedBackend):
    """The embedded backend, run by ``python -m collectdesk.cli.sandbox`` so that its
    clock is the sandbox's (``clock_file``)."""

    def __init__(self, db_url: str, *, clock_file: Path, log_path: Path) -> None:
        super().__init__(db_url, migrate=False, log_path=log_path)
        self.clock_file = clock_file

    def command(self, port: int) -> list[str]:
        serve = super().command(port)[3:]  # after "python -m collectdesk"
        return [self.python, "-m", "collectdesk.cli.sandbox", str(self.clock_file), *serve]


def start_sandbox_backend(db_url: str, directory: Path) -> Any:
    backend = SandboxBackend(db_url, clock_file=directory / CLOCK_FILE, log_path=directory / "backend.log")
    try:
        backend.start()
    except EmbeddedBackendError as exc:
        raise TrainError(str(exc)) from None
    return backend


def served_command(args: argparse.Namespace, directory: Path, language: str) -> str:
    """The trainer command textual-serve runs for each browser session."""
    cmd = [sys.executable, "-m", "collectdesk", "train"]
    if args.scenario:
        cmd.append(args.scenario)
        cmd.append("--practice" if args.practice else "--demo")
    cmd += ["--lang", language, "--data-dir", str(directory), "--private-sandbox"]
    if args.low_bandwidth:
        cmd.append("--low-bandwidth")
    return shlex.join(cmd)


def serve_web(args: argparse.Namespace, *, language: str) -> int:
    """The classroom view: the trainer desk in a browser, through textual-serve."""
    host = args.host
    if not is_loopback(host) and not args.allow_remote:
        raise TrainError(f"{host} is not a loopback address: the classroom view serves a desk with no sign-in "
                         "of its own, so it stays on this machine (127.0.0.1) unless you add --allow-remote")
    try:
        from textual_serve.server import Server
    except ImportError:
        raise TrainError("the classroom view needs textual-serve: pip install 'collectdesk[web]'") from None
    port = args.port if args.port else free_port(host if is_loopback(host) else "127.0.0.1")
    directory = training_dir(args.data_dir)
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    server = Server(served_command(args, directory, language), host=host, port=port,
                    title="collectdesk trainer", public_url=url)
    say(f"collectdesk: the classroom view is on {url} (each browser session gets a fresh sandbox; "
        "ctrl+c stops it)")
    if not is_loopback(host):
        say(f"collectdesk: serving on {host}: anyone who reaches it drives a trainer desk")
    server.serve()
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """The sandbox starts a backend of its own (``SandboxBackend``), with its clock."""
    try:
        return _train(args)
    except TrainError as exc:
        raise CliError(str(exc)) from None


def _train(args: argparse.Namespace) -> int:
    from tui.i18n import detect_language
    from tui.training.scenario import ScenarioError, find, load_all

    language = detect_language(args.lang)
    scenarios, errors = load_all(language)
    for error in errors:
        say(f"collectdesk: scenario not loaded: {error}")
    if args.scenario:
        try:
            chosen = find(args.scenario, language)
        except ScenarioError as exc:
            names = ", ".join(s.id for s in scenarios) or "none"
            raise TrainError(f"{exc} (scenarios: {names})") from None
        if all(s.id != chosen.id for s in scenarios):
            scenarios.append(chosen)
    if args.web:
        return serve_web(args, language=language)
    runtime.need_terminal()  # before the sandbox is built (textual-serve's sessions name their driver)
    mode = "practice" if args.practice else "demo"
    directory = training_dir(args.data_dir)
    sandbox = private_sandbox(directory) if args.private_sandbox else directory
    try:
        return _run(args, language=language, scenarios=scenarios,
                    chosen=chosen if args.scenario else None, mode=mode, directory=directory, sandbox=sandbox)
    finally:
        if args.private_sandbox:
            import shutil

            shutil.rmtree(sandbox, ignore_errors=True)


def _run(args: argparse.Namespace, *, language: str, scenarios: list[Any],
         chosen: Any, mode: str, directory: Path, sandbox: Path) -> int:
    from tui.training.clock import SANDBOX_EPOCH, SandboxClock

    db_url = reset_sandbox(sandbox)
    if not args.private_sandbox:  # a browser session's stderr is textual-serve's log
        say(f"collectdesk: a fresh training sandbox in {sandbox}")
    clock = SandboxClock(sandbox / CLOCK_FILE, chosen.instant if chosen else SANDBOX_EPOCH)
    accounts = build_sandbox(db_url, scenarios)
    backend = start_sandbox_backend(db_url, sandbox)
    try:
        from tui.training.desk import run_training

        settings = runtime.desk_settings(lang=language, low_bandwidth=True if args.low_bandwidth else None,
                                 server=backend.url, drafts_dir=sandbox / "drafts")
        user = TRAINEE if mode == "practice" and chosen else "trainer1"
        return int(run_training(settings, username=user, password=user, scenario=chosen.id if chosen else None,
                                mode=mode if chosen else None, accounts=accounts, results=directory / "results",
                                sandbox_clock=clock, trainee=(TRAINEE, TRAINEE)) or 0)
    finally:
        backend.stop()


def add_parsers(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="trainer mode: a sandbox database and scripted collection calls",
                           description="Trainer mode: a sandbox database made afresh, an embedded backend, and the "
                                       "desk with the training scenarios (config/scenarios). With a SCENARIO, it "
                                       "opens at once: --demo (the default) plays the model call for a class, "
                                       "--practice lets the trainee (user 'trainee') drive and saves the scorecard.")
    train.add_argument("scenario", nargs="?", metavar="SCENARIO", help="a scenario id (job_loss, dispute, "
                       "third_party, cease) or a scenario file")
    group = train.add_mutually_exclusive_group()
    group.add_argument("--demo", action="store_true", help="autoplay the model call (space pauses, n steps)")
    group.add_argument("--practice", action="store_true", help="the trainee chooses; scored at the end")
    options.desk_options(train)
    train.add_argument("--data-dir", type=options.data_dir, metavar="DIR",
                       help="where the sandbox and the saved scorecards live (default: the user's data dir)")
    web = train.add_argument_group("classroom view")
    web.add_argument("--web", action="store_true", help="serve the trainer desk to a browser (for a projector) "
                     "through textual-serve; needs the 'web' extra")
    web.add_argument("--host", default="127.0.0.1", help="the address to serve on (default 127.0.0.1; "
                     "a non-loopback address needs --allow-remote)")
    web.add_argument("--port", type=int, default=WEB_PORT, metavar="PORT",
                     help=f"the port to serve on (default {WEB_PORT}; 0 picks a free one)")
    web.add_argument("--allow-remote", action="store_true",
                     help="allow a non-loopback --host (the served desk has no sign-in of its own)")
    train.add_argument("--private-sandbox", action="store_true", help=argparse.SUPPRESS)
    train.set_defaults(func=cmd_train)
