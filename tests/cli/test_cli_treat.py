"""``collectdesk treat`` (issue 20 item 4): ``--dry-run`` prints each message due with the
law's answer now and writes nothing; a real run with no channel configured keeps every
message pending (said as "not configured") and a second run finds nothing new."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable

from cli_helpers import Run

AS_OF = "2026-03-11"
LINE = re.compile(r"^\S+ (champion|challenger)/[a-z0-9_]+ (email|sms|letter) [a-z0-9_]+ \(.+\): "
                  r"(would send|would wait \(the (email|sms) channel is not configured\)|would wait until \S+ \(.+\)|would skip \(.+\)|would fail \(.+\)|paused)$")


def _rows(url: str) -> list[tuple[str, str]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        return db.execute("SELECT step_id, status FROM treatment_sends ORDER BY id").fetchall()


def test_a_dry_run_says_what_would_go_and_why_and_writes_nothing(cli: Callable[..., Run], migrated_url: str) -> None:
    assert cli("seed", "--accounts", "60", "--db", migrated_url).code == 0
    run = cli("treat", "--dry-run", "--as-of", AS_OF, "--db", migrated_url)
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[-1].startswith(f"dry run as of {AS_OF}: ") and lines[-1].endswith("nothing sent")
    due = lines[:-1]
    assert due, "a seeded portfolio has accounts past due"
    for line in due:
        assert LINE.match(line), line
    assert _rows(migrated_url) == []


def test_a_run_without_channels_keeps_its_messages_and_a_second_finds_nothing_new(
        cli: Callable[..., Run], migrated_url: str) -> None:
    assert cli("seed", "--accounts", "60", "--db", migrated_url).code == 0
    first = cli("treat", "--as-of", AS_OF, "--db", migrated_url)
    assert first.code == 0, first.err
    summary = first.out.splitlines()[-1]
    assert summary.startswith(f"treatments as of {AS_OF} (run 1): ")
    assert "not configured" in summary
    rows = _rows(migrated_url)
    assert rows and {status for step, status in rows if not step.startswith("letter") and "demand" not in step} \
        <= {"pending", "skipped", "waiting"}
    second = cli("treat", "--as-of", AS_OF, "--db", migrated_url)
    assert second.code == 0, second.err
    assert "0 steps newly due" in second.out.splitlines()[-1]
    assert len(_rows(migrated_url)) == len(rows)
