"""What every command shares: its errors, the database it opens, the user it acts as,
the desk and the embedded backend it starts. Standard library only at import; each
helper imports the backend or the desk when it runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend_client.vocabulary import Role

if TYPE_CHECKING:  # annotations only: the CLI imports the backend and the desk when a command runs
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from backend.models import User
    from collectdesk.embedded import EmbeddedBackend
    from config.settings import DeskSettings

PROG = "collectdesk"


ROLES = tuple(r.value for r in Role)


MIN_PASSWORD = 8


class CliError(Exception):
    """A failure to report in one line (no traceback), with an exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def say(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def redact(url: str) -> str:
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a URL: show it as given
        return url


def resolve_db(url: str | None) -> str:
    """``--db``, else ``COLLECTDESK_DB``, else the local SQLite file in the user's data
    directory (made if need be: it is the app's own place). Only a SQLite or PostgreSQL
    URL is taken, and a SQLite file's directory must be there already (a missing one is
    more likely a typo than a wish): a clear error otherwise, before anything is made."""
    import os

    if url is not None:
        source = "--db"
    elif os.environ.get("COLLECTDESK_DB"):
        url, source = os.environ["COLLECTDESK_DB"], "COLLECTDESK_DB"
    else:
        from config.settings import data_dir, default_db_url

        try:
            data_dir().mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CliError(f"cannot make the data directory {data_dir()}: {exc.strerror or exc}") from None
        return default_db_url()
    from backend.db import DatabaseURLError, normalize_url, sqlite_file

    try:
        normalize_url(url)
    except DatabaseURLError as exc:
        raise CliError(f"{source}: {exc}") from None
    path = sqlite_file(url)
    if path is None and url.startswith("sqlite"):
        raise CliError(f"{source}: {url} names no file (an in-memory database is gone when the command ends): "
                       "say sqlite:///path/to/file.db")
    if path is not None and not path.parent.is_dir():
        raise CliError(f"{source}: the directory {path.parent.resolve()} for the database file {path.name} does not "
                       "exist (make it first, or name another)")
    return url


def reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def open_engine(url: str, *, migrated: bool = True):  # noqa: ANN201
    """An engine on ``url`` that answers, and (unless ``migrated=False``) whose
    schema is at this collectdesk's newest migration."""
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from backend.db import DatabaseURLError, make_engine, normalize_url, sqlite_file

    try:
        normalized = normalize_url(url)
    except DatabaseURLError as exc:
        raise CliError(str(exc)) from None
    path = sqlite_file(normalized)
    if migrated and path is not None and not path.exists():
        # Opening it would make an empty file, to be refused the next moment.
        raise CliError(f"the database {redact(url)} has no collectdesk tables yet (there is no file {path.resolve()}); "
                       f"{upgrade_hint(url)}")
    kwargs: dict[str, Any] = {}
    if normalized.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        engine = make_engine(normalized, **kwargs)
    except ModuleNotFoundError as exc:
        raise CliError(f"no driver for {redact(url)}: {exc.name} is not installed") from None
    except (ArgumentError, DatabaseURLError, OSError) as exc:
        raise CliError(f"cannot open the database {redact(url)}: {exc}") from None
    try:
        with engine.connect() as conn:
            if migrated:
                check_revision(conn, normalized, url)
    except DBAPIError as exc:
        engine.dispose()
        raise CliError(f"cannot reach the database {redact(url)}: {reason(exc)}") from None
    except CliError:
        engine.dispose()
        raise
    return engine


def check_revision(conn, normalized: str, given: str) -> None:  # noqa: ANN001
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config

    script = ScriptDirectory.from_config(alembic_config(normalized))
    current = set(MigrationContext.configure(conn).get_current_heads())
    heads = set(script.get_heads())
    if current == heads:
        return
    hint = upgrade_hint(given)
    if not current:
        from sqlalchemy import inspect

        others = [name for name in inspect(conn).get_table_names() if name != "alembic_version"]
        if others:
            raise CliError(f"the database {redact(given)} has tables ({', '.join(sorted(others)[:3])}"
                           f"{', …' if len(others) > 3 else ''}) but no collectdesk revision: is it the right "
                           "database? collectdesk wants one of its own")
        raise CliError(f"the database {redact(given)} has no collectdesk tables yet; {hint}")
    if not current <= {r.revision for r in script.walk_revisions()}:
        raise CliError(f"the database {redact(given)} is at revision {', '.join(sorted(current))}, "
                       "newer than this collectdesk knows; upgrade collectdesk")
    raise CliError(f"the database {redact(given)} is at revision {', '.join(sorted(current))}, "
                   f"not {', '.join(sorted(heads))}; {hint}")


def upgrade_hint(given: str) -> str:
    """The one command that brings the database ``given`` to this collectdesk's schema."""
    return f"run: {PROG} db upgrade" + (f" --db {redact(given)}" if given else "")


def open_session(engine: Engine) -> Session:
    from sqlalchemy.orm import Session

    return Session(engine, expire_on_commit=False)


def actor(session: Session, name: str, roles: tuple[str, ...], what: str) -> User:
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


def need_terminal() -> None:
    """The desk reads its keys from standard input and draws on standard error (Textual's way):
    with standard input not a terminal it spins at 90 % CPU drawing for nobody, with standard
    error a pipe it writes its screens into it, and standard output a pipe or a file means a
    script waiting for output the desk never gives. So any of them not a terminal is refused at
    once, before a backend is started for it. A Textual driver named in ``TEXTUAL_DRIVER``
    (textual-serve's web driver: the classroom view) needs no terminal."""
    import os

    if os.environ.get("TEXTUAL_DRIVER"):
        return
    for name, stream in (("standard input", sys.stdin), ("standard output", sys.stdout),
                         ("standard error", sys.stderr)):
        try:
            terminal = stream is not None and stream.isatty()
        except ValueError:  # closed
            terminal = False
        if not terminal:
            raise CliError(f"the desk needs a terminal, and {name} is not one (a pipe or a file): run it in a "
                           f"terminal, or '{PROG} demo --no-desk' or '{PROG} serve' for the backend alone")


def desk_runner() -> Callable[..., int]:
    """The desk's ``run_desk``, once it is sure there is a terminal to run it on."""
    need_terminal()
    try:
        from tui.app import run_desk
    except ImportError as exc:
        if exc.name in ("tui.app", "tui"):
            raise CliError("the desk (tui.app) is not part of this installation") from None
        raise CliError(f"the desk cannot start: {exc}") from None
    return run_desk


def desk_settings(**overrides: Any) -> DeskSettings:
    from pydantic import ValidationError

    from config.settings import DeskSettings

    try:
        return DeskSettings.load(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CliError(f"bad desk settings: {problems}") from None
    except (OSError, ValueError) as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise CliError(f"cannot read the desk's config file: {exc}") from None


def start_backend(db_url: str, *, migrate: bool, log_path: Path) -> EmbeddedBackend:
    from collectdesk.embedded import EmbeddedBackend, EmbeddedBackendError

    backend = EmbeddedBackend(db_url, migrate=migrate, log_path=log_path)
    try:
        backend.start()
    except EmbeddedBackendError as exc:
        raise CliError(str(exc)) from None
    return backend


def error(message: str) -> None:
    """An error line; whatever it quotes shows no more of a card number than its BIN and last four."""
    from backend.domain.accounts import mask_card_numbers  # pure, and only on the way out

    print(f"{PROG}: error: {mask_card_numbers(message)}", file=sys.stderr)


def upgrade_db(db_url: str) -> str:
    from sqlalchemy.exc import DBAPIError

    from backend.db import upgrade

    engine = open_engine(db_url, migrated=False)  # reachable, with a friendly error if not
    engine.dispose()
    try:
        upgrade(db_url)
    except DBAPIError as exc:
        raise CliError(f"cannot upgrade the database {redact(db_url)}: {reason(exc)}") from None
    from alembic.script import ScriptDirectory

    from backend.db import alembic_config, normalize_url

    return ", ".join(sorted(ScriptDirectory.from_config(alembic_config(normalize_url(db_url))).get_heads()))




def emit(text: str, output: Path | None) -> None:
    """A report's text to ``output`` (said where), or to stdout."""
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {output}: {exc.strerror or exc}") from None
        say(f"{PROG}: report written to {output}")
    else:
        sys.stdout.write(text)
