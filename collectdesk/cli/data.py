"""``collectdesk db upgrade``, ``seed``, ``user add``, ``import accounts|payments``,
``sweep``, ``rescore`` and ``score``: the data, from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from collectdesk.cli import options
from collectdesk.cli.runtime import (
    MIN_PASSWORD,
    ROLES,
    CliError,
    open_engine,
    open_session,
    plural,
    redact,
    resolve_db,
    say,
    upgrade_db,
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations (Alembic) up to the newest",
                                description="Apply the database migrations up to the newest (Alembic head).")
    options.db_option(upgrade)
    upgrade.set_defaults(func=cmd_db_upgrade)

    seed = sub.add_parser("seed", help="a synthetic portfolio of N accounts and the demo users",
                          description="Add a deterministic synthetic portfolio of N accounts on real account "
                                      "histories, and the demo users that are missing (password = user name). "
                                      "Accounts of the same seed that exist already are kept.")
    seed.add_argument("--accounts", type=options.count, required=True, metavar="N", help="number of accounts")
    seed.add_argument("--seed", type=options.seed, default=None, metavar="S", help="seed (default 1)")
    options.db_option(seed)
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
    options.db_option(add)
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
    options.db_option(accounts)
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
    options.db_option(payments)
    payments.set_defaults(func=cmd_import_payments)

    score = sub.add_parser(
        "score", help="default risk for accounts in the UCI column format (CSV), as ID,risk lines",
        description="Read accounts in the UCI credit-card column format (a header row with ID, X1..X23; Y and "
                    "X2..X5 may be there and are never read) and write 'ID,risk' lines to stdout, risk being the "
                    "probability of default next month (6 decimals). A file with any bad row writes nothing: every "
                    "bad row is listed on stderr as 'line N: column: problem' (the header is line 1).")
    score.add_argument("file", metavar="FILE.csv", help="the CSV file (UTF-8, a BOM is fine); - for stdin")
    score.set_defaults(func=cmd_score)

    sweep = sub.add_parser("sweep", help="mark plan instalments and promises kept or broken",
                           description="Mark the items of active plans kept (paid in full) or broken (unpaid by "
                                       "their date plus the grace days), and the plans with them; a broken plan "
                                       "raises its account in the worklist. The backend also runs this daily and "
                                       "on each payment. Running it twice changes nothing the second time.")
    sweep.add_argument("--as-of", dest="as_of", type=options.date, metavar="DATE",
                       help="the day to judge by, YYYY-MM-DD (default: today in UTC)")
    options.db_option(sweep)
    sweep.set_defaults(func=cmd_sweep)

    treat = sub.add_parser(
        "treat", help="send the reminders the strategies' treatment paths have due (e-mail, SMS, letter)",
        description="Find the treatment steps due (the first run of a day does), check each with the "
                    "compliance engine for its channel at the moment it would go, and send it once: e-mail "
                    "through COLLECTDESK_SMTP_*, SMS through COLLECTDESK_SMS_*, letters into the run's print "
                    "file. Each line says what became of one message and why. Running it again sends "
                    "nothing twice. The backend runs the same every COLLECTDESK_TREATMENTS_MINUTES.")
    treat.add_argument("--dry-run", action="store_true",
                       help="print what would be sent and why, with the law's answer now; send and write nothing")
    treat.add_argument("--as-of", dest="as_of", type=options.date, metavar="DATE",
                       help="the day whose steps are due, YYYY-MM-DD (default: today in UTC)")
    treat.add_argument("--print-file", metavar="FILE.pdf", type=Path,
                       help="write the run's letters (one print file) to FILE.pdf as well")
    options.db_option(treat)
    treat.set_defaults(func=cmd_treat)

    rescore = sub.add_parser(
        "rescore", help="score and rank every account again (after a scorecard or strategy change, or nightly)",
        description="Score every account again from its own statement history and rank it with its strategy "
                    "(champion or challenger), as the backend does after each change to an account; only accounts "
                    "whose risk, priority or reasons change are written. Accounts whose phone answer has lapsed "
                    "are evaluated again by the compliance engine. Safe while desks work: an account saved "
                    "during the pass keeps what that save wrote.")
    rescore.add_argument("--workers", type=int, default=0, metavar="N",
                         help="processes, each on its own range of accounts (default: one per CPU, "
                              "and one more on PostgreSQL)")
    rescore.add_argument("--batch", type=int, default=0, metavar="N",
                         help="accounts per transaction (default 5,000 on PostgreSQL, 25,000 on SQLite)")
    options.db_option(rescore)
    rescore.set_defaults(func=cmd_rescore)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    db_url = resolve_db(args.db)
    head = upgrade_db(db_url)
    print(f"database {redact(db_url)} is at revision {head} (newest)")
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
        with open_session(engine) as session:
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

    from backend.domain.errors import DomainError
    from backend.models import User
    from backend.services.users import add_user

    engine = open_engine(resolve_db(args.db))
    try:
        with open_session(engine) as session:
            existed = session.scalar(select(User.id).where(User.username == args.name)) is not None
            try:
                add_user(session, args.name, password, args.role, args.team, args.display_name)
            except DomainError as exc:
                raise CliError(exc.detail or exc.title) from None
            session.commit()
    finally:
        engine.dispose()
    print(f"user {args.name} {'updated' if existed else 'created'}: {args.role}"
          + (f", team {args.team}" if args.team else ""))
    return 0


def _import(args: argparse.Namespace, run: Any) -> Any:
    """Read ``args.file`` and import it whole with ``run(session, raw, actor=…, progress=…)``;
    a refused file or any bad row is a one-line error (the bad rows listed on stderr first)."""
    from backend.importer import ImportRefused
    from collectdesk.progress import ProgressBar

    path: Path = args.file
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    engine = open_engine(resolve_db(args.db))
    bar = ProgressBar(f"importing {path.name}")
    try:
        with open_session(engine) as session:
            result = run(session, raw, actor=args.as_user, progress=bar)
    except ImportRefused as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()
        engine.dispose()
    if result.errors:
        for error in result.errors:
            print(error, file=sys.stderr)
        bad = len({e.line for e in result.errors})
        raise CliError(f"nothing imported: {plural(bad, 'bad row')} in {path.name} ({plural(result.rows, 'row')})")
    return result


def cmd_import_accounts(args: argparse.Namespace) -> int:
    from backend.importer import import_accounts

    path: Path = args.file
    result = _import(args, import_accounts)
    print(f"{path.name}: {result.created:,} account{'s' if result.created != 1 else ''} imported as {args.as_user}"
          + (f", {result.unchanged:,} there already (left as they are)" if result.unchanged else ""))
    if result.differing:
        say(f"note: {len(result.differing)} account{'s' if len(result.differing) != 1 else ''} there already "
             "differ from the file; an import never overwrites an account:")
        from backend.domain.accounts import mask_card_numbers

        for line, ref, fields in result.differing[:10]:
            say(mask_card_numbers(f"  line {line}: {ref}: {', '.join(fields)}"))
        if len(result.differing) > 10:
            say(f"  … and {len(result.differing) - 10} more")
    return 0


def cmd_import_payments(args: argparse.Namespace) -> int:
    from backend.payments_import import format_amount, import_payments

    path: Path = args.file
    result = _import(args, import_payments)
    print(f"{path.name}: {plural(result.created, 'payment')} imported as {args.as_user}, "
          f"{result.recorded_already:,} recorded already"
          + (f", {plural(result.repeated, 'row')} repeating another row of the file (skipped)"
             if result.repeated else ""))
    if result.totals:
        print("total: " + ", ".join(format_amount(minor, currency) for currency, minor in sorted(result.totals.items())))
    if result.created:
        print(f"swept {plural(result.accounts, 'account')}: {plural(result.items_kept, 'plan item')} kept, "
              f"{result.items_broken:,} broken; {plural(result.plans_kept, 'plan')} kept, "
              f"{result.plans_broken:,} broken")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from backend.models import utcnow
    from backend.services.plans import sweep

    as_of = args.as_of or utcnow().date()
    engine = open_engine(resolve_db(args.db))
    try:
        with open_session(engine) as session:
            try:
                result = sweep(session, as_of)
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        engine.dispose()
    print(f"sweep as of {as_of.isoformat()}: {plural(result.items_kept, 'plan item')} kept, "
          f"{result.items_broken:,} broken; {plural(result.plans_kept, 'plan')} kept, {result.plans_broken:,} broken")
    return 0


def cmd_treat(args: argparse.Namespace) -> int:
    from backend.models import utcnow
    from backend.services import treatments
    from collectdesk.cli.desk import _backend_settings

    settings = _backend_settings()
    now = utcnow()
    as_of = args.as_of or now.date()
    engine = open_engine(resolve_db(args.db))
    try:
        if args.dry_run:
            with open_session(engine) as session:
                lines = treatments.dry_run(session, settings, as_of, now)
            for line in lines:
                print(line)
            print(f"dry run as of {as_of.isoformat()}: {plural(len(lines), 'message')} due, nothing sent")
            return 0
        report = treatments.run(lambda: open_session(engine), settings, as_of=as_of, plan_today=True)
    finally:
        engine.dispose()
    for line in report.lines:
        print(line)
    for outage in report.outages:
        print(f"the {outage['channel']} channel is down ({outage['stage']}: {outage['message']}); its messages wait",
              file=sys.stderr)
    if args.print_file is not None and report.print_file is not None:
        args.print_file.write_bytes(report.print_file)
        print(f"print file: {args.print_file} ({plural(len(report.letters), 'letter')})")
    counts = ", ".join(f"{n:,} {what}" for what, n in sorted(report.counts.items()) if n)
    print(f"treatments as of {as_of.isoformat()} (run {report.run_id}): {plural(report.planned, 'step')} newly due"
          f"{'; ' + counts if counts else ''}")
    return 1 if report.outages else 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from backend.services.rescore import rescore_portfolio

    if args.workers < 0 or args.batch < 0:
        raise CliError("--workers and --batch must not be negative (0: the default)")
    url = resolve_db(args.db)
    open_engine(url).dispose()  # answers, and is migrated: a clear error otherwise
    done = rescore_portfolio(url, workers=args.workers or None, batch=args.batch or None)
    print(f"rescored {plural(done.accounts, 'account')} in {done.elapsed:.1f} s with {plural(done.workers, 'process', 'processes')}: "
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
        raise CliError(f"nothing scored: {plural(len(lines), 'bad row')} in {name}") from None
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


