"""Training scenarios (issue 7): TOML files in ``config/scenarios/`` (English) and
``config/scenarios/<lang>/`` (translations), read and checked here.

A scenario is a persona, the account's facts, a branching dialogue (the
customer's lines; the agent's choices, each with its suggested phrasing, where
it leads, the steps it does and the rules it breaks), the steps expected, what
is forbidden, what the agent should record, and a scoring rubric.

Pure: the standard library and pydantic only, no I/O but reading the file. A
broken file is a ``ScenarioError`` naming the file, its line and the field,
never a crash.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from backend_client.vocabulary import Outcome
from config import CONFIG_DIR

SCENARIOS_DIR = CONFIG_DIR / "scenarios"

STEPS = ("identity", "disclosure", "ask_reason", "offer", "recap", "location_only", "cease_honoured")
"""Steps a scenario may expect of the agent."""
ACTS = ("threat", "third_party_disclosure", "false_statement", "unlawful_hours", "beyond_authority")
"""Forbidden acts (``beyond_authority``: a plan outside the agent's limits)."""
OUTCOMES = tuple(o.value for o in Outcome)
RESULTS = ("PTP", "PLAN", "PAID", "RTP", "DISP", "HARD", "CB", "CEASE", "ATTY", "BK", "COMP")
REASONS = ("job_loss", "illness", "over_indebted", "forgot", "merchant_dispute", "fraud_claim", "business_failure",
           "family_emergency", "disaster", "unwilling", "other")
PARTIES = ("debtor", "third_party", "attorney")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Step = Literal["identity", "disclosure", "ask_reason", "offer", "recap", "location_only", "cease_honoured"]
Act = Literal["threat", "third_party_disclosure", "false_statement", "unlawful_hours", "beyond_authority"]
NodeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]+$", max_length=60)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Persona(_Model):
    name: Text
    answers: Literal["debtor", "third_party", "attorney"] = "debtor"
    description: Text = "-"


class AccountFacts(_Model):
    customer_name: Text
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    balance: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)]
    overdue: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
    dpd: Annotated[int, Field(ge=0, le=3650)]
    timezone: Text
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    region: str | None = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+[0-9]{6,15}$")]


class Offer(_Model):
    discount_percent: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(0)
    term_months: Annotated[int, Field(ge=1, le=120)] = 1
    first_payment_days: Annotated[int, Field(ge=0, le=365)] = 0


class Choice(_Model):
    say: Text
    """The suggested agent phrasing."""
    next: NodeId
    does: tuple[Step, ...] = ()
    breaks: tuple[Act, ...] = ()
    offer: Offer | None = None
    best: bool = False
    """The model answer, which the demo plays."""


class Node(_Model):
    customer: Text
    choices: tuple[Choice, ...] = ()
    end: bool = False


class Expected(_Model):
    expected: tuple[Step, ...] = Field(min_length=1)


class Forbidden(_Model):
    acts: tuple[Act, ...] = Field(min_length=1)


class Record(_Model):
    """What the agent should record on the call form."""
    outcome: Literal["NA", "BSY", "VM", "LM", "WN", "DISC", "TPC", "RPC"]
    result: Literal["PTP", "PLAN", "PAID", "RTP", "DISP", "HARD", "CB", "CEASE", "ATTY", "BK", "COMP"] | None = None
    reason: Literal["job_loss", "illness", "over_indebted", "forgot", "merchant_dispute", "fraud_claim",
                    "business_failure", "family_emergency", "disaster", "unwilling", "other"] | None = None
    party: Literal["debtor", "third_party", "attorney"] = "debtor"


class Rubric(_Model):
    points: dict[str, Annotated[int, Field(ge=0, le=1000)]]
    penalties: dict[str, Annotated[int, Field(ge=0, le=1000)]]


class Scenario(_Model):
    id: NodeId
    title: Text
    kind: Literal["cooperative", "dispute", "third_party", "cease", "other"] = "other"
    summary: Text
    start: NodeId
    persona: Persona
    account: AccountFacts
    steps: Expected
    forbidden: Forbidden
    record: Record
    rubric: Rubric
    nodes: dict[NodeId, Node]
    call_at: dt.datetime = dt.datetime(2026, 3, 11, 10, 30)
    """When the call happens, on the customer's clock (``account.timezone``) unless
    it names its offset: the training sandbox's clock is pinned there."""
    language: str = "en"
    path: str = ""

    @property
    def instant(self) -> dt.datetime:
        """``call_at`` as an aware instant in UTC."""
        at = self.call_at if self.call_at.tzinfo else self.call_at.replace(tzinfo=ZoneInfo(self.account.timezone))
        return at.astimezone(dt.UTC)

    @property
    def max_points(self) -> int:
        return sum(self.rubric.points.values())

    def best_choice(self, node_id: str) -> int:
        """The model answer at ``node_id``: its ``best`` choice, else the first."""
        return next((i for i, c in enumerate(self.nodes[node_id].choices) if c.best), 0)

    def best_path(self) -> list[int]:
        """The choices the demo plays: at each node the ``best`` choice, else the first."""
        path: list[int] = []
        node_id, seen = self.start, set()
        while node_id not in seen:
            seen.add(node_id)
            node = self.nodes[node_id]
            if node.end or not node.choices:
                break
            index = self.best_choice(node_id)
            path.append(index)
            node_id = node.choices[index].next
        return path


class ScenarioError(Exception):
    """A scenario file that cannot be used: where (file, line) and what (field)."""

    def __init__(self, path: str, line: int | None, field: str, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


def _line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line of the key at ``loc`` (or of the nearest enclosing key found), by
    searching the text: table headers, array-of-table headers, then ``key =``."""
    lines = text.splitlines()
    pos, found = 0, None
    prefix: list[str] = []
    for part in loc:
        if isinstance(part, int):
            header = re.compile(r"^\s*\[\[\s*" + re.escape(".".join(prefix)) + r"\s*\]\]")
            seen = -1
            for n in range(pos, len(lines)):
                if header.match(lines[n]):
                    seen += 1
                    if seen == part:
                        pos, found = n, n + 1
                        break
            continue
        prefix.append(str(part))
        dotted = re.escape(".".join(prefix))
        patterns = [re.compile(r"^\s*\[{1,2}\s*" + dotted + r"\s*\]{1,2}"),
                    re.compile(r"^\s*" + re.escape(str(part)) + r"\s*="),
                    re.compile(r"[{,]\s*" + re.escape(str(part)) + r"\s*=")]
        for n in range(pos, len(lines)):
            if any(p.search(lines[n]) for p in patterns):
                pos, found = n, n + 1
                break
    return found


def _field(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str, path: str = "<scenario>", language: str = "en") -> Scenario:
    """A scenario from TOML text; ``ScenarioError`` if it is broken."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            match = re.search(r"line (\d+)", str(exc))
            line = int(match.group(1)) if match else None
        raise ScenarioError(path, line, "", f"not valid TOML: {getattr(exc, 'msg', str(exc))}") from None
    data.setdefault("language", language)
    data["path"] = path
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        if error["type"] == "missing" and len(loc) > 1:
            line = _line_of(text, loc[:-1])
        else:
            line = _line_of(text, loc)
        more = len(exc.errors()) - 1
        message = error["msg"] + (f" (and {more} more)" if more else "")
        raise ScenarioError(path, line, _field(loc), message) from None
    _check_references(scenario, text, path)
    return scenario


def _check_references(s: Scenario, text: str, path: str) -> None:
    def fail(loc: tuple[str | int, ...], message: str) -> None:
        raise ScenarioError(path, _line_of(text, loc), _field(loc), message)

    if s.start not in s.nodes:
        fail(("start",), f"no node named {s.start!r}")
    try:
        ZoneInfo(s.account.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail(("account", "timezone"), f"no such time zone {s.account.timezone!r} (like America/New_York)")
    for node_id, node in s.nodes.items():
        if not node.end and not node.choices:
            fail(("nodes", node_id), "a node that is not an end needs at least one choice")
        for i, choice in enumerate(node.choices):
            if choice.next not in s.nodes:
                fail(("nodes", node_id, "choices", i, "next"), f"no node named {choice.next!r}")
    for key in s.rubric.points:
        if key != "record" and key not in s.steps.expected:
            fail(("rubric", "points", key), f"not an expected step (expected: {', '.join(s.steps.expected)})")
    for key in s.rubric.penalties:
        if key not in ACTS:
            fail(("rubric", "penalties", key), f"not a forbidden act (one of {', '.join(ACTS)})")
    ends = [n for n in s.nodes.values() if n.end]
    if not ends:
        fail(("nodes",), "the dialogue has no end node")


def load(path: Path, language: str = "en") -> Scenario:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(str(path), None, "", f"cannot read: {exc}") from None
    return parse(text, str(path), language)


def scenario_files(language: str = "en", directory: Path | None = None) -> list[Path]:
    """The scenario files for ``language``: its folder's, and the English ones it does not translate."""
    base = directory or SCENARIOS_DIR
    files = {p.stem: p for p in sorted(base.glob("*.toml"))}
    if language != "en":
        files.update({p.stem: p for p in sorted((base / language).glob("*.toml"))})
    return [files[k] for k in sorted(files)]


def load_all(language: str = "en", directory: Path | None = None) -> tuple[list[Scenario], list[ScenarioError]]:
    """Every scenario that loads, and the errors of those that do not."""
    good: list[Scenario] = []
    bad: list[ScenarioError] = []
    base = directory or SCENARIOS_DIR
    for path in scenario_files(language, base):
        lang = language if path.parent.name == language else "en"
        try:
            good.append(load(path, lang))
        except ScenarioError as exc:
            bad.append(exc)
    return good, bad


def find(name: str, language: str = "en", directory: Path | None = None) -> Scenario:
    """A scenario by id, file stem or path; ``ScenarioError`` if none."""
    candidate = Path(name)
    if candidate.suffix == ".toml" and candidate.exists():
        return load(candidate, language)
    for path in scenario_files(language, directory):
        if path.stem == name:
            return load(path, language if path.parent.name == language else "en")
    raise ScenarioError(name, None, "", "no such scenario")
