"""AUC, KS and the splits, in pure Python."""

from __future__ import annotations

import random

import pytest

from backend.scoring.validation import ks_statistic, roc_auc, stratified_folds, stratified_split


def _auc_by_pairs(labels, scores):
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg) / (len(pos) * len(neg))


def test_auc_known_values():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]) == 0.0
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75


def test_auc_matches_counting_pairs_with_ties():
    rng = random.Random(5)
    labels = [rng.random() < 0.3 for _ in range(400)]
    scores = [rng.choice(range(20)) + (3 if y else 0) for y in labels]
    assert roc_auc(labels, scores) == pytest.approx(_auc_by_pairs(labels, scores), abs=1e-12)


def test_ks_known_values():
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert ks_statistic([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.0
    assert ks_statistic([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.5


def test_metrics_need_both_classes():
    with pytest.raises(ValueError):
        roc_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError):
        ks_statistic([0, 0], [0.1, 0.2])


def test_split_is_stratified_and_deterministic():
    ids = list(range(1, 1001))
    labels = [1 if i % 5 == 0 else 0 for i in ids]
    held = stratified_split(ids, labels, fraction=0.2, seed=1)
    assert held == stratified_split(list(reversed(ids)), list(reversed(labels)), fraction=0.2, seed=1)
    assert len(held) == 200
    assert sum(labels[i - 1] for i in held) == 40
    assert held != stratified_split(ids, labels, fraction=0.2, seed=2)


def test_folds_cover_every_row_evenly():
    ids = list(range(1, 1001))
    labels = [1 if i % 4 == 0 else 0 for i in ids]
    folds = stratified_folds(ids, labels, k=5, seed=3)
    assert set(folds) == set(ids)
    for k in range(5):
        members = [i for i, f in folds.items() if f == k]
        assert len(members) == 200
        assert sum(labels[i - 1] for i in members) == 50
