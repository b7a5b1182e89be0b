"""Training scenarios (issue 7, item 1): every shipped file loads, and a broken
file is an error naming its line and field, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.training.scenario import SCENARIOS_DIR, ScenarioError, find, load_all, parse

GOOD = (SCENARIOS_DIR / "third_party.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_every_shipped_scenario_loads(language: str) -> None:
    scenarios, errors = load_all(language)
    assert not errors, [str(e) for e in errors]
    ids = {s.id for s in scenarios}
    assert {"job_loss", "dispute", "third_party", "cease"} <= ids
    for s in scenarios:
        assert s.best_path(), s.id
        assert s.max_points > 0


def test_at_least_two_scenarios_in_chinese() -> None:
    files = sorted((SCENARIOS_DIR / "zh_CN").glob("*.toml"))
    assert len(files) >= 2
    for path in files:
        s = find(path.stem, "zh_CN")
        assert s.language == "zh_CN"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in s.title)


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_syntax_error_names_its_line() -> None:
    broken = GOOD.replace('dpd = 35', 'dpd = = 35')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.line == _line(broken, "dpd = = 35")
    assert "x.toml:" in str(info.value)


def test_a_wrong_value_names_its_line_and_field() -> None:
    broken = GOOD.replace('dpd = 35', 'dpd = "many"')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field == "account.dpd"
    assert info.value.line == _line(broken, 'dpd = "many"')


def test_a_choice_leading_nowhere_names_its_line_and_field() -> None:
    broken = GOOD.replace('next = "location"\ndoes = ["location_only"]', 'next = "nowhere"\ndoes = ["location_only"]')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field == "nodes.not_here.choices[0].next"
    assert info.value.line == _line(broken, 'next = "nowhere"')
    assert "nowhere" in info.value.message


def test_an_unknown_step_in_a_choice_names_its_line() -> None:
    broken = GOOD.replace('breaks = ["false_statement"]', 'breaks = ["lying"]')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field.startswith("nodes.not_here.choices[2].breaks")
    assert info.value.line == _line(broken, 'breaks = ["lying"]')


def test_a_missing_field_names_its_table() -> None:
    broken = GOOD.replace('currency = "USD"\n', '')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field == "account.currency"
    assert info.value.line == _line(broken, "[account]")


def test_a_broken_file_among_good_ones_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "bad.toml").write_text("id = [", encoding="utf-8")
    (tmp_path / "bytes.toml").write_bytes(b"\xff\xfe\x00")
    good, bad = load_all("en", tmp_path)
    assert [s.id for s in good] == ["third_party"]
    assert len(bad) == 2
    assert all(isinstance(e, ScenarioError) for e in bad)


def test_each_scenario_has_an_instant_on_its_customers_clock() -> None:
    import datetime as dt

    en, zh = find("job_loss"), find("job_loss", "zh_CN")
    assert en.instant == dt.datetime(2026, 3, 11, 14, 30, tzinfo=dt.UTC)  # 10:30 in New York (EDT)
    assert zh.instant == dt.datetime(2026, 3, 11, 2, 30, tzinfo=dt.UTC)  # 10:30 in Shanghai
    with_offset = parse(GOOD.replace("call_at = 2026-03-11T10:30:00", "call_at = 2026-03-11T10:30:00+08:00"))
    assert with_offset.instant == dt.datetime(2026, 3, 11, 2, 30, tzinfo=dt.UTC)


def test_a_bad_call_time_or_time_zone_names_its_line_and_field() -> None:
    broken = GOOD.replace("call_at = 2026-03-11T10:30:00", 'call_at = "half past ten"')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field == "call_at" and info.value.line == _line(broken, "call_at =")
    broken = GOOD.replace('timezone = "America/New_York"', 'timezone = "Mars/Olympus"')
    with pytest.raises(ScenarioError) as info:
        parse(broken, "x.toml")
    assert info.value.field == "account.timezone" and info.value.line == _line(broken, "Mars/Olympus")
