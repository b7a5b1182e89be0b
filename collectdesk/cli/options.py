"""Argument types and the options several commands share (standard library only)."""

from __future__ import annotations

import argparse
import datetime


def lang(value: str) -> str:
    v = value.strip().replace("-", "_")
    if v.lower() in ("en", "en_us", "en_gb", "english"):
        return "en"
    if v.lower() in ("zh", "zh_cn", "zh_hans", "zh_hans_cn"):
        return "zh_CN"
    raise argparse.ArgumentTypeError(f"{value!r}: LANG is en or zh_CN")


def positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return n


def count(value: str) -> int:
    try:
        n = int(value.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return n


def port(value: str) -> int:
    n = positive(value)
    if n > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1–65535)")
    return n


def seed(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"{value} must not be negative")
    return n


def days(value: str) -> int:
    n = positive(value)
    if n > 366:
        raise argparse.ArgumentTypeError(f"{value}: at most 366 days")
    return n


def date(value: str) -> datetime.date:
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


def db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL (sqlite:///path or postgresql://user@host/db); "
                             "default: $COLLECTDESK_DB, else the local SQLite file")


def desk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", type=lang, metavar="LANG", help="en or zh_CN (default: the locale)")
    parser.add_argument("--low-bandwidth", action="store_true",
                        help="for thin SSH links: 16 colours, no mouse tracking, no animations")


