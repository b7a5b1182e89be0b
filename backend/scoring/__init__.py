"""The default-risk score: an explainable points scorecard fitted on real card accounts.

``score(features_from_history(account.history))`` gives the probability of
default next month, risk points and the reasons (codes with parameters) behind
them. Pure Python; the fitted scorecard is ``scorecard.json`` beside this file
(see ``README.md`` here for how it was fitted and how well it ranks).
"""

from backend.scoring.features import features_from_history
from backend.scoring.scorecard import (
    Score,
    ScoreInputError,
    load_scorecard,
    probability,
    score,
    score_csv,
    score_history,
    score_uci_row,
)

__all__ = [
    "Score",
    "ScoreInputError",
    "features_from_history",
    "load_scorecard",
    "probability",
    "score",
    "score_csv",
    "score_history",
    "score_uci_row",
]
