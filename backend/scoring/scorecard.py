"""The default-risk scorecard: probability of default next month, points and reasons.

The fitted scorecard is a small JSON file beside this module
(``scorecard.json``, written by ``scripts/fit_scorecard.py``). Each feature is
cut into bins; each bin carries a weight, and

    log-odds of default = intercept + sum of the account's bin weights.

Some features are a pair binned together (a grid), such as the worst status in
six months against the balance as a share of the limit. Every bin has an
English description and a reason code with parameters, so the desk can say in
its own language why an account scores as it does.

Pure Python: loading is ``json`` and scoring is ``bisect``; no numpy needed.
"""

from __future__ import annotations

import csv
import json
import math
from bisect import bisect_left
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from backend.domain.priority import Why
from backend.scoring.features import (
    BILL_COLUMNS,
    LIMIT_COLUMN,
    PAID_COLUMNS,
    STATUS_COLUMNS,
    _features,
    features_from_history,
)
from backend_client.exports import csv_cell

__all__ = [
    "Score",
    "Scorecard",
    "ScoreInputError",
    "Why",
    "features_from_history",
    "load_scorecard",
    "probability",
    "score",
    "score_csv",
    "score_history",
    "score_uci_row",
]

#: How many reasons an account gets at most.
TOP_REASONS = 3


class Score(NamedTuple):
    probability: float
    """Probability of default next month, 0..1."""
    points: int
    """Risk points: higher is riskier; ``pdo`` more points double the odds of default."""
    reasons: list[Why]
    """The bins that raise this account's risk most against the average account, biggest first."""


class ScoreInputError(ValueError):
    """Input the score cannot read; ``errors`` lists ``(line, column, problem)``."""

    def __init__(self, errors: list[tuple[int | None, str | None, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(_describe(e) for e in errors[:20])
                         + (f"; and {len(errors) - 20} more" if len(errors) > 20 else ""))


def _describe(error: tuple[int | None, str | None, str]) -> str:
    line, column, problem = error
    where = []
    if line is not None:
        where.append(f"line {line}")
    if column is not None:
        where.append(column)
    return ": ".join([*where, problem])


class _Binned(NamedTuple):
    feature: str
    edges: tuple[float, ...]
    weights: tuple[float, ...]
    points: tuple[int, ...]
    hits: tuple[tuple[float, Why], ...]  # (lift over the average account, reason) per bin


class _Grid(NamedTuple):
    x: str
    y: str
    x_edges: tuple[float, ...]
    y_edges: tuple[float, ...]
    stride: int
    cells: tuple[int, ...]  # grid cell (row-major) -> bin
    weights: tuple[float, ...]
    points: tuple[int, ...]
    hits: tuple[tuple[float, Why], ...]


def _bins(spec: Mapping[str, Any]) -> tuple[tuple[float, ...], tuple[int, ...], tuple[tuple[float, Why], ...]]:
    ref = float(spec["reference"])
    weights = tuple(float(b["weight"]) for b in spec["bins"])
    points = tuple(int(b["points"]) for b in spec["bins"])
    hits = tuple((w - ref, Why(b["code"], b["text"], dict(b["params"]))) for w, b in zip(weights, spec["bins"],
                                                                                     strict=True))
    return weights, points, hits


class Scorecard:
    """A loaded scorecard, with its bins laid out for fast lookup."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.intercept = float(data["intercept"])
        self.base_points = int(data["points"]["base"])
        self.binned: list[_Binned] = []
        self.grids: list[_Grid] = []
        for spec in data["features"]:
            weights, points, hits = _bins(spec)
            if spec["kind"] == "bins":
                edges = tuple(float(e) for e in spec["edges"])
                if len(weights) != len(edges) + 1 or list(edges) != sorted(set(edges)):
                    raise ValueError(f"scorecard: {spec['name']} needs rising edges and one bin more than edges")
                self.binned.append(_Binned(spec["feature"], edges, weights, points, hits))
            elif spec["kind"] == "grid":
                xe = tuple(float(e) for e in spec["x_edges"])
                ye = tuple(float(e) for e in spec["y_edges"])
                cells = tuple(int(c) for c in spec["cells"])
                if len(cells) != (len(xe) + 1) * (len(ye) + 1) or not 0 <= min(cells) <= max(cells) < len(weights):
                    raise ValueError(f"scorecard: {spec['name']} has a malformed grid")
                x, y = spec["features"]
                self.grids.append(_Grid(x, y, xe, ye, len(ye) + 1, cells, weights, points, hits))
            else:
                raise ValueError(f"scorecard: unknown kind {spec['kind']!r}")
        self.feature_names = sorted({b.feature for b in self.binned} | {g.x for g in self.grids}
                                    | {g.y for g in self.grids})
        # Flat tuples for the hot loops (attribute access on named tuples costs).
        self._binned = tuple(tuple(b) for b in self.binned)
        self._grids = tuple((g.x, g.y, g.x_edges, g.y_edges, g.stride, g.cells, g.weights, g.points, g.hits)
                            for g in self.grids)

    # The hot paths below are written out by hand: a million accounts go through them.

    def log_odds(self, features: Mapping[str, float]) -> float:
        total = self.intercept
        try:
            for name, edges, weights, _, _ in self._binned:
                total += weights[bisect_left(edges, features[name])]
            for x, y, xe, ye, stride, cells, weights, _, _ in self._grids:
                total += weights[cells[bisect_left(xe, features[x]) * stride + bisect_left(ye, features[y])]]
        except KeyError as exc:
            raise ValueError(f"feature {exc.args[0]} is missing") from None
        except TypeError:
            raise ValueError("features must be numbers") from None
        return total

    def probability(self, features: Mapping[str, float]) -> float:
        return _logistic(self.log_odds(features))

    def score(self, features: Mapping[str, float]) -> Score:
        total = self.intercept
        points = self.base_points
        hits = []
        try:
            for name, edges, weights, pts, bin_hits in self._binned:
                i = bisect_left(edges, features[name])
                total += weights[i]
                points += pts[i]
                hits.append(bin_hits[i])
            for x, y, xe, ye, stride, cells, weights, pts, bin_hits in self._grids:
                i = cells[bisect_left(xe, features[x]) * stride + bisect_left(ye, features[y])]
                total += weights[i]
                points += pts[i]
                hits.append(bin_hits[i])
        except KeyError as exc:
            raise ValueError(f"feature {exc.args[0]} is missing") from None
        except TypeError:
            raise ValueError("features must be numbers") from None
        hits.sort(key=_first, reverse=True)
        # The bins pushing risk up most, biggest first; an account with none gets the one that lowers it least.
        reasons = [why for lift, why in hits[:TOP_REASONS] if lift > 0] or [hits[0][1]]
        return Score(_logistic(total), points, reasons)

    def reasons_for(self, features: Mapping[str, float], top: int = TOP_REASONS) -> list[tuple[str, float, Why]]:
        """Every feature's bin for these features, as (scorecard feature, lift, reason), biggest lift first."""
        out = []
        for b in self.binned:
            out.append((b.feature, *b.hits[bisect_left(b.edges, features[b.feature])]))
        for g in self.grids:
            i = g.cells[bisect_left(g.x_edges, features[g.x]) * g.stride + bisect_left(g.y_edges, features[g.y])]
            out.append((f"{g.x} × {g.y}", *g.hits[i]))
        out.sort(key=lambda t: t[1], reverse=True)
        return out[:top]


def _first(t: tuple[float, Why]) -> float:
    return t[0]


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


DEFAULT_PATH = "scorecard.json"


@lru_cache(maxsize=8)
def load_scorecard(path: str | Path | None = None) -> Scorecard:
    """The scorecard at ``path``, or the one shipped with the package; read once."""
    if path is None:
        text = resources.files("backend.scoring").joinpath(DEFAULT_PATH).read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return Scorecard(json.loads(text))


def score(features: Mapping[str, float]) -> Score:
    """Probability, points and reasons for one account's features (see ``features_from_history``)."""
    return load_scorecard().score(features)


def probability(features: Mapping[str, float]) -> float:
    """Just the probability of default next month (no reasons: the fast path for rescoring)."""
    return load_scorecard().probability(features)


def score_history(history: Mapping[str, Any]) -> Score:
    """Score straight from an ``Account.history`` dict."""
    return load_scorecard().score(features_from_history(history))


# --------------------------------------------------------------------------
# UCI rows: the CLI's ``collectdesk score FILE.csv``

#: Columns a UCI row must have to be scored (X2..X5, the protected ones, are never read).
REQUIRED_COLUMNS = (LIMIT_COLUMN, *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS)


def _number(row: Mapping[str, str], column: str) -> Decimal:
    raw = row.get(column)
    if raw is None:
        raise _Bad(column, "missing")
    text = raw.strip()
    if not text:
        raise _Bad(column, "empty")
    try:
        value = Decimal(text)  # limits are sometimes written like 5.00E+05
    except InvalidOperation:
        raise _Bad(column, f"{text!r} is not a number") from None
    if not value.is_finite():
        raise _Bad(column, f"{text!r} is not a number")
    return value


class _Bad(Exception):
    def __init__(self, column: str, problem: str) -> None:
        self.column, self.problem = column, problem


def _uci_features(row: Mapping[str, str]) -> dict[str, float]:
    limit = _number(row, LIMIT_COLUMN)
    if limit <= 0:
        raise _Bad(LIMIT_COLUMN, f"credit limit must be positive, not {row[LIMIT_COLUMN].strip()}")
    status = []
    for c in STATUS_COLUMNS:
        v = _number(row, c)
        if v != v.to_integral_value() or not -2 <= v <= 9:
            raise _Bad(c, f"repayment status must be a whole number from -2 to 9, not {row[c].strip()}")
        status.append(int(v))
    bill = [float(_number(row, c)) for c in BILL_COLUMNS]
    paid = []
    for c in PAID_COLUMNS:
        v = _number(row, c)
        if v < 0:
            raise _Bad(c, f"amount paid cannot be negative ({row[c].strip()})")
        paid.append(float(v))
    return _features(float(limit), status, bill, paid)


def score_uci_row(row: Mapping[str, str]) -> float:
    """Probability of default next month for one row of the UCI file (strings, as ``csv`` reads them).

    Raises ``ScoreInputError`` naming the column when a value is missing or wrong.
    """
    try:
        features = _uci_features(row)
    except _Bad as bad:
        raise ScoreInputError([(None, bad.column, bad.problem)]) from None
    return load_scorecard().probability(features)


def score_csv(in_stream: TextIO, out_stream: TextIO) -> int:
    """Read UCI rows (``ID``, ``X1``..``X23``, ``Y`` optional) and write ``ID,risk`` lines.

    ``risk`` is the probability of default next month with 6 decimals. Columns
    X2..X5 are ignored when present. Nothing is written when any row is bad:
    ``ScoreInputError`` then lists each bad row as ``line N: column: problem``
    (the header is line 1). Returns the number of rows scored.
    """
    card = load_scorecard()
    reader = csv.reader(in_stream)
    try:
        header = next(reader)
    except StopIteration:
        raise ScoreInputError([(1, None, "the file is empty; expected a header with ID and X1..X23")]) from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in ("ID", *REQUIRED_COLUMNS) if c not in header]
    if missing:
        raise ScoreInputError([(1, None, "missing column" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))])
    width = len(header)
    lines: list[str] = []
    errors: list[tuple[int | None, str | None, str]] = []
    for values in reader:
        line = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue  # blank lines say nothing
        if len(values) != width:
            errors.append((line, None, f"{len(values)} fields where the header has {width}"))
            continue
        row = dict(zip(header, values, strict=True))
        row_id = row["ID"].strip()
        if not row_id:
            errors.append((line, "ID", "empty"))
            continue
        try:
            risk = card.probability(_uci_features(row))
        except _Bad as bad:
            errors.append((line, bad.column, bad.problem))
            continue
        row_id = csv_cell(row_id)  # echoed back: never a spreadsheet formula
        if any(ch in row_id for ch in ',"\r\n'):
            row_id = '"' + row_id.replace('"', '""') + '"'
        lines.append(f"{row_id},{risk:.6f}\n")
    if errors:
        raise ScoreInputError(errors)
    out_stream.write("ID,risk\n")
    out_stream.writelines(lines)
    return len(lines)
