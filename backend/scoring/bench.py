"""How fast the pure-Python scorecard is: ``python -m backend.scoring.bench [N]``.

Scores N accounts (default 1,000,000), cycling over the real histories in the
shared UCI file when it is there (synthetic ones otherwise), and prints the
time for each step: features from a history, the full score (probability,
points, reasons), and the probability alone.
"""

from __future__ import annotations

import csv
import gc
import os
import random
import sys
import time
from decimal import Decimal
from itertools import cycle, islice
from pathlib import Path

from backend.scoring.features import features_from_history
from backend.scoring.scorecard import load_scorecard

SHARED_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uci_credit_card" / "uci_credit_card.csv"


def histories() -> tuple[list[dict], str]:
    path = Path(os.environ.get("COLLECTDESK_UCI_CSV") or SHARED_CSV)
    if path.is_file():
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        return [{"limit": int(Decimal(r["X1"])),
                 "status": [int(r[f"X{i}"]) for i in range(6, 12)],
                 "bill": [int(Decimal(r[f"X{i}"])) for i in range(12, 18)],
                 "paid": [int(Decimal(r[f"X{i}"])) for i in range(18, 24)]}
                for r in rows], f"{len(rows)} real histories"
    rng = random.Random(1)
    out = []
    for _ in range(20000):
        limit = rng.choice([10000, 50000, 200000])
        out.append({"limit": limit, "status": [rng.choice([-2, -1, 0, 0, 0, 1, 2, 3]) for _ in range(6)],
                    "bill": [rng.randint(-100, limit) for _ in range(6)],
                    "paid": [rng.choice([0, rng.randint(0, 20000)]) for _ in range(6)]})
    return out, "20000 synthetic histories"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 1_000_000
    hs, what = histories()
    card = load_scorecard()
    feats = [features_from_history(h) for h in hs]
    print(f"{n:,} accounts, cycling over {what}; {len(card.binned)} binned features, {len(card.grids)} pairs")
    gc.disable()  # (nothing here makes cycles; keeps the figures steady)
    try:
        for label, fn, source in (
            ("features_from_history", features_from_history, hs),
            ("score (probability, points, reasons)", card.score, feats),
            ("probability only", card.probability, feats),
        ):
            t = time.perf_counter()
            for x in islice(cycle(source), n):
                fn(x)
            dt = time.perf_counter() - t
            print(f"{label:40s} {dt:6.1f} s  ({dt / n * 1e6:.1f} µs each)")
    finally:
        gc.enable()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
