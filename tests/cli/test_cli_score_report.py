"""``collectdesk score FILE.csv`` (UCI rows in, ``ID,risk`` out) and
``collectdesk report strategies`` (champion against challenger)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path

import pytest
from cli_helpers import run_child

HEADER = "ID,X1,X2,X3,X4,X5,X6,X7,X8,X9,X10,X11,X12,X13,X14,X15,X16,X17,X18,X19,X20,X21,X22,X23,Y"
ROWS = [
    # two months late, paying nothing: risky
    "1,20000,2,2,1,24,2,2,-1,-1,-2,-2,3913,3102,689,0,0,0,0,689,0,0,0,0,1",
    # paid in full every month
    "7,500000,1,1,2,29,-1,-1,-1,-1,-1,-1,367965,412023,445007,542653,483003,473944,55000,40000,38000,20239,13750,13770,0",
    # revolving, paying the minimum
    "3,90000,2,2,2,34,0,0,0,0,0,0,29239,14027,13559,14331,14948,15549,1518,1500,1000,1000,1000,5000,0",
]
SHARED_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "uci_credit_card" / "uci_credit_card.csv"


def _write(path: Path, lines: list[str], bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _risks(out: str) -> dict[str, float]:
    lines = out.splitlines()
    assert lines[0] == "ID,risk"
    return {row_id: float(risk) for row_id, risk in (line.split(",") for line in lines[1:])}


# --------------------------------------------------------------------------
# score


def test_score_writes_id_and_risk_for_each_row(cli, tmp_path: Path) -> None:  # noqa: ANN001
    from backend.scoring.scorecard import score_uci_row

    path = _write(tmp_path / "accounts.csv", [HEADER, *ROWS], bom=True)  # a BOM and CRLF, as Excel writes them
    run = cli("score", str(path))
    assert run.code == 0, run.err
    assert run.err == ""
    risks = _risks(run.out)
    assert list(risks) == ["1", "7", "3"]  # the file's order
    for line in ROWS:
        row = dict(zip(HEADER.split(","), line.split(","), strict=True))
        assert risks[row["ID"]] == pytest.approx(score_uci_row(row), abs=5e-7)
    assert risks["1"] > max(risks["3"], risks["7"]) and risks["1"] > 0.5
    assert all(0 < r < 1 for r in risks.values())


def test_score_reads_stdin_and_needs_no_y_nor_protected_columns(tmp_path: Path) -> None:
    columns = HEADER.split(",")
    keep = [i for i, c in enumerate(columns) if c not in ("X2", "X3", "X4", "X5", "Y")]
    text = "\n".join(",".join(line.split(",")[i] for i in keep) for line in [HEADER, *ROWS]) + "\n"
    run = run_child("score", "-", input=text)
    assert run.code == 0, run.err
    assert list(_risks(run.out)) == ["1", "7", "3"]


def test_a_bad_file_names_every_bad_line_and_writes_nothing(cli, tmp_path: Path) -> None:  # noqa: ANN001
    bad_status = ROWS[0].split(",")
    bad_status[7] = "two"  # X7
    short = ROWS[1].split(",")[:10]
    negative_paid = ROWS[2].split(",")
    negative_paid[20] = "-5"  # X20
    path = _write(tmp_path / "bad.csv", [HEADER, ROWS[0], ",".join(bad_status), ",".join(short), ROWS[2],
                                         ",".join(negative_paid)])
    run = cli("score", str(path))
    assert run.code != 0
    assert run.out == ""
    lines = run.err.splitlines()
    assert lines[0] == "line 3: X7: 'two' is not a number"
    assert lines[1].startswith("line 4: ") and "10 fields" in lines[1]
    assert lines[2].startswith("line 6: X20: ")
    assert lines[-1] == "collectdesk: error: nothing scored: 3 bad rows in bad.csv"
    assert "Traceback" not in run.err


@pytest.mark.parametrize(("content", "expected"), [
    ("ID,X1,X6\n1,2,3\n", "line 1: missing columns X7"),
    ("", "line 1: the file is empty"),
])
def test_a_file_without_the_columns_is_refused(cli, tmp_path: Path, content: str, expected: str) -> None:  # noqa: ANN001
    path = tmp_path / "other.csv"
    path.write_text(content)
    run = cli("score", str(path))
    assert run.code != 0 and run.out == ""
    assert run.err.startswith(expected)


def test_a_missing_or_binary_file_is_one_line(cli, tmp_path: Path) -> None:  # noqa: ANN001
    run = cli("score", str(tmp_path / "nope.csv"))
    assert run.code != 0 and run.out == ""
    assert run.err == f"collectdesk: error: cannot read {tmp_path / 'nope.csv'}: No such file or directory\n"
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"ID,X1\n\xff\xfe\x00\n")
    run = cli("score", str(binary))
    assert run.code != 0 and run.out == "" and "not UTF-8" in run.err


def _uci_rows() -> list[dict[str, str]]:
    path = Path(os.environ.get("COLLECTDESK_UCI_CSV") or SHARED_CSV)
    if not path.is_file():
        pytest.skip(f"UCI data not found at {path}")
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _held_out_auc(tmp_path: Path) -> float:
    """AUC of the console script's own output on the rows the shipped scorecard was
    never fitted on (its stratified hold-out; the rows above ID 24,000 are not here)."""
    from backend.scoring.scorecard import load_scorecard
    from backend.scoring.validation import roc_auc, stratified_split

    rows = _uci_rows()
    fit = load_scorecard().data["fit"]
    held = stratified_split([int(r["ID"]) for r in rows], [int(r["Y"]) for r in rows],
                            fraction=fit["holdout"], seed=fit["seed"])
    rows = [r for r in rows if int(r["ID"]) in held]
    path = tmp_path / "held_out.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    run = run_child("score", str(path), timeout=120)
    assert run.code == 0, run.err
    risks = _risks(run.out)
    assert len(risks) == len(rows) == 4800
    return roc_auc([int(r["Y"]) for r in rows], [risks[r["ID"]] for r in rows])


#: tests/scoring/test_holdout.py's floor: the shipped scorecard reaches 0.7797 on its hold-out.
FLOOR_AUC = 0.775
TARGET_AUC = 0.78


def test_the_script_ranks_held_out_accounts(tmp_path: Path) -> None:
    auc = _held_out_auc(tmp_path)
    assert auc >= FLOOR_AUC, f"held-out AUC of collectdesk score: {auc:.4f}"


@pytest.mark.xfail(strict=True, reason="issue 6 targets 0.78; the shipped scorecard gives 0.7797 on its own hold-out "
                                       "(backend/scoring/README.md). Strict: remove this mark once a refit passes.")
def test_the_script_reaches_the_issue_target_on_held_out_accounts(tmp_path: Path) -> None:
    assert _held_out_auc(tmp_path) >= TARGET_AUC


# --------------------------------------------------------------------------
# report strategies


@pytest.fixture
def seeded(cli, migrated_url: str) -> str:  # noqa: ANN001
    run = cli("seed", "--accounts", "120", "--db", migrated_url)
    assert run.code == 0, run.err
    return migrated_url


def _add_work(url: str) -> dict[str, dict]:
    """Two attempts and an RPC with a promise on a champion account, a payment on a
    challenger account, and a contact older than the window; returns the accounts per side."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from backend.db import make_engine
    from backend.models import Account, Contact, Payment, User, utcnow

    engine = make_engine(url)
    now = utcnow()
    try:
        with Session(engine) as session:
            agent = session.scalar(select(User).where(User.username == "agent1"))
            champion = session.scalars(select(Account).where(Account.strategy == "champion", Account.team_id == agent.team_id)
                                       .order_by(Account.id)).first()
            challenger = session.scalars(select(Account).where(Account.strategy == "challenger",
                                                               Account.team_id == agent.team_id)
                                         .order_by(Account.id)).first()
            assert champion is not None and challenger is not None

            def contact(account: Account, outcome: str, days_ago: float, **extra: object) -> Contact:
                return Contact(account_id=account.id, agent_id=agent.id, channel="phone", direction="outbound",
                               party="debtor", outcome=outcome, started_at=now - dt.timedelta(days=days_ago), **extra)

            session.add_all([
                contact(champion, "NA", 2), contact(champion, "RPC", 1, result="PTP", ptp_amount_minor=5000,
                                                    ptp_date=now.date() + dt.timedelta(days=3)),
                contact(challenger, "NA", 40),  # outside the 30 days
                Payment(bank_ref="H8-1", account_id=challenger.id, amount_minor=12345, currency=challenger.currency,
                        paid_at=now - dt.timedelta(days=3), balance_after_minor=challenger.balance_minor - 12345),
            ])
            session.commit()
            counts = {side: {"currency": a.currency} for side, a in (("champion", champion), ("challenger", challenger))}
    finally:
        engine.dispose()
    return counts


def test_report_strategies_compares_champion_and_challenger(cli, seeded: str) -> None:  # noqa: ANN001
    def report(*extra: str) -> dict[str, dict[str, str]]:
        run = cli("report", "strategies", "--db", seeded, "--format", "csv", *extra)
        assert run.code == 0, run.err
        return {r["strategy"]: r for r in csv.DictReader(io.StringIO(run.out))}

    def count(row: dict[str, str], key: str) -> int:
        return int(row[key] or 0)

    # The demo seed works a few accounts already (attempts before a legal referral):
    # what the test adds is measured against that.
    before, before_60 = report(), report("--days", "60")
    sides = _add_work(seeded)
    rows = report()
    assert list(rows) == ["champion", "challenger"]
    assert sum(int(r["accounts"]) for r in rows.values()) == 120  # admin sees every account
    champion, challenger = rows["champion"], rows["challenger"]
    delta = {key: count(champion, key) - count(before["champion"], key)
             for key in ("attempts", "right_party_contacts", "promises")}
    assert delta == {"attempts": 2, "right_party_contacts": 1, "promises": 1}
    currency = sides["champion"]["currency"]
    assert f"{currency} 50" in champion["promised"]
    assert count(challenger, "attempts") == count(before["challenger"], "attempts")
    assert challenger["collected"].startswith(sides["challenger"]["currency"] + " ")
    assert count(challenger, "paying_accounts") == count(before["challenger"], "paying_accounts") + 1
    # The contact 40 days ago counts with --days 60.
    after_60 = report("--days", "60")
    assert {side: count(after_60[side], "attempts") - count(before_60[side], "attempts") for side in after_60} == \
        {"champion": 2, "challenger": 1}


def test_report_strategies_as_a_table_markdown_and_to_a_file(cli, seeded: str, tmp_path: Path) -> None:  # noqa: ANN001
    table = cli("report", "strategies", "--db", seeded)
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].startswith("Champion against challenger, last 30 days")
    assert lines[2].split() == ["strategy", "champion", "challenger"]
    assert any(line.split()[:1] == ["accounts"] for line in lines)
    assert max(len(line) for line in lines[2:]) <= 80
    md = cli("report", "strategies", "--db", seeded, "--format", "md", "--as", "super1")
    assert md.code == 0, md.err
    assert "| strategy | accounts |" in md.out and "| champion |" in md.out
    out = tmp_path / "report.md"
    run = cli("report", "strategies", "--db", seeded, "--format", "md", "--output", str(out))
    assert run.code == 0 and run.out == ""
    assert "| champion |" in out.read_text(encoding="utf-8")


def test_report_strategies_is_for_supervisors_and_audited(cli, seeded: str) -> None:  # noqa: ANN001
    run = cli("report", "strategies", "--db", seeded, "--as", "agent1")
    assert run.code != 0 and run.out == ""
    assert run.err == ("collectdesk: error: agent1 is an agent; reports are for supervisors, legal officers "
                       "and admins\n")
    run = cli("report", "strategies", "--db", seeded, "--as", "ghost")
    assert run.code != 0 and "no user 'ghost'" in run.err
    run = cli("report", "strategies", "--db", seeded, "--as", "super1")
    assert run.code == 0, run.err

    from sqlalchemy import create_engine, text

    engine = create_engine(seeded)
    with engine.connect() as conn:
        who = conn.execute(text("SELECT u.username FROM audit_log a JOIN users u ON u.id = a.user_id "
                                "WHERE a.entity = 'report' ORDER BY a.id")).scalars().all()
    engine.dispose()
    assert who == ["super1"]


def test_report_days_and_format_are_checked(cli) -> None:  # noqa: ANN001
    for args in (("--days", "0"), ("--days", "400"), ("--format", "xlsx")):
        with pytest.raises(SystemExit) as exit_info:
            cli("report", "strategies", *args)
        assert exit_info.value.code == 2
