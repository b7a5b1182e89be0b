"""The ``collectdesk`` console script's entry point (SPEC §2): the parser made of each
command group's, and the dispatch. Errors are one friendly line on stderr (set
``COLLECTDESK_DEBUG=1`` for a traceback)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from collectdesk.cli import data, desk, reports, train
from collectdesk.cli.runtime import PROG, CliError, error, reason

SERVER_PACKAGES = frozenset({"fastapi", "fastapi_offline", "uvicorn", "sqlalchemy", "alembic", "psycopg", "argon2", "phonenumbers",
                             "faker", "holidays", "jinja2", "reportlab", "pypdf", "starlette"})
"""What ``collectdesk[server]`` brings: a desk-only install (``[desk]``) lacks them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A keyboard-driven workstation for credit-card collection agents. "
                    "With no command, opens the desk.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    desk.add_parsers(sub)  # demo, desk, serve
    data.add_parsers(sub)  # db, seed, user, import, score, sweep, rescore
    reports.add_parsers(sub)  # report strategies|agent|team|portfolio|cases
    train.add_parsers(sub)
    return parser


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("collectdesk")
    except Exception:  # noqa: BLE001 - not installed: running from a checkout
        return "0+unknown"


def normalize_argv(argv: list[str]) -> list[str]:
    """Bare ``collectdesk`` (or only desk options) means ``collectdesk desk``."""
    if not argv:
        return ["desk"]
    if argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
        return ["desk", *argv]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args_list = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(args_list)
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        error(str(exc))
        return exc.code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except ModuleNotFoundError as exc:
        if os.environ.get("COLLECTDESK_DEBUG") or (exc.name or "").split(".")[0] not in SERVER_PACKAGES:
            raise
        error(f"'{PROG} {args.command}' needs the backend, which is not installed here ({exc.name} is missing): "
              "pip install 'collectdesk[server]'")
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no tracebacks for users
        if os.environ.get("COLLECTDESK_DEBUG"):
            raise
        module = type(exc).__module__
        if module.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            error(f"database error: {reason(exc)}")
        else:
            error(f"{type(exc).__name__}: {exc} (set COLLECTDESK_DEBUG=1 for the traceback)")
        return 1


