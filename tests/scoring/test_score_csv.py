"""``score_csv``: UCI rows in, ``ID,risk`` out; bad rows named by line and column."""

from __future__ import annotations

import io

import pytest

from backend.scoring.scorecard import ScoreInputError, score_csv, score_uci_row

HEADER = "ID,X1,X2,X3,X4,X5,X6,X7,X8,X9,X10,X11,X12,X13,X14,X15,X16,X17,X18,X19,X20,X21,X22,X23,Y"
ROWS = [
    "1,20000,2,2,1,24,2,2,-1,-1,-2,-2,3913,3102,689,0,0,0,0,689,0,0,0,0,1",
    "2,120000,2,2,2,26,-1,2,0,0,0,2,2682,1725,2682,3272,3455,3261,0,1000,1000,1000,0,2000,1",
    "7,5.00E+05,1,1,2,29,0,0,0,0,0,0,367965,412023,445007,542653,483003,473944,55000,40000,38000,20239,13750,13770,0",
]


def _run(text: str) -> str:
    out = io.StringIO()
    score_csv(io.StringIO(text), out)
    return out.getvalue()


def test_round_trip():
    out = _run("\n".join([HEADER, *ROWS]) + "\n")
    lines = out.splitlines()
    assert lines[0] == "ID,risk"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "7"]
    risks = [float(line.split(",")[1]) for line in lines[1:]]
    assert all(0 < r < 1 for r in risks)
    assert all(len(line.split(",")[1].split(".")[1]) == 6 for line in lines[1:])
    assert risks[0] > risks[2]  # two months late, against a large account paying every month


def test_matches_score_uci_row():
    import csv

    rows = list(csv.DictReader(io.StringIO("\n".join([HEADER, *ROWS]))))
    out = _run("\n".join([HEADER, *ROWS]))
    for row, line in zip(rows, out.splitlines()[1:], strict=True):
        assert line == f"{row['ID']},{score_uci_row(row):.6f}"


def test_protected_columns_are_ignored_and_y_is_optional():
    full = _run("\n".join([HEADER, *ROWS]))
    # other values in sex, education, marital status and age: the same risks
    changed = [r.split(",") for r in ROWS]
    for r in changed:
        r[2:6] = ["9", "x", "", "101"]
    assert _run("\n".join([HEADER, *(",".join(r) for r in changed)])) == full
    # without X2..X5 and Y at all
    keep = [0, 1, *range(6, 24)]
    header = ",".join(HEADER.split(",")[i] for i in keep)
    rows = [",".join(r.split(",")[i] for i in keep) for r in ROWS]
    assert _run("\n".join([header, *rows])) == full


def test_a_bad_row_is_named_by_line_and_column_and_nothing_is_written():
    bad = ROWS[1].split(",")
    bad[7] = "two"  # X7
    text = "\n".join([HEADER, ROWS[0], ",".join(bad), ROWS[2]])
    out = io.StringIO()
    with pytest.raises(ScoreInputError) as err:
        score_csv(io.StringIO(text), out)
    assert isinstance(err.value, ValueError)
    assert "line 3" in str(err.value) and "X7" in str(err.value)
    assert err.value.errors == [(3, "X7", "'two' is not a number")]
    assert out.getvalue() == ""


@pytest.mark.parametrize(("column", "value", "words"), [
    ("X1", "0", "credit limit must be positive"),
    ("X1", "", "empty"),
    ("X6", "1.5", "whole number from -2 to 9"),
    ("X6", "12", "whole number from -2 to 9"),
    ("X20", "-5", "cannot be negative"),
    ("X14", "1e", "not a number"),
])
def test_each_kind_of_bad_value(column, value, words):
    names = HEADER.split(",")
    row = ROWS[0].split(",")
    row[names.index(column)] = value
    with pytest.raises(ScoreInputError) as err:
        _run("\n".join([HEADER, ",".join(row)]))
    (line, col, problem), = err.value.errors
    assert (line, col) == (2, column)
    assert words in problem


def test_every_bad_row_is_listed():
    rows = [ROWS[0], "5,oops" + ROWS[0][len("1,20000"):], ROWS[1][:-2], ROWS[2]]
    with pytest.raises(ScoreInputError) as err:
        _run("\n".join([HEADER, *rows]))
    assert [(e[0], e[1]) for e in err.value.errors] == [(3, "X1"), (4, None)]
    assert "line 4: 24 fields where the header has 25" in str(err.value)


def test_missing_columns_and_empty_files():
    with pytest.raises(ScoreInputError, match="line 1: missing column X6"):
        _run(HEADER.replace("X6,", "") + "\n")
    with pytest.raises(ScoreInputError, match="line 1"):
        _run("")


def test_header_only_gives_header_only():
    assert _run(HEADER + "\n") == "ID,risk\n"


def test_score_uci_row_names_the_column():
    row = dict(zip(HEADER.split(","), ROWS[0].split(","), strict=True))
    assert 0 < score_uci_row(row) < 1
    del row["X23"]
    with pytest.raises(ScoreInputError, match="X23: missing"):
        score_uci_row(row)
