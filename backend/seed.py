"""A deterministic synthetic portfolio on real account histories.

``collectdesk seed --accounts N --seed S`` and ``collectdesk demo`` build the
demo portfolio here:

* **Histories** are real: rows of the UCI "default of credit card clients"
  data (Taiwan, 2005; ``../shared/data/uci_credit_card`` beside the repository,
  or the file named by ``COLLECTDESK_UCI_CSV``), else the small sample bundled
  in ``backend/data/``. Only the credit limit (X1), the six months of
  repayment status (X6–X11), statement balances (X12–X17) and payments
  (X18–X23) are read. Sex, education, marital status and age (X2–X5) are
  never read or stored, nor is the default label (Y).
* **Which histories**: a collections portfolio, so the accounts that owe
  something (latest statement balance above zero) and are either late now
  (X6 ≥ 1) or were late in the five months before and now pay the minimum
  (X6 = 0: "current", kept on the desk to watch). Histories are dealt out in an
  order shuffled by the seed; past the end of the pool they are dealt again.
* **Months late → DPD**: X6 = k ≥ 1 means k missed due dates, so the account
  is ``30·k − r`` days past due, r drawn from 0–29 (k = 1 is the ``X``
  bucket, k = 2 the ``30`` bucket, …, k ≥ 7 is past charge-off at 180).
* **Amounts**: balance = the latest statement balance (X12); the cycle's
  minimum is 5 % of it with a floor of NT$1,000 (never above the balance);
  overdue = k missed minimums (the whole balance once charged off); minimum
  due = overdue + this cycle's minimum (capped at the balance).
* **Currency**: the histories are in NT$. Taiwanese customers keep TWD;
  US customers are in USD and mainland Chinese customers in CNY, converted at
  fixed 2005 rates (32 TWD per USD, 4 TWD per CNY) and rounded to the cent.
  ``Account.history`` keeps the original NT$ figures (``currency: "TWD"``)
  so that the score (issue 6) sees the data it was fitted on.
* **Customers** are made up by Faker, seeded: English names with US numbers,
  addresses and zones; Chinese names (``zh_CN``/``zh_TW``) with +86/+886
  numbers and Asia/Shanghai or Asia/Taipei. About a third have no recorded
  time zone, so their zones come from their phones (some have a second
  number in another US state, so they span two zones). The first number is
  a mobile; a second one is a home or a work line.
* **Assignment**: agents ``agent1`` and ``agent2`` (team A) and ``agent3``
  (team B) share the accounts; one in twenty is left in a team's pool.
* **Cards**: a real-looking BIN, random middle digits and a Luhn check digit;
  as through the service, only the BIN and the last four are stored.

Rows are written in bulk (a few thousand per statement), but they are the rows
:func:`backend.services.accounts.create_account` would write for the same
import row: the same pure helpers (money, buckets, card parts, phone regions
and zones) and the service's own priority function; ``tests/cli`` checks the
two paths against each other. The same seed and count give the same
portfolio; running a seed again adds only the accounts that are missing.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import gzip
import io
import os
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from backend.domain.history import HISTORY_RATES
from backend.domain.zones import phone_region
from backend_client.models import AccountCreate

DEFAULT_SEED = 1
ENV_UCI_CSV = "COLLECTDESK_UCI_CSV"
SAMPLE_PATH = Path(__file__).parent / "data" / "uci_sample.csv.gz"
REPO_UCI_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "uci_credit_card" / "uci_credit_card.csv"

MONTHS = ("2005-09", "2005-08", "2005-07", "2005-06", "2005-05", "2005-04")
STATUS_COLUMNS = tuple(f"X{i}" for i in range(6, 12))
BILL_COLUMNS = tuple(f"X{i}" for i in range(12, 18))
PAID_COLUMNS = tuple(f"X{i}" for i in range(18, 24))
SAMPLE_COLUMNS = ("ID", "X1", *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS)
"""The only columns read, and the only ones in the bundled sample."""

DEMO_USERS: tuple[tuple[str, str, str | None, str], ...] = (
    ("agent1", "agent", "A", "Agent One"),
    ("agent2", "agent", "A", "Agent Two"),
    ("agent3", "agent", "B", "Agent Three"),
    ("super1", "supervisor", "A", "Supervisor One"),
    ("legal1", "legal", None, "Legal Officer One"),
    ("trainer1", "trainer", None, "Trainer One"),
    ("admin", "admin", None, "Administrator"),
    ("service1", "service", "CS", "Service Rep One"),
)
"""SPEC §2: the demo users; the password is the user name. ``service1`` is customer
service (team ``CS``): it reads the notes collections shares (issue 5 item 4)."""

ASSIGNMENT = (("A", "agent1"), ("A", "agent2"), ("B", "agent3"))
POOL_SHARE = 0.05  # left unassigned in a team's pool

TWD_PER = HISTORY_RATES  # the fixed rates a payment is counted in the history at, too
MIN_PAY_RATE = Decimal("0.05")
MIN_PAY_FLOOR_TWD = 1000

# (state, weight, zone on record, area codes): zones agree with the phone library's.
US_STATES: tuple[tuple[str, int, str, tuple[int, ...]], ...] = (
    ("CA", 12, "America/Los_Angeles", (213, 310, 415, 510, 619, 714, 818, 916)),
    ("TX", 9, "America/Chicago", (210, 214, 512, 713, 817)),
    ("FL", 7, "America/New_York", (305, 407, 813, 904)),
    ("NY", 6, "America/New_York", (212, 516, 585, 718, 914)),
    ("PA", 4, "America/New_York", (215, 412, 717)),
    ("IL", 4, "America/Chicago", (312, 630, 773)),
    ("OH", 3, "America/New_York", (216, 513, 614)),
    ("GA", 3, "America/New_York", (404, 770, 912)),
    ("NC", 3, "America/New_York", (336, 704, 919)),
    ("MI", 3, "America/New_York", (248, 313, 616)),
    ("MA", 3, "America/New_York", (413, 508, 617, 781)),
    ("NJ", 3, "America/New_York", (201, 609, 973)),
    ("WA", 2, "America/Los_Angeles", (206, 425, 509)),
    ("AZ", 2, "America/Phoenix", (480, 520, 602)),
    ("CO", 2, "America/Denver", (303, 719, 720)),
    ("MN", 2, "America/Chicago", (612, 651)),
    ("HI", 1, "Pacific/Honolulu", (808,)),
    ("AK", 1, "America/Juneau", (907,)),
)
CN_MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                      "155", "156", "157", "158", "159", "177", "180", "181", "186", "187", "188", "189")
CN_LANDLINE_AREAS = ("10", "21", "20", "755", "28", "27")  # Beijing, Shanghai, Guangzhou, Shenzhen, Chengdu, Wuhan
TW_LANDLINE_AREAS = ("2", "4", "7")  # Taipei, Taichung, Kaohsiung
CARD_BINS = ("453201", "491761", "402400", "542418", "552433", "515462", "622848", "356600")
EMAIL_DOMAINS = {"US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
                 "CN": ("qq.com", "163.com", "126.com", "sina.com"),
                 "TW": ("gmail.com", "yahoo.com.tw", "hotmail.com", "hinet.net")}
COUNTRIES = (("US", 50), ("CN", 25), ("TW", 25))
CURRENCY_OF = {"US": "USD", "CN": "CNY", "TW": "TWD"}
FAKER_LOCALE = {"US": "en_US", "CN": "zh_CN", "TW": "zh_TW"}
NO_ZONE_SHARE = 0.3
SECOND_PHONE_SHARE = 0.25
EMAIL_SHARE = 0.85
POOL_SIZE = 800  # distinct names, streets, cities … drawn from Faker per locale
OPENED_FROM = dt.date(2006, 1, 1)
OPENED_DAYS = 17 * 365


# --------------------------------------------------------------------------
# Histories


@dataclass(frozen=True, slots=True)
class History:
    """Six months of one real account, newest month first, in NT$."""

    limit: int
    status: tuple[int, ...]
    bill: tuple[int, ...]
    paid: tuple[int, ...]

    @property
    def months_late(self) -> int:
        return max(self.status[0], 0)

    def as_json(self) -> dict[str, Any]:
        """What ``Account.history`` holds."""
        return {"currency": "TWD", "months": list(MONTHS), "limit": self.limit, "status": list(self.status),
                "bill": list(self.bill), "paid": list(self.paid)}


def history_to_uci(history: dict[str, Any]) -> dict[str, int]:
    """``Account.history`` back into the UCI columns the score reads (X1, X6–X23)."""
    out = {"X1": int(history["limit"])}
    for columns, key in ((STATUS_COLUMNS, "status"), (BILL_COLUMNS, "bill"), (PAID_COLUMNS, "paid")):
        out.update({c: int(v) for c, v in zip(columns, history[key], strict=True)})
    return out


def _int(value: str) -> int:
    # Some limits are written like ``5.00E+05``.
    return int(Decimal(value.strip()))


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def read_histories(path: Path) -> list[tuple[int, History]]:
    """``(ID, History)`` for every row of a UCI-format CSV (plain or gzipped)."""
    out: list[tuple[int, History]] = []
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in SAMPLE_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: not a UCI credit-card file (no column {', '.join(missing)})")
        for row in reader:
            try:
                out.append((_int(row["ID"]), History(
                    limit=_int(row["X1"]),
                    status=tuple(_int(row[c]) for c in STATUS_COLUMNS),
                    bill=tuple(_int(row[c]) for c in BILL_COLUMNS),
                    paid=tuple(_int(row[c]) for c in PAID_COLUMNS),
                )))
            except (ArithmeticError, ValueError, AttributeError) as exc:
                raise ValueError(f"{path}, line {reader.line_num}: not a number ({exc})") from None
    return out


def histories_path() -> tuple[Path, str]:
    """The file to read and what it is: ``COLLECTDESK_UCI_CSV``, else the shared
    data beside the repository, else the bundled sample."""
    named = os.environ.get(ENV_UCI_CSV)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{ENV_UCI_CSV} names {path}, which is not a file")
        return path, f"UCI credit-card histories ({path})"
    if REPO_UCI_CSV.is_file():
        return REPO_UCI_CSV, f"UCI credit-card histories ({REPO_UCI_CSV})"
    return SAMPLE_PATH, "the bundled sample of UCI credit-card histories"


def in_portfolio(h: History) -> bool:
    """Owes something, and is late now or was late in the five months before."""
    return h.bill[0] > 0 and (h.status[0] >= 1 or (h.status[0] == 0 and max(h.status[1:]) >= 1))


def portfolio_pool(rows: Iterable[tuple[int, History]]) -> list[History]:
    return [h for _id, h in sorted(rows, key=lambda r: r[0]) if in_portfolio(h)]


def write_sample(source: Path, dest: Path = SAMPLE_PATH, size: int = 600) -> int:
    """Write the bundled sample: ``size`` portfolio rows of ``source``, chosen evenly
    within each months-late group so the rare late buckets are all there, with
    only :data:`SAMPLE_COLUMNS` (no protected characteristics, no label).

    ``python -c "from backend.seed import *; write_sample(REPO_UCI_CSV)"`` remade it.
    """
    rows = [(i, h) for i, h in sorted(read_histories(source), key=lambda r: r[0]) if in_portfolio(h)]
    groups: dict[int, list[tuple[int, History]]] = {}
    for item in rows:
        groups.setdefault(min(item[1].months_late, 7), []).append(item)
    floor = 12
    quota = {k: min(len(g), max(floor, round(size * len(g) / len(rows)))) for k, g in groups.items()}
    while sum(quota.values()) > size:
        biggest = max(quota, key=lambda k: quota[k])
        quota[biggest] -= 1
    chosen: list[tuple[int, History]] = []
    for k, group in groups.items():
        q = quota[k]
        chosen.extend(group[j * len(group) // q] for j in range(q))
    chosen.sort(key=lambda r: r[0])
    dest.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SAMPLE_COLUMNS)
    for i, h in chosen:
        writer.writerow([i, h.limit, *h.status, *h.bill, *h.paid])
    # No file name and no time in the gzip header: the same rows give the same bytes.
    with dest.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
        fh.write(buf.getvalue().encode())
    return len(chosen)


# --------------------------------------------------------------------------
# Amounts, DPD


def dpd_for(months_late: int, rng: random.Random) -> int:
    if months_late <= 0:
        return 0
    return 30 * months_late - rng.randint(0, 29)


def _convert(amount_twd: int, currency: str) -> Decimal:
    """NT$ → the account's currency, in major units rounded to the cent."""
    return (Decimal(amount_twd) / TWD_PER[currency]).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def amounts_twd(h: History, dpd: int) -> tuple[int, int, int, int]:
    """``(limit, balance, overdue, minimum_due)`` in NT$ for a history and its DPD."""
    balance = max(h.bill[0], 0)
    cycle_min = min(balance, max(int((balance * MIN_PAY_RATE).to_integral_value(ROUND_HALF_UP)), MIN_PAY_FLOOR_TWD))
    if dpd >= 180:
        overdue = minimum = balance
    else:
        overdue = min(balance, h.months_late * cycle_min)
        minimum = min(balance, overdue + cycle_min)
    return max(h.limit, 0), balance, overdue, minimum


# --------------------------------------------------------------------------
# Customers


class _Names:
    """Per-locale pools drawn once from a seeded Faker, then combined by the seed's
    random stream (Faker's weighted choices cost ~100 µs each; 100,000 accounts
    would spend a minute in them)."""

    def __init__(self, locale: str, seed: int) -> None:
        from faker import Faker

        fake = Faker(locale)
        fake.seed_instance(seed)
        self.first = sorted({fake.first_name() for _ in range(POOL_SIZE)})
        self.last = sorted({fake.last_name() for _ in range(POOL_SIZE // 2)})
        self.users = sorted({fake.user_name() for _ in range(POOL_SIZE)})
        if locale == "en_US":
            self.streets = [fake.street_address() for _ in range(POOL_SIZE)]
            self.cities = sorted({fake.city() for _ in range(POOL_SIZE // 2)})
            self.zips = {state: [fake.zipcode_in_state(state) for _ in range(20)] for state, *_ in US_STATES}
        else:
            self.streets = [fake.address().replace("\n", " ") for _ in range(POOL_SIZE)]
            self.cities = []
            self.zips = {}


def _weighted(items: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    return [i[0] for i in items], [i[1] for i in items]


_STATE_CHOICES = ([s for s in US_STATES], [s[1] for s in US_STATES])
_COUNTRY_CHOICES = _weighted(COUNTRIES)


@functools.lru_cache(maxsize=1 << 17)
def _region(number: str) -> str | None:
    """The service's :func:`phone_region`, remembered: the generator checks each
    number with it and the writer then asks again."""
    return phone_region(number)


def _valid(number: str) -> bool:
    return _region(number) is not None


def _us_number(rng: random.Random, area_codes: tuple[int, ...]) -> str:
    while True:
        exchange = rng.randint(200, 999)
        if exchange % 100 == 11 or exchange == 555:
            continue
        number = f"+1{rng.choice(area_codes)}{exchange}{rng.randint(0, 9999):04d}"
        if _valid(number):
            return number


def _cn_number(rng: random.Random, mobile: bool) -> str:
    while True:
        if mobile:
            number = f"+86{rng.choice(CN_MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
        else:
            area = rng.choice(CN_LANDLINE_AREAS)
            digits = 8 if len(area) == 2 else 7
            number = f"+86{area}{rng.randint(2 * 10 ** (digits - 1), 10 ** digits - 1)}"
        if _valid(number):
            return number


def _tw_number(rng: random.Random, mobile: bool) -> str:
    while True:
        if mobile:
            number = f"+8869{rng.randint(0, 99_999_999):08d}"
        else:
            area = rng.choice(TW_LANDLINE_AREAS)
            digits = 8 if area == "2" else 7
            number = f"+886{area}{rng.randint(2 * 10 ** (digits - 1), 10 ** digits - 1)}"
        if _valid(number):
            return number


def card_number(rng: random.Random) -> str:
    """A 16-digit number: a BIN, random digits, and a Luhn check digit."""
    body = rng.choice(CARD_BINS) + "".join(str(rng.randint(0, 9)) for _ in range(9))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def account_ref(seed: int, index: int) -> str:
    return f"S{seed}-{index + 1:06d}"


def ref_prefix(seed: int) -> str:
    return f"S{seed}-"


@dataclass(frozen=True, slots=True)
class SeedRow:
    """One generated account: the import row the service would take, and its history."""

    account: AccountCreate
    history: dict[str, Any]


class Portfolio:
    """The generator: ``Portfolio(seed, pool).rows(n)`` yields the same rows every time."""

    def __init__(self, seed: int, pool: list[History]) -> None:
        if not pool:
            raise ValueError("no account history qualifies for the portfolio")
        self.seed = seed
        self.pool = pool
        order = random.Random(f"collectdesk-histories:{seed}")
        self.order = list(range(len(pool)))
        order.shuffle(self.order)
        self.names = {country: _Names(locale, seed) for country, locale in FAKER_LOCALE.items()}

    def rows(self, n: int) -> Iterator[SeedRow]:
        rng = random.Random(f"collectdesk-portfolio:{self.seed}")
        for i in range(n):
            yield self._row(i, rng)

    def _row(self, i: int, rng: random.Random) -> SeedRow:
        h = self.pool[self.order[i % len(self.pool)]]
        country = rng.choices(*_COUNTRY_CHOICES)[0]
        names = self.names[country]
        first, last = rng.choice(names.first), rng.choice(names.last)
        region = None
        if country == "US":
            name = f"{first} {last}"
            state, _w, zone, areas = rng.choices(*_STATE_CHOICES)[0]
            region = state
            phones = [_us_number(rng, areas)]
            address = f"{rng.choice(names.streets)}, {rng.choice(names.cities)}, {state} {rng.choice(names.zips[state])}"
            if rng.random() < SECOND_PHONE_SHARE:
                # Half of them kept a number from another state.
                other = rng.choices(*_STATE_CHOICES)[0] if rng.random() < 0.5 else (state, 0, zone, areas)
                phones.append(_us_number(rng, other[3]))
            local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
        else:
            name = f"{last}{first}"
            zone = "Asia/Shanghai" if country == "CN" else "Asia/Taipei"
            make = _cn_number if country == "CN" else _tw_number
            phones = [make(rng, True)]
            address = rng.choice(names.streets)
            if rng.random() < SECOND_PHONE_SHARE:
                phones.append(make(rng, False))
            local = rng.choice(names.users)
        phones = list(dict.fromkeys(phones))
        # The primary is their mobile; a second number is a home or a work line. Chosen by
        # the number's last digit, not by ``rng``, so the rest of the row is as before.
        kinds = ["mobile", *("home" if int(number[-1]) % 2 else "work" for number in phones[1:])]
        email = f"{local}{rng.randint(1, 99)}@{rng.choice(EMAIL_DOMAINS[country])}" if rng.random() < EMAIL_SHARE else None
        timezone = None if rng.random() < NO_ZONE_SHARE else zone

        dpd = dpd_for(h.months_late, rng)
        currency = CURRENCY_OF[country]
        limit, balance, overdue, minimum = (_convert(v, currency) for v in amounts_twd(h, dpd))
        if rng.random() < POOL_SHARE:
            team, agent = rng.choice(("A", "B")), None
        else:
            team, agent = rng.choice(ASSIGNMENT)
        opened = OPENED_FROM + dt.timedelta(days=rng.randrange(OPENED_DAYS))
        row = AccountCreate(
            account_ref=account_ref(self.seed, i), customer_name=name, phones=phones, phone_kinds=kinds,
            email=email, address=address,
            country=country, region=region, timezone=timezone, currency=currency, credit_limit=str(limit),
            balance=str(balance), overdue=str(overdue), minimum_due=str(minimum), dpd=dpd,
            card_number=card_number(rng), opened_on=opened, team=team, agent=agent,
        )
        return SeedRow(row, h.as_json())


def load_pool(path: Path | None = None) -> tuple[list[History], str]:
    """The portfolio pool and a description of where it came from."""
    if path is None:
        path, source = histories_path()
    else:
        source = f"UCI credit-card histories ({path})"
    return portfolio_pool(read_histories(path)), source


# --------------------------------------------------------------------------
# Writing


@dataclass
class SeedReport:
    created: int
    existing: int
    source: str
    users_created: list[str]


def ensure_demo_users(session) -> list[str]:  # noqa: ANN001
    """Create the SPEC §2 demo users that are missing (password = user name).
    Users that exist already are left as they are: a seed never resets a password."""
    from sqlalchemy import select

    from backend.models import User
    from backend.services.users import add_user

    have = set(session.scalars(select(User.username).where(User.username.in_([u[0] for u in DEMO_USERS]))))
    created = []
    for username, role, team, display in DEMO_USERS:
        if username not in have:
            add_user(session, username, username, role, team, display)
            created.append(username)
    session.flush()
    return created


def row_values(data: AccountCreate, *, teams: dict[str, int], agents: dict[str, int], now: dt.datetime,
               history: dict[str, Any] | None, session) -> tuple[dict, list[dict], list[dict], dict]:  # noqa: ANN001
    """The customer, phones, addresses and account columns ``create_account`` writes
    for ``data`` (ids of the customer and account left out)."""
    from backend.domain.accounts import bucket_for, card_parts
    from backend.domain.zones import phone_zones
    from backend.models import Account, Address, Customer, Phone
    from backend.services.accounts import phone_kinds
    from backend.services.ranking import refresh_priority
    from backend_client.money import to_minor

    primary_region = _region(data.phones[0]) if data.phones else None
    country = data.country or primary_region or "US"
    customer = {"name": data.customer_name, "email": data.email or None, "timezone": data.timezone or None,
                "timezone_source": str(data.timezone_source or "record"),
                "country": country, "region": data.region or None, "language": None, "created_at": now}
    phones = [{"number": number, "position": position, "region": _region(number), "timezones": phone_zones(number),
               "kind": kind, "do_not_call": False}
              for position, (number, kind) in enumerate(zip(data.phones, phone_kinds(data), strict=True))]
    addresses = ([{"text": data.address, "country": data.country or primary_region, "region": data.region}]
                 if data.address else [])
    card_bin, last4 = card_parts(data.card_number)
    agent_id = agents[data.agent] if data.agent else None
    account = {
        "account_ref": data.account_ref, "currency": data.currency, "card_bin": card_bin, "card_last4": last4,
        "credit_limit_minor": to_minor(data.credit_limit, data.currency),
        "balance_minor": to_minor(data.balance, data.currency),
        "overdue_minor": to_minor(data.overdue, data.currency),
        "minimum_due_minor": to_minor(data.minimum_due, data.currency),
        "dpd": data.dpd, "bucket": bucket_for(data.dpd), "status": "charged_off" if data.dpd >= 180 else "open",
        "opened_on": data.opened_on, "flags": {}, "team_id": teams[data.team], "agent_id": agent_id,
        "history": history, "lease_user_id": None, "lease_expires_at": None, "version": 1,
        "created_at": now, "updated_at": now,
    }
    if account["overdue_minor"] > max(account["balance_minor"], 0) or min(
            account["credit_limit_minor"], account["overdue_minor"], account["minimum_due_minor"]) < 0:
        raise ValueError(f"{data.account_ref}: inconsistent amounts")
    # The service's own priority, on an account that is not in the session (no id,
    # so it has no contacts to look up, exactly as a new account has none).
    # Transient objects: the engine needs the customer's zones and numbers.
    who = Customer(**{k: v for k, v in customer.items() if k != "created_at"})
    who.phones = [Phone(**p) for p in phones]
    who.addresses = [Address(**a) for a in addresses]
    probe = Account(account_ref=data.account_ref, dpd=data.dpd, overdue_minor=account["overdue_minor"], balance_minor=account["balance_minor"],
                    currency=data.currency, flags={}, history=history, bucket=account["bucket"], customer=who)
    refresh_priority(session, probe, now)
    for key in ("priority", "reasons", "contactable", "next_contact_at", "contact_blocks", "recheck_at", "risk",
                "strategy"):
        account[key] = getattr(probe, key)
    return customer, phones, addresses, account


def insert_rows(session, rows: list[SeedRow], actor_id: int | None, teams: dict[str, int],  # noqa: ANN001
                agents: dict[str, int], now: dt.datetime) -> None:
    """Insert one batch of generated accounts with their customers and audit rows."""
    from sqlalchemy import insert

    from backend.models import Account, Address, AuditEntry, Customer, Phone

    built = [row_values(r.account, teams=teams, agents=agents, now=now, history=r.history, session=session) for r in rows]
    customer_ids = list(session.execute(
        insert(Customer.__table__).returning(Customer.__table__.c.id, sort_by_parameter_order=True),
        [b[0] for b in built]).scalars())
    phones = [dict(p, customer_id=cid) for b, cid in zip(built, customer_ids, strict=True) for p in b[1]]
    addresses = [dict(a, customer_id=cid) for b, cid in zip(built, customer_ids, strict=True) for a in b[2]]
    if phones:
        session.execute(insert(Phone.__table__), phones)
    if addresses:
        session.execute(insert(Address.__table__), addresses)
    account_ids = list(session.execute(
        insert(Account.__table__).returning(Account.__table__.c.id, sort_by_parameter_order=True),
        [dict(b[3], customer_id=cid) for b, cid in zip(built, customer_ids, strict=True)]).scalars())
    session.execute(insert(AuditEntry.__table__), [
        {"at": now, "user_id": actor_id, "action": "create", "entity": "account", "entity_id": aid,
         "detail": {"account_ref": b[3]["account_ref"]}}
        for b, aid in zip(built, account_ids, strict=True)
    ])


BATCH = 2000


def seed_portfolio(
    session,  # noqa: ANN001
    accounts: int,
    seed: int = DEFAULT_SEED,
    *,
    pool: list[History] | None = None,
    source: str | None = None,
    actor: str = "admin",
    progress: Callable[[int, int], None] | None = None,
) -> SeedReport:
    """Create the demo users and ``accounts`` generated accounts (those whose
    reference exists already are skipped). The caller commits."""
    from sqlalchemy import select

    from backend.models import Account, User, utcnow
    from backend.services.users import get_or_create_team

    if accounts < 0:
        raise ValueError("the number of accounts must not be negative")
    if pool is None:
        pool, source = load_pool()
    users_created = ensure_demo_users(session)
    teams = {name: get_or_create_team(session, name).id for name in ("A", "B")}
    agents: dict[str, int] = {}
    for team_name, username in ASSIGNMENT:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.role in ("agent", "supervisor") and user.team_id == teams[team_name]:
            agents[username] = user.id
    actor_user = session.scalar(select(User).where(User.username == actor))
    existing = set(session.scalars(select(Account.account_ref).where(Account.account_ref.like(f"{ref_prefix(seed)}%"))))
    now = utcnow()
    generator = Portfolio(seed, pool)
    created = skipped = 0
    batch: list[SeedRow] = []
    if progress:
        progress(0, accounts)
    for done, row in enumerate(generator.rows(accounts), start=1):
        data = row.account
        if data.account_ref in existing:
            skipped += 1
        else:
            if data.agent and data.agent not in agents:
                # The demo agent was moved to another team: the account waits in its team's pool.
                row = SeedRow(data.model_copy(update={"agent": None}), row.history)
            batch.append(row)
        if len(batch) >= BATCH:
            insert_rows(session, batch, actor_user.id if actor_user else None, teams, agents, now)
            created += len(batch)
            batch = []
        if progress and (done % 500 == 0 or done == accounts):
            progress(done, accounts)
    if batch:
        insert_rows(session, batch, actor_user.id if actor_user else None, teams, agents, now)
        created += len(batch)
    session.flush()
    seed_legal_demo(session, ref_prefix(seed), now)  # accounts ready for a legal referral, and some not yet
    return SeedReport(created=created, existing=skipped, source=source or "", users_created=users_created)


def seed_legal_demo(session, ref_prefix: str, now: dt.datetime, *, ready: int = 3, lacking: int = 2) -> int:  # noqa: ANN001
    """Give the demo portfolio legal referrals to try (issue 5): among the accounts
    of agent1's team 90 or more days past due with no contacts yet (agent1's own
    first, Chinese names first), ``ready`` get
    six outbound attempts and a demand letter sent 20 days ago (a referral is
    accepted), and ``lacking`` get three attempts and no letter (the desk names what
    is missing). Idempotent: accounts with contacts are passed over. Answers how many."""
    from sqlalchemy import case, select

    from backend.models import Account, Contact, Customer, Document, User
    from backend.services.letters import send as send_letter
    from backend.services.ranking import refresh_priority
    from backend_client.models import LetterSend
    from config.settings import BackendSettings

    agent = session.scalar(select(User).where(User.username == "agent1"))
    if agent is None:
        return 0
    done = session.scalar(select(Document.id).join(Account, Account.id == Document.account_id)
                          .where(Account.account_ref.like(f"{ref_prefix}%"), Document.kind == "demand_letter").limit(1))
    if done is not None:
        return 0  # seeded already
    has_contacts = select(Contact.id).where(Contact.account_id == Account.id).exists()
    # agent1's own first, then the rest of the team; Chinese names first.
    candidates = session.scalars(
        select(Account).join(Customer, Customer.id == Account.customer_id)
        .where(Account.account_ref.like(f"{ref_prefix}%"), Account.team_id == agent.team_id, Account.dpd >= 90,
               ~has_contacts)
        .order_by(case((Account.agent_id == agent.id, 0), else_=1),
                  case((Customer.country.in_(("CN", "TW")), 0), else_=1), Account.account_ref)
        .limit(ready + lacking)
    ).unique().all()
    settings = BackendSettings()
    for n, account in enumerate(candidates):
        attempts = 6 if n < ready else 3
        for i in range(attempts):
            session.add(Contact(account_id=account.id, agent_id=agent.id, channel="phone", direction="outbound",
                                party="debtor", outcome=("NA", "VM", "LM")[i % 3],
                                started_at=now - dt.timedelta(days=40 - 4 * i, hours=-2), logged_at=now, note=""))
        if n < ready:
            send_letter(session, agent, account.id, LetterSend(), settings.bank_name, settings.bank_contact,
                        now=now - dt.timedelta(days=20))
    session.flush()

    for account in candidates:  # their contacts move them in the worklist, as logging them would
        refresh_priority(session, account, now)
    return len(candidates)
