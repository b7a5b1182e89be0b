"""``collectdesk train [SCENARIO] [--demo|--practice] [--lang LANG]`` (issue 7).

A sandbox SQLite database, made afresh for every run (nothing in training
touches real accounts): the demo users, a ``trainee`` (an agent of team A,
password ``trainee``), and one account per scenario, assigned to the trainee.
An embedded backend serves it on a free loopback port, and the desk opens in
trainer mode: trainer1's scenario list, or the scenario asked for, in demo
(trainer1) or practice (trainee). Scorecards are saved under the user's data
directory (``training/results``) for the trainer.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

TRAINEE = "trainee"
SANDBOX_DB = "sandbox.db"


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


def cmd_train(args: argparse.Namespace, *, say: Any, desk_settings: Any, start_backend: Any) -> int:
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
    mode = "practice" if args.practice else "demo"
    directory = training_dir(args.data_dir)
    db_url = reset_sandbox(directory)
    say(f"collectdesk: a fresh training sandbox in {directory}")
    accounts = build_sandbox(db_url, scenarios)
    backend = start_backend(db_url, migrate=False, log_path=directory / "backend.log")
    try:
        from tui.training.desk import run_training

        settings = desk_settings(lang=language, low_bandwidth=True if args.low_bandwidth else None,
                                 server=backend.url, drafts_dir=directory / "drafts")
        user = TRAINEE if mode == "practice" and args.scenario else "trainer1"
        return int(run_training(settings, username=user, password=user, scenario=chosen.id if args.scenario else None,
                                mode=mode if args.scenario else None, accounts=accounts,
                                results=directory / "results") or 0)
    finally:
        backend.stop()


def add_parser(sub: Any, desk_options: Any) -> argparse.ArgumentParser:
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
    desk_options(train)
    train.add_argument("--data-dir", type=Path, metavar="DIR",
                       help="where the sandbox and the saved scorecards live (default: the user's data dir)")
    return train
