"""``bench/many_desks.py`` still runs: two desks forked from its prefork prototype (the probe
desk before them is a plain exec'd one), signed in, measured, stopped; it prints a PSS figure.

Marked ``processes`` (a backend and three desk processes in ptys); about 20 s on two busy cores.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.cli_helpers import child_env

pytestmark = [pytest.mark.desk, pytest.mark.processes]

BENCH = Path(__file__).resolve().parents[2] / "bench" / "many_desks.py"


def test_the_many_desks_bench_measures_two_forked_desks() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--prefork", "--desks", "2", "--solo", "1", "--idle", "1",
                           "--active", "1", "--open-every", "0", "--settle", "0.5", "--accounts", "30"],
                          capture_output=True, text=True, timeout=120, env=child_env())
    assert done.returncode == 0, done.stdout + done.stderr
    pss = re.search(r"\| PSS per desk, idle after launch, mean / median / max \| ([\d.]+) /", done.stdout)
    assert pss and float(pss.group(1)) > 1, done.stdout
    assert "zygote: holds" in done.stdout
    assert re.search(r"≈ \d+ desks by memory", done.stdout)
