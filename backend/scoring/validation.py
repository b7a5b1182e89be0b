"""Validation in pure Python: the held-out split, cross-validation folds, ROC AUC and KS.

No numpy or scikit-learn here, so the tests can check the shipped scorecard on
the held-out rows with nothing but the standard library, and the fit script
splits the rows exactly the way the tests do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence


def stratified_split(ids: Sequence[int], labels: Sequence[int], *, fraction: float, seed: int) -> set[int]:
    """The IDs held out: ``fraction`` of each class, drawn with a fixed seed.

    Deterministic for the same IDs, labels, fraction and seed (IDs are sorted
    first, so the order of the rows does not matter).
    """
    held: set[int] = set()
    rng = random.Random(seed)
    for cls in sorted(set(labels)):
        members = sorted(i for i, y in zip(ids, labels, strict=True) if y == cls)
        rng.shuffle(members)
        held.update(members[: round(len(members) * fraction)])
    return held


def stratified_folds(ids: Sequence[int], labels: Sequence[int], *, k: int, seed: int) -> dict[int, int]:
    """Each ID's fold (0..k-1), every fold with the same share of each class (to one row)."""
    fold: dict[int, int] = {}
    rng = random.Random(seed)
    for cls in sorted(set(labels)):
        members = sorted(i for i, y in zip(ids, labels, strict=True) if y == cls)
        rng.shuffle(members)
        for n, i in enumerate(members):
            fold[i] = n % k
    return fold


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve (ties count one half), by the rank-sum formula."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda t: t[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        raise ValueError("AUC needs both classes")
    rank_sum = 0.0
    i = 0
    n = len(pairs)
    while i < n:
        j = i
        while j + 1 < n and pairs[j + 1][0] == pairs[i][0]:
            j += 1
        mid_rank = (i + j) / 2 + 1  # ranks are 1-based; tied scores share the mean rank
        rank_sum += mid_rank * sum(1 for t in range(i, j + 1) if pairs[t][1])
        i = j + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def ks_statistic(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Kolmogorov–Smirnov: the largest gap between the score distributions of the two classes."""
    pairs = sorted(zip(scores, labels, strict=True), key=lambda t: t[0])
    n_pos = sum(1 for _, y in pairs if y)
    n_neg = len(pairs) - n_pos
    if not n_pos or not n_neg:
        raise ValueError("KS needs both classes")
    best = cum_pos = cum_neg = 0.0
    i = 0
    n = len(pairs)
    while i < n:
        score = pairs[i][0]
        while i < n and pairs[i][0] == score:  # step over ties together
            if pairs[i][1]:
                cum_pos += 1
            else:
                cum_neg += 1
            i += 1
        best = max(best, abs(cum_neg / n_neg - cum_pos / n_pos))
    return best
