#!/usr/bin/env python
"""Fit the default-risk scorecard on the 24,000 UCI accounts and write backend/scoring/scorecard.json.

Offline and deterministic (fixed seeds, one BLAS thread: the same file on every
run); needs numpy, scipy and scikit-learn, which the shipped score does not::

    pip install numpy scikit-learn
    python scripts/fit_scorecard.py                    # fit, validate, write the scorecard (~15 s)
    python scripts/fit_scorecard.py --select --tune    # redo the feature selection and tuning (~10 min)

How it works:

1. Rows are read with the same parser as ``collectdesk score`` and turned into
   features by ``backend.scoring.features`` (never X2..X5: sex, education,
   marital status, age; nor the ID).
2. A stratified 20 % of the rows (seed 2005) is held out and only scored at
   the end. Everything else (feature selection, binning, regularisation) is
   chosen by 5-fold stratified cross-validation on the other 80 %.
3. Each feature is binned by a small decision tree on that feature alone; a
   pair is binned by a small tree on the two, whose cut points make a grid.
   Cut points are rounded to numbers a person can say ("NT$1,100", "13 %").
4. A logistic regression with L2 on the bins gives each bin (or grid cell) a
   weight: log-odds = intercept + the account's bin weights. Repayment status
   and counts of late or unpaid months are kept monotone by bounds on the
   coefficients (L-BFGS-B): a later status never weighs less, and no late bin
   weighs less than a bin on time. Each feature's weights are shifted so its
   lowest bin is 0 (the intercept takes the shift); points are the weights on
   a scale where 20 points double the odds of default.
5. The scorecard is written, then read back through the pure-Python scoring
   module to report AUC and KS on the held-out rows: the figures are those of
   the file that ships.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

# One BLAS thread: the fit is many small products, and the same answer on any machine.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy.sparse  # noqa: E402
from scipy.optimize import minimize  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backend.scoring import scorecard as sc  # noqa: E402
from backend.scoring.features import (  # noqa: E402
    BILL_COLUMNS,
    LIMIT_COLUMN,
    NO_BILL,
    PAID_COLUMNS,
    STATUS_COLUMNS,
)
from backend.scoring.validation import ks_statistic, roc_auc, stratified_folds, stratified_split  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "uci_credit_card" / "uci_credit_card.csv"
OUT = ROOT / "backend" / "scoring" / "scorecard.json"

SEED = 2005
HOLDOUT = 0.20
FOLDS = 5

# Chosen by ``--tune`` (5-fold CV on the training rows); see backend/scoring/README.md.
LEAVES = 6  # bins per feature at most (leaves of a one-feature tree)
PAIR_LEAVES = 8  # leaves of a two-feature tree; its cut points make the pair's grid
MIN_LEAF = 200  # fewest training rows in a leaf
C = 0.05  # inverse L2 strength of the logistic regression on the bins
PDO = 20  # points to double the odds
BASE = 500  # points at even odds

# Binning and L2 while selecting (before tuning).
SELECT_WITH = (6, 8, 200, 0.05)

# Chosen by ``--select`` (greedy forward selection by 5-fold CV on the training rows, in this order).
SELECTED: list[str | tuple[str, str]] = [
    ("paid_avg", "late_sum"),
    ("status_now", "util_now"),
    ("worst_status_3m", "spend_avg"),
    "status_now",
    ("bill_now", "util_max"),
    "months_unpaid",
    "worst_status",
    "spend_now",
    "pay_ratio_now",
    ("months_unpaid", "util_now"),
]

# The change in status since last month falls as last month's status rises: with it, being later
# last month could lower the risk. Every other status feature rises (or, months since late, falls)
# with every month's lateness, so the score never drops when any month is later.
NOT_CANDIDATES = {"status_change"}

# Pairs binned together. At most one feature of a pair is monotone (statuses, counts of late months).
CANDIDATE_PAIRS: list[tuple[str, str]] = [
    ("worst_status", "util_now"),
    ("months_since_late", "spend_avg"),
    ("status_now", "pay_ratio_avg"),
    ("worst_status_3m", "spend_avg"),
    ("pay_ratio_avg", "months_since_late"),
    ("status_now", "spend_avg"),
    ("paid_avg", "late_sum"),
    ("paid_avg", "months_since_late"),
    ("paid_avg", "worst_status"),
    ("status_now", "pay_ratio_now"),
    ("status_now", "limit"),
    ("months_unpaid", "util_now"),
    ("bill_now", "util_max"),
    ("status_now", "util_now"),
    ("months_late", "limit"),
]

# --------------------------------------------------------------------------
# What each feature means, for rounding its cut points and wording its bins.
# kind: status (repayment status codes), count (whole months), pct (a share,
# shown in %), signed_pct (a change, in % of the limit), amount (NT$), change
# (status change in months).

FEATURES: dict[str, dict] = {
    "status_now": {"kind": "status", "code": "status_now", "when": "now"},
    "status_last_month": {"kind": "status", "code": "status_last_month", "when": "last month"},
    "worst_status": {"kind": "status", "code": "worst_status_6m", "when": "at worst in the last 6 months",
                     "span": "in the last 6 months"},
    "worst_status_3m": {"kind": "status", "code": "worst_status_3m", "when": "at worst in the last 3 months",
                        "span": "in the last 3 months"},
    "months_late": {"kind": "count", "max": 6, "monotone": 1, "code": "months_late_6m",
                    "what": "late in {} of the last 6 months",
                    "zero": "never late in the last 6 months"},
    "late_sum": {"kind": "count", "monotone": 1, "code": "late_months_total_6m",
                 "what": "months late add up to {} over the last 6 statements",
                 "zero": "never late in the last 6 months"},
    "months_paid_in_full": {"kind": "count", "max": 6, "code": "months_paid_in_full_6m",
                            "what": "paid in full in {} of the last 6 months",
                            "zero": "never paid in full in the last 6 months"},
    "late_streak": {"kind": "count", "max": 6, "monotone": 1, "code": "late_streak", "what": "late {} months running",
                    "zero": "not late now"},
    "months_since_late": {"kind": "count", "monotone": -1, "code": "months_since_late",
                          "what": "last late {} months ago",
                          "zero": "late now", "upto1": "late now or last month",
                          "top": 6, "top_text": "not late in the last 6 months"},
    "status_change": {"kind": "change", "code": "status_change", "monotone": 1},
    "limit": {"kind": "amount", "code": "credit_limit", "what": "credit limit {}"},
    "bill_now": {"kind": "amount", "code": "balance_now", "what": "balance {}", "zero": "no balance owed"},
    "util_now": {"kind": "pct", "code": "utilisation_now", "what": "balance at {} of limit",
                 "zero": "no balance owed"},
    "util_max": {"kind": "pct", "code": "utilisation_max_6m", "what": "highest balance in 6 months at {} of limit",
                 "zero": "no balance owed in the last 6 months"},
    "util_avg": {"kind": "pct", "code": "utilisation_avg_6m", "what": "balance averages {} of limit",
                 "zero": "no balance owed in the last 6 months"},
    "util_trend_3m": {"kind": "signed_pct", "code": "utilisation_change_3m", "span": "in 3 months"},
    "util_trend_6m": {"kind": "signed_pct", "code": "utilisation_change_6m", "span": "in 6 months"},
    "spend_now": {"kind": "amount", "code": "new_spending_now", "what": "new spending {} this month",
                  "zero": "no new spending this month"},
    "spend_avg": {"kind": "amount", "code": "new_spending_avg", "what": "new spending {} a month",
                  "zero": "no new spending"},
    "paid_now": {"kind": "amount", "code": "paid_now", "what": "paid {} this month", "zero": "paid nothing this month"},
    "paid_1m_ago": {"kind": "amount", "code": "paid_1m_ago", "what": "paid {} last month",
                    "zero": "paid nothing last month"},
    "paid_2m_ago": {"kind": "amount", "code": "paid_2m_ago", "what": "paid {} 2 months ago",
                    "zero": "paid nothing 2 months ago"},
    "paid_3m_ago": {"kind": "amount", "code": "paid_3m_ago", "what": "paid {} 3 months ago",
                    "zero": "paid nothing 3 months ago"},
    "paid_4m_ago": {"kind": "amount", "code": "paid_4m_ago", "what": "paid {} 4 months ago",
                    "zero": "paid nothing 4 months ago"},
    "paid_5m_ago": {"kind": "amount", "code": "paid_5m_ago", "what": "paid {} 5 months ago",
                    "zero": "paid nothing 5 months ago"},
    "paid_avg": {"kind": "amount", "code": "paid_avg", "what": "paid {} a month on average",
                 "zero": "paid nothing in 6 months"},
    "paid_max": {"kind": "amount", "code": "paid_max_6m", "what": "largest payment in 6 months {}",
                 "zero": "paid nothing in 6 months"},
    "pay_ratio_now": {"kind": "pct", "code": "paid_share_of_bill_now", "what": "paid {} of the last bill",
                      "zero": "paid nothing towards the last bill", "no_bill": "no bill to pay last month"},
    "pay_ratio_1m_ago": {"kind": "pct", "code": "paid_share_of_bill_1m_ago",
                         "what": "paid {} of the bill the month before",
                         "zero": "paid nothing towards the bill the month before",
                         "no_bill": "no bill to pay 2 months ago"},
    "pay_ratio_avg": {"kind": "pct", "code": "paid_share_of_bills_5m", "what": "paid {} of the bills over 5 months",
                      "zero": "paid nothing towards the bills over 5 months",
                      "no_bill": "no bills to pay in 5 months"},
    "months_unpaid": {"kind": "count", "max": 5, "monotone": 1, "code": "months_unpaid_5m",
                      "what": "paid nothing in {} of the last 5 months",
                      "zero": "paid something towards every bill"},
}


# --------------------------------------------------------------------------
# Data


RAW = (LIMIT_COLUMN, *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS)


def load_rows(path: Path) -> tuple[list[int], list[dict[str, float]], list[int], np.ndarray]:
    """IDs, features, labels, and the raw allowed columns X1, X6..X23 (for the reference model)."""
    ids, feats, ys, raw = [], [], [], []
    with path.open(newline="", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            ids.append(int(row["ID"]))
            feats.append(sc._uci_features(row))  # the parser `collectdesk score` uses
            ys.append(int(row["Y"]))
            raw.append([float(sc._number(row, c)) for c in RAW])
    return ids, feats, ys, np.asarray(raw)


# --------------------------------------------------------------------------
# Binning


def nice(value: float, name: str) -> float:
    """A cut point of a feature rounded to something a person would say."""
    meta = FEATURES[name]
    kind = meta["kind"]
    if kind in ("status", "count", "change"):
        return math.floor(value) + 0.5
    if kind in ("pct", "signed_pct"):
        if "no_bill" in meta and NO_BILL < value < 0:  # keep "no bill" (-1) apart from a 0 % payment
            return NO_BILL / 2
        return round(value, 2) + 0.0  # (+ 0.0 turns -0.0 into 0.0)
    # amounts: whole NT$ under 100, else two significant figures; a cut below 1 separates zero from the rest
    if abs(value) < 1:
        return 0.5 if value >= 0 else -0.5
    if abs(value) < 100:
        return float(round(value))
    digits = 2 - int(math.floor(math.log10(abs(value)))) - 1
    return float(round(value, digits))


def tree_cuts(X: np.ndarray, y: np.ndarray, leaves: int, min_leaf: int) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(max_leaf_nodes=leaves, min_samples_leaf=min_leaf, random_state=0).fit(X, y)


def rounded_cuts(t: DecisionTreeClassifier, names: Sequence[str]) -> list[list[float]]:
    """Each feature's cut points in a fitted tree, rounded; a status is always cut between on time and late."""
    tree = t.tree_
    cuts = []
    for a, name in enumerate(names):
        edges = {nice(float(v), name) for v, f in zip(tree.threshold, tree.feature, strict=True) if f == a}
        if FEATURES[name]["kind"] == "status":
            edges.add(0.5)
        cuts.append(sorted(edges))
    return cuts


def monotone(name: str) -> int:
    """+1: more of it never lowers risk; -1: more of it never raises risk; 0: free (see FEATURES)."""
    return FEATURES[name].get("monotone", 0)


def axis_encoding(edges: Sequence[float], name: str) -> tuple[np.ndarray, list[tuple[float | None, float | None]]]:
    """How the weights of a feature's bins are parametrised: (bins × parameters matrix, bounds).

    Free features: one weight per bin. Monotone counts: a first bin and non-negative
    (or non-positive) steps up from bin to bin. Statuses: the bins on time or
    better each at most the "1 month late" bin, and the late bins rising from it
    (so being late never scores lower than not being late, and later never lower
    than less late).
    """
    n = len(edges) + 1
    kind = FEATURES[name]["kind"]
    direction = monotone(name)
    if kind == "status":
        ref = 1 + list(edges).index(0.5)  # the first late bin
        cols, bounds = [], []
        for k in range(ref):  # on time or better: below the first late bin
            cols.append([1.0 if b == k else 0.0 for b in range(n)])
            bounds.append((None, 0.0))
        for k in range(ref + 1, n):  # later: steps up
            cols.append([1.0 if b >= k else 0.0 for b in range(n)])
            bounds.append((0.0, None))
        return np.asarray(cols, dtype=float).T.reshape(n, len(cols)), bounds
    if direction:
        cols = [[1.0 if b >= k else 0.0 for b in range(n)] for k in range(1, n)]
        bound = (0.0, None) if direction > 0 else (None, 0.0)
        return np.asarray(cols, dtype=float).T.reshape(n, len(cols)), [bound] * len(cols)
    return np.eye(n), [(None, None)] * n


class Term:
    """One scorecard feature (or pair): its cut points, its bins, and how their weights are parametrised."""

    def __init__(self, term: str | tuple[str, str], cols: dict[str, np.ndarray], rows: np.ndarray, y: np.ndarray,
                 leaves: int, pair_leaves: int, min_leaf: int) -> None:
        self.term = term
        self.names = list(term) if isinstance(term, tuple) else [term]
        X = np.column_stack([cols[n][rows] for n in self.names])
        self.edges = rounded_cuts(tree_cuts(X, y[rows], pair_leaves if len(self.names) == 2 else leaves, min_leaf),
                                  self.names)
        if len(self.names) == 1:
            self.encoding, self.bounds = axis_encoding(self.edges[0], self.names[0])
            return
        # A pair: the grid of both features' cut points, one weight per cell; along a monotone
        # feature the cells of each column of the other one keep that feature's order.
        nx, ny = (len(e) + 1 for e in self.edges)
        mono = [a for a in (0, 1) if FEATURES[self.names[a]]["kind"] == "status" or monotone(self.names[a])]
        if len(mono) > 1:
            raise ValueError(f"pair {term}: at most one monotone feature")
        if not mono:
            self.encoding, self.bounds = np.eye(nx * ny), [(None, None)] * (nx * ny)
            return
        a = mono[0]
        along, b_ = axis_encoding(self.edges[a], self.names[a])
        n_other = (ny, nx)[a]
        rows_enc = []
        for i in range(nx):
            for j in range(ny):
                m, o = (i, j) if a == 0 else (j, i)  # index along the monotone feature, and the other one
                base = np.zeros(n_other)
                base[o] = 1.0
                steps = np.zeros((n_other, along.shape[1]))
                steps[o] = along[m]
                rows_enc.append(np.concatenate([base, steps.ravel()]))
        bounds = [(None, None)] * n_other + [bd for _ in range(n_other) for bd in b_]
        self.encoding, self.bounds = np.asarray(rows_enc), bounds

    @property
    def n_bins(self) -> int:
        return self.encoding.shape[0]

    def index(self, cols: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """Each row's bin (for a pair: its grid cell, row-major)."""
        ix = [np.searchsorted(e, cols[n][rows], side="left") for e, n in zip(self.edges, self.names, strict=True)]
        if len(ix) == 1:
            return ix[0]
        return ix[0] * (len(self.edges[1]) + 1) + ix[1]

    def block(self, cols: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return self.encoding[self.index(cols, rows)]


class Design:
    """Terms binned on some rows, applied to any rows."""

    def __init__(self, terms, cols, rows, y, leaves, pair_leaves, min_leaf) -> None:
        self.terms = [Term(t, cols, rows, y, leaves, pair_leaves, min_leaf) for t in terms]

    def matrix(self, cols: dict[str, np.ndarray], rows: np.ndarray) -> scipy.sparse.csr_matrix:
        return scipy.sparse.hstack([scipy.sparse.csr_matrix(t.block(cols, rows)) for t in self.terms], format="csr")

    @property
    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [b for t in self.terms for b in t.bounds]


class Logistic:
    """L2-penalised logistic regression with bounds on coefficients (L-BFGS-B); the intercept is free.

    Minimises  C * sum of log-losses + ||w||^2 / 2, as scikit-learn's LogisticRegression does.
    """

    def __init__(self, X: scipy.sparse.csr_matrix, y: np.ndarray, c: float, bounds) -> None:
        n, m = X.shape
        yf = y.astype(float)
        Xt = X.T.tocsr()

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:m], theta[m]
            z = X @ w + b
            # log(1 + e^z) - y z, stably
            ll = np.logaddexp(0.0, z) - yf * z
            r = 1.0 / (1.0 + np.exp(-z)) - yf
            f = c * ll.sum() + 0.5 * w @ w
            g = np.concatenate([c * (Xt @ r) + w, [c * r.sum()]])
            return f, g

        res = minimize(loss, np.zeros(m + 1), jac=True, method="L-BFGS-B", bounds=[*bounds, (None, None)],
                       options={"maxiter": 20000, "maxfun": 40000, "ftol": 1e-10, "gtol": 1e-6})
        self.coef = res.x[:m]
        self.intercept = float(res.x[m])
        self.converged = bool(res.success)

    def decision_function(self, X) -> np.ndarray:
        return X @ self.coef + self.intercept


def fit_design(terms, cols, y, rows, *, leaves, pair_leaves, min_leaf, c) -> tuple[Design, Logistic]:
    d = Design(terms, cols, rows, y, leaves, pair_leaves, min_leaf)
    return d, Logistic(d.matrix(cols, rows), y[rows], c, d.bounds)


def cv_auc(terms, cols, y, train, fold_of, *, leaves, pair_leaves, min_leaf, c) -> list[float]:
    aucs = []
    for k in range(FOLDS):
        fit_rows = train[fold_of[train] != k]
        val_rows = train[fold_of[train] == k]
        d, m = fit_design(terms, cols, y, fit_rows, leaves=leaves, pair_leaves=pair_leaves, min_leaf=min_leaf, c=c)
        aucs.append(roc_auc(y[val_rows].tolist(), m.decision_function(d.matrix(cols, val_rows)).tolist()))
    return aucs


# --------------------------------------------------------------------------
# Words for bins


def _int_range(lo: float | None, hi: float | None) -> tuple[int | None, int | None]:
    """(lo, hi] on whole numbers, as an inclusive range."""
    return (None if lo is None else math.floor(lo) + 1, None if hi is None else math.floor(hi))


STATUS_WORDS = {(-2, -2): "card not used", (-1, -1): "paid in full", (0, 0): "paid the minimum",
                (-2, -1): "paid in full or card not used", (-1, 0): "not late", (-2, 0): "not late"}


WORST_STATUS_WORDS = {(-2, -2): "card not used", (-1, -1): "always paid in full or card not used",
                      (0, 0): "never late but not always paid in full",
                      (-2, -1): "always paid in full or card not used",
                      (-1, 0): "never late", (-2, 0): "never late"}


def _months(n: int) -> str:
    return f"{n} month{'s' if n != 1 else ''}"


def _whole(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


def _money(v: float) -> str:
    return f"NT${v:,.0f}"


def _pct(v: float) -> str:
    return f"{v * 100:.0f} %"


def describe(name: str, lo: float | None, hi: float | None) -> tuple[str, str, dict]:
    """(code, English text, params) of the bin lo < value <= hi of a feature (None: open)."""
    meta = FEATURES[name]
    kind, code = meta["kind"], meta["code"]
    if kind == "status":
        return _describe_status(meta, *_int_range(lo, hi))
    if kind == "change":
        return _describe_change(code, *_int_range(lo, hi))
    if kind == "count":
        return _describe_count(meta, *_int_range(lo, hi))
    if kind == "amount":
        return _describe_amount(meta, lo, hi)
    if kind == "pct":
        return _describe_pct(meta, lo, hi)
    if kind == "signed_pct":
        return _describe_signed_pct(meta, lo, hi)
    raise ValueError(kind)


def _describe_status(meta: dict, a: int | None, b: int | None) -> tuple[str, str, dict]:
    code, when = meta["code"], meta["when"]
    a = -2 if a is None else max(a, -2)
    if b is not None and b <= 0:
        if "span" in meta:  # the worst status over several months
            return code, f"{WORST_STATUS_WORDS[(a, b)]} {meta['span']}", {"min_status": a, "max_status": b}
        return code, f"{STATUS_WORDS[(a, b)]} {when}", {"min_status": a, "max_status": b}
    if a >= 1:
        if b == a:
            return code, f"{_months(a)} late {when}", {"months": a}
        if b is None:
            return code, f"{a} or more months late {when}", {"min_months": a}
        return code, f"{a}–{b} months late {when}", {"min_months": a, "max_months": b}
    if b is None:
        return code, f"any status {when}", {}
    return code, f"at most {_months(b)} late {when}", {"max_months": b}


def _describe_change(code: str, a: int | None, b: int | None) -> tuple[str, str, dict]:
    params = {k: v for k, v in (("min", a), ("max", b)) if v is not None}
    if a is not None and a >= 1:
        words = (f"{_months(a)} later" if b == a else f"{a}–{b} months later" if b is not None
                 else f"{a} or more months later")
    elif b is not None and b <= -1:
        words = (f"{_months(-b)} less late" if a == b else f"{-b}–{-a} months less late" if a is not None
                 else f"{-b} or more months less late")
    elif a == b == 0:
        return code, "no later than last month", params
    elif a is None and b is None:
        return code, "any change since last month", params
    else:
        parts = ([f"at most {_months(b)} later"] if b is not None else []) + (
            [f"at most {_months(-a)} less late"] if a is not None else [])
        words = " and ".join(parts)
    return code, f"{words} than last month", params


def _describe_count(meta: dict, a: int | None, b: int | None) -> tuple[str, str, dict]:
    code = meta["code"]
    a = 0 if a is None or a < 0 else a
    if b is None and a == meta.get("max"):
        b = a
    params = {"min": a} | ({"max": b} if b is not None else {})
    if a == 0 and b == 0 and "zero" in meta:
        return code, meta["zero"], params
    if a == 0 and b == 1 and "upto1" in meta:
        return code, meta["upto1"], params
    if b is None and a == meta.get("top"):
        return code, meta["top_text"], params
    if b == a:
        words = str(a)
    elif b is None:
        words = f"{a} or more"
    elif a == 0:
        words = f"at most {b}"
    else:
        words = f"{a}–{b}"
    return code, meta["what"].format(words), params


def _describe_amount(meta: dict, lo: float | None, hi: float | None) -> tuple[str, str, dict]:
    code = meta["code"]
    params: dict = {"currency": "TWD"}
    if lo is not None and lo >= 1:
        params["over"] = _whole(lo)
    if hi is not None:
        params["max"] = _whole(hi)
    if hi is not None and hi < 1 and "zero" in meta:
        return code, meta["zero"], params  # nothing (or, for balances, a credit)
    if hi is None and lo is None:
        words = "any amount"
    elif hi is None:
        words = f"over {_money(lo)}" if lo >= 1 else "something"
    elif lo is not None and lo >= 1:
        words = f"{_money(lo)}–{hi:,.0f}"
    else:
        words = f"up to {_money(hi)}"
    return code, meta["what"].format(words), params


def _describe_pct(meta: dict, lo: float | None, hi: float | None) -> tuple[str, str, dict]:
    code = meta["code"]
    no_bill = meta.get("no_bill")
    with_no_bill = bool(no_bill) and (lo is None or lo < NO_BILL) and (hi is None or hi >= NO_BILL)
    if no_bill and hi is not None and hi < 0:
        return code, no_bill, {"no_bill": True}
    low = lo if lo is not None and lo >= 0 else None  # shares are never below 0 (but for "no bill")
    params: dict = {}
    if low is not None:
        params["over_pct"] = round(low * 100)
    if hi is not None:
        params["max_pct"] = round(hi * 100)
    if with_no_bill:
        params["or_no_bill"] = True
    if hi is not None and hi <= 0 and low is None:
        text = meta["zero"]
    else:
        if low is not None and hi is not None:
            words = f"{low * 100:.0f}–{_pct(hi)}" if low > 0 else f"up to {_pct(hi)}"
        elif hi is not None:
            words = f"{_pct(hi)} or less"
        elif low is not None:
            words = f"over {_pct(low)}"
        else:
            words = "any share"
        text = meta["what"].format(words)
    if with_no_bill:
        text += f", or {no_bill}"
    return code, text, params


def _describe_signed_pct(meta: dict, lo: float | None, hi: float | None) -> tuple[str, str, dict]:
    code, span = meta["code"], meta["span"]
    params = {k: round(v * 100) for k, v in (("over_pct", lo), ("max_pct", hi)) if v is not None}
    if lo is None and hi is None:
        text = "any change in balance"
    elif lo is None:
        text = (f"balance fell by {_pct(-hi)} of limit or more" if hi < 0 else
                "balance fell or stayed the same" if hi == 0 else f"balance rose by at most {_pct(hi)} of limit")
    elif hi is None:
        text = f"balance rose by over {_pct(lo)} of limit" if lo > 0 else (
            "balance rose" if lo == 0 else f"balance fell by under {_pct(-lo)} of limit, or rose")
    elif hi <= 0:
        text = (f"balance fell by {-hi * 100:.0f}–{_pct(-lo)} of limit" if hi < 0 else
                f"balance fell by under {_pct(-lo)} of limit, or stayed the same")
    elif lo >= 0:
        text = (f"balance rose by {lo * 100:.0f}–{_pct(hi)} of limit" if lo > 0
                else f"balance rose by up to {_pct(hi)} of limit")
    else:
        text = f"balance moved between a fall of {_pct(-lo)} and a rise of {_pct(hi)} of limit"
    return code, f"{text} {span}", params


def ranges(edges: Sequence[float]) -> list[tuple[float | None, float | None]]:
    bounds = [None, *edges, None]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


# --------------------------------------------------------------------------
# The scorecard file


def build(terms, cols, y, train, *, leaves, pair_leaves, min_leaf, c) -> dict:
    d, m = fit_design(terms, cols, y, train, leaves=leaves, pair_leaves=pair_leaves, min_leaf=min_leaf, c=c)
    if not m.converged:
        print("warning: the logistic fit did not report convergence", file=sys.stderr)
    intercept = m.intercept
    factor = PDO / math.log(2)
    features = []
    at = 0
    for t in d.terms:
        width = t.encoding.shape[1]
        w = t.encoding @ m.coef[at:at + width]  # each bin's weight
        at += width
        shift = float(w.min())  # the lowest bin of each feature scores 0; the intercept takes the rest
        intercept += shift
        w = [float(v) - shift for v in w]
        share = np.bincount(t.index(cols, train), minlength=t.n_bins) / len(train)
        reference = float(np.dot(share, w))
        if len(t.names) == 2:
            bins = []
            for (bx, by), wv, sh in zip(((bx, by) for bx in ranges(t.edges[0]) for by in ranges(t.edges[1])),
                                        w, share, strict=True):
                parts = [describe(n, lo, hi) for n, (lo, hi) in zip(t.names, (bx, by), strict=True)
                         if lo is not None or hi is not None]
                code = "+".join(p[0] for p in parts)
                text = ", ".join(p[1] for p in parts)
                params = {f"{p[0]}.{key}": v for p in parts for key, v in p[2].items()}
                bins.append(_bin(wv, factor, sh, code, text, params, [list(bx), list(by)]))
            features.append({"name": f"{t.names[0]} × {t.names[1]}", "kind": "grid", "features": t.names,
                             "x_edges": t.edges[0], "y_edges": t.edges[1],
                             "cells": list(range(len(bins))), "reference": round(reference, 6), "bins": bins})
            continue
        name, edges = t.names[0], t.edges[0]
        if FEATURES[name]["kind"] in ("status", "count", "change"):
            # Whole-number features get one bin per value (with the weight of the fitted bin it lies in),
            # so a reason can say "4 months late now" rather than "2 or more months late now".
            x = cols[name][train]
            top = min(float(x.max()), float(np.quantile(x, 0.999)), float(x.min()) + 12)
            fine = sorted({v + 0.5 for v in range(int(x.min()), int(top))} | set(edges))
            parent = np.searchsorted(edges, [*fine, fine[-1] + 1] if fine else [0.0], side="left")
            w = [w[j] for j in parent]
            share = np.bincount(np.searchsorted(fine, x, side="left"), minlength=len(fine) + 1) / len(x)
            edges = fine
        bins = [_bin(wv, factor, sh, *describe(name, lo, hi), [lo, hi])
                for (lo, hi), wv, sh in zip(ranges(edges), w, share, strict=True)]
        features.append({"name": name, "kind": "bins", "feature": name, "edges": edges,
                         "reference": round(reference, 6), "bins": bins})
    return {
        "format": "collectdesk-scorecard/1",
        "target": "probability of default on the payment due next month",
        "source_columns": [LIMIT_COLUMN, *STATUS_COLUMNS, *BILL_COLUMNS, *PAID_COLUMNS],
        "intercept": round(intercept, 6),
        "points": {"base": round(BASE + factor * intercept), "pdo": PDO, "even_odds": BASE,
                   "meaning": "risk points: higher is riskier; pdo more points double the odds of default"},
        "fit": {"rows": int(len(train)), "seed": SEED, "holdout": HOLDOUT, "folds": FOLDS, "leaves": leaves,
                "pair_leaves": pair_leaves, "min_leaf": min_leaf, "C": c},
        "features": features,
    }


def _bin(weight: float, factor: float, share: float, code: str, text: str, params: dict, range_) -> dict:
    return {"weight": round(weight, 6), "points": round(factor * weight), "share": round(float(share), 4),
            "code": code, "text": text, "params": params, "range": range_}


# --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--tune", action="store_true", help="pick binning and L2 by 5-fold CV on the training rows")
    ap.add_argument("--select", action="store_true", help="redo the forward selection of features (slow)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    ids, feats, ys, raw = load_rows(args.data)
    y = np.asarray(ys)
    names = list(feats[0])
    cols = {n: np.asarray([f[n] for f in feats], dtype=float) for n in names}
    held = stratified_split(ids, ys, fraction=HOLDOUT, seed=SEED)
    is_held = np.asarray([i in held for i in ids])
    train = np.flatnonzero(~is_held)
    test = np.flatnonzero(is_held)
    train_ids = [ids[i] for i in train]
    folds = stratified_folds(train_ids, [ys[i] for i in train], k=FOLDS, seed=SEED)
    fold_of = np.full(len(ids), -1)
    for i in train:
        fold_of[i] = folds[ids[i]]
    print(f"{len(ids)} rows: {len(train)} to fit, {len(test)} held out (seed {SEED}); "
          f"default rate {y[train].mean():.3f} / {y[test].mean():.3f}", file=sys.stderr)

    leaves, pair_leaves, min_leaf, c = LEAVES, PAIR_LEAVES, MIN_LEAF, C
    terms: list = list(SELECTED)

    if args.select or not terms:
        terms = forward_select(names, cols, y, train, fold_of, *SELECT_WITH)
    if args.tune:
        leaves, pair_leaves, min_leaf, c = tune(terms, cols, y, train, fold_of)

    cv = cv_auc(terms, cols, y, train, fold_of, leaves=leaves, pair_leaves=pair_leaves, min_leaf=min_leaf, c=c)
    card = build(terms, cols, y, train, leaves=leaves, pair_leaves=pair_leaves, min_leaf=min_leaf, c=c)

    # Figures of the file as shipped: reload it through the pure-Python scorer.
    args.out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(card, indent=1, ensure_ascii=False) + "\n"
    scorer = sc.Scorecard(json.loads(text))
    p_test = [scorer.probability(feats[i]) for i in test]
    y_test = y[test].tolist()
    card["validation"] = {
        "holdout_rows": len(test),
        "holdout_id_sum": int(sum(ids[i] for i in test)),
        "holdout_auc": round(roc_auc(y_test, p_test), 4),
        "holdout_ks": round(ks_statistic(y_test, p_test), 4),
        "cv_auc_mean": round(statistics.mean(cv), 4),
        "cv_auc_sd": round(statistics.stdev(cv), 4),
    }
    refs = references(cols, raw, y, train, test, fold_of)
    card["validation"]["references"] = refs
    args.out.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    v = card["validation"]
    print(f"features: {terms}", file=sys.stderr)
    print(f"binning: {leaves} leaves, pairs {pair_leaves}, min leaf {min_leaf}; C={c}", file=sys.stderr)
    print("| model | holdout AUC | holdout KS | 5-fold CV AUC (training rows) |")
    print("| --- | --- | --- | --- |")
    print(f"| scorecard | {v['holdout_auc']:.4f} | {v['holdout_ks']:.4f} | "
          f"{v['cv_auc_mean']:.4f} ± {v['cv_auc_sd']:.4f} |")
    for r in refs:
        print(f"| {r['model']} | {r['holdout_auc']:.4f} | {r['holdout_ks']:.4f} | "
              f"{r['cv_auc_mean']:.4f} ± {r['cv_auc_sd']:.4f} |")
    # Rows in ID order: fit on IDs up to 19200, check on 19201..24000 (the unseen rows are IDs above 24000).
    ordered = np.argsort(ids)
    early, late = ordered[: len(ids) * 4 // 5], ordered[len(ids) * 4 // 5:]
    d, m = fit_design(terms, cols, y, early, leaves=leaves, pair_leaves=pair_leaves, min_leaf=min_leaf, c=c)
    by_id = roc_auc(y[late].tolist(), m.decision_function(d.matrix(cols, late)).tolist())
    print(f"\nsame recipe fitted on IDs {ids[early[0]]}..{ids[early[-1]]}, "
          f"checked on IDs {ids[late[0]]}..{ids[late[-1]]}: "
          f"AUC {by_id:.4f}")
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return 0


def references(cols, raw, y, train, test, fold_of) -> list[dict]:
    """X6 alone, and a plain logistic regression on the raw allowed columns, measured the same way."""

    def x6(rows_fit, rows_eval):
        return cols["status_now"][rows_eval]

    def logistic(rows_fit, rows_eval):
        scaler = StandardScaler().fit(raw[rows_fit])
        model = LogisticRegression(max_iter=5000).fit(scaler.transform(raw[rows_fit]), y[rows_fit])
        return model.decision_function(scaler.transform(raw[rows_eval]))

    every = np.column_stack([cols[n] for n in sorted(FEATURES)])

    def boosted(rows_fit, rows_eval):
        model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.03, max_leaf_nodes=15,
                                               min_samples_leaf=100, random_state=0)
        return model.fit(every[rows_fit], y[rows_fit]).predict_proba(every[rows_eval])[:, 1]

    out = []
    for label, fn in (("X6 (status now) alone", x6), ("plain logistic on X1, X6..X23", logistic),
                      ("gradient-boosted trees on all candidate features (not shipped)", boosted)):
        s = fn(train, test)
        cvs = []
        for k in range(FOLDS):
            fit_rows = train[fold_of[train] != k]
            val_rows = train[fold_of[train] == k]
            cvs.append(roc_auc(y[val_rows].tolist(), fn(fit_rows, val_rows).tolist()))
        out.append({"model": label, "holdout_auc": round(roc_auc(y[test].tolist(), s.tolist()), 4),
                    "holdout_ks": round(ks_statistic(y[test].tolist(), s.tolist()), 4),
                    "cv_auc_mean": round(statistics.mean(cvs), 4), "cv_auc_sd": round(statistics.stdev(cvs), 4)})
    return out


def forward_select(names, cols, y, train, fold_of, leaves, pair_leaves, min_leaf, c) -> list:
    """Greedy forward selection: add the feature or pair that lifts the 5-fold CV AUC most, while it lifts it."""
    pool: list = [n for n in names if n in FEATURES and n not in NOT_CANDIDATES] + list(CANDIDATE_PAIRS)
    chosen: list = []
    best = 0.0
    while pool:
        trials = []
        for term in pool:
            aucs = cv_auc([*chosen, term], cols, y, train, fold_of, leaves=leaves, pair_leaves=pair_leaves,
                          min_leaf=min_leaf, c=c)
            trials.append((statistics.mean(aucs), term))
        auc, term = max(trials, key=lambda t: t[0])
        if auc < best + 0.0001:
            break
        best = auc
        chosen.append(term)
        pool.remove(term)
        print(f"  select {best:.4f} + {term}", file=sys.stderr, flush=True)
    return chosen


def tune(terms, cols, y, train, fold_of):
    best = None
    for leaves in (4, 6, 8):
        for pair_leaves in (6, 8, 12):
            for min_leaf in (100, 200, 400):
                for c in (0.01, 0.02, 0.05, 0.1):
                    aucs = cv_auc(terms, cols, y, train, fold_of, leaves=leaves, pair_leaves=pair_leaves,
                                  min_leaf=min_leaf, c=c)
                    m = statistics.mean(aucs)
                    print(f"  tune leaves={leaves} pairs={pair_leaves} min_leaf={min_leaf} C={c}: {m:.4f}",
                          file=sys.stderr, flush=True)
                    if best is None or m > best[0]:
                        best = (m, leaves, pair_leaves, min_leaf, c)
    return best[1:]


if __name__ == "__main__":
    raise SystemExit(main())
