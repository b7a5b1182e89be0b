"""Argument types and the options several commands share (standard library only)."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path


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


def networks(value: str) -> list[str]:
    """A comma-separated list of IP addresses or networks (``10.0.0.0/8``), or ``*``: each
    written as ``ipaddress`` normalises it (uvicorn would take a malformed one silently as a
    name that never matches)."""
    import ipaddress

    entries = [v.strip() for v in value.split(",") if v.strip()]
    if entries == ["*"]:
        return entries
    if not entries:
        raise argparse.ArgumentTypeError("no address given (addresses or networks, comma-separated, or *)")
    out = []
    for entry in entries:
        try:
            if "/" in entry:
                out.append(str(ipaddress.ip_network(entry, strict=False)))
            else:
                out.append(str(ipaddress.ip_address(entry.strip("[]"))))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{entry!r} is no IP address or network (e.g. 10.0.0.5, 10.0.0.0/8, "
                                             "::1, or * for any)") from None
    return out


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


def _existing_parent(path: Path) -> Path:
    parent = path.parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"the directory {parent} does not exist (make it first, or name another)")
    return parent


def output_file(value: str) -> Path:
    """A file to write: its directory must be there already (never made: a missing one is more
    likely a typo than a wish), and it is no directory itself."""
    path = Path(value).expanduser().resolve()
    _existing_parent(path)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a directory: name a file in it")
    return path


def data_dir(value: str) -> Path:
    """A directory the command keeps its files in: made if it is not there, but only inside a
    directory that is."""
    path = Path(value).expanduser().resolve()
    _existing_parent(path)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is not a directory")
    return path


def db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="database URL: sqlite:///path/to/file.db (the directory must exist), "
                             "postgresql://user@host/db or postgresql+psycopg://…; a bare path is refused. "
                             "Default: $COLLECTDESK_DB, else the local SQLite file")


def desk_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", type=lang, metavar="LANG", help="en or zh_CN (default: the locale)")
    parser.add_argument("--low-bandwidth", action="store_true",
                        help="for thin SSH links: 16 colours, no mouse tracking, no animations")


