"""The training sandbox (issue 7): whose result a practice launched from the
trainer's screen is, and a clock pinned to the scenario's instant, so the
Chinese scenarios (customers in Shanghai) are scored the same whatever the time
of day the class meets."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backend_client.client import BackendClient
from tests.desk.conftest import SERVER, notices, screen_text, settle
from tests.desk.test_training_desk import make_trainer  # noqa: F401 - the fixture
from tui.training.scenario import find


@pytest.fixture
def trainee(session):  # noqa: ANN001, ANN201
    """The sandbox's trainee: an agent of team A (as ``collectdesk train`` makes it)."""
    from backend.services.users import add_user

    user = add_user(session, "trainee", "trainee", "agent", "A", "Trainee")
    session.commit()
    return user


async def _play_model_call(pilot, desk, scenario) -> None:  # noqa: ANN001
    from textual.widgets import Checkbox, Select

    screen = desk.screen
    for index in scenario.best_path():
        await pilot.press(str(index + 1))
        await settle(pilot)
    expected = scenario.record
    screen.query_one("#outcome", Select).value = expected.outcome
    if expected.result:
        screen.query_one("#result", Select).value = expected.result
    if expected.reason:
        screen.query_one("#reason", Select).value = expected.reason
    screen.query_one("#party", Select).value = expected.party
    if expected.party == "debtor":
        screen.query_one("#identity", Checkbox).value = True
        screen.query_one("#disclosure", Checkbox).value = True
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_a_practice_launched_from_trainer1s_list_is_the_trainees_and_reaches_the_backend(
        make_trainer, make_account, trainee, switch, tmp_path: Path) -> None:  # noqa: ANN001
    """Trainers see no accounts: the practice call was refused as "not found" and the
    scorecard said trainer1. Now the call is logged as the sandbox's trainee (so the
    backend's rules apply), and the result shows under the trainee, launched by trainer1."""
    from tui.screens.training.training import ResultsScreen, TrainerScreen, TrainingScreen

    s = find("job_loss")
    account = make_account(account_ref="TRN-JOB", customer_name=s.account.customer_name, phones=[s.account.phone],
                           agent="trainee")
    results = tmp_path / "scores"
    desk = make_trainer("trainer1", accounts={"job_loss": account.id}, results=results,
                        trainee=("trainee", "trainee"), practice_client=BackendClient(SERVER, transport=switch))
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(desk.screen, TrainerScreen)
        ids = [x.id for x in desk.screen.scenarios]
        for _ in range(ids.index("job_loss")):
            await pilot.press("down")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(desk.screen, TrainingScreen)
        screen = desk.screen
        await _play_model_call(pilot, desk, s)
        card = screen.card
        assert card is not None
        assert card.trainee == "trainee" and card.launched_by == "trainer1"
        assert card.refused_by is None and card.rules_broken == [] and card.points == card.max_points
        assert not [n for n in notices(desk) if "Not found" in str(n.message)]
        [saved] = results.glob("*.json")
        assert saved.name.startswith("trainee-job_loss-")
        data = json.loads(saved.read_text(encoding="utf-8"))
        assert data["trainee"] == "trainee" and data["launched_by"] == "trainer1"
        # The call ran on the sandbox's clock; the results list says when it was practised.
        practised = dt.datetime.fromisoformat(data["practised_at"])
        assert abs(practised - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=10)
        # The backend has the trainee's contact on the sandbox account.
        api = BackendClient(SERVER, transport=switch)
        await api.login("trainee", "trainee")
        timeline = await api.timeline(account.id)
        contacts = [item for item in timeline.items if item.kind == "contact"]
        assert len(contacts) == 1 and "trainee" in contacts[0].model_dump_json()
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(desk.screen, ResultsScreen)
        assert f"trainee · job_loss · 100/100 · 0 broken · {practised:%Y-%m-%d %H:%M}" in screen_text(desk)


def _wall_at(hour: int) -> Callable[[], float]:
    """A wall clock that stands at ``hour`` UTC on 1 December 2026 and moves a second per reading."""
    state = {"t": dt.datetime(2026, 12, 1, hour, 0, tzinfo=dt.UTC).timestamp()}

    def wall() -> float:
        state["t"] += 1.0
        return state["t"]

    return wall


@pytest.mark.parametrize(("scenario_id", "refused_by"), [
    ("job_loss", None),
    # China's rules (2011 Measures Art. 68) forbid dialling an unrelated third party or
    # discussing the debt with one; the roommate answered the debtor's own number and
    # heard nothing of it, so the call is recorded as what happened (TPC) and the model
    # call scores full marks, at any hour of the wall clock (issue 13, item 6).
    ("third_party", None),
])
@pytest.mark.parametrize("wall_hour", [3, 15, 20])  # 11:00, 23:00 and 04:00 in Shanghai
async def test_the_chinese_scenarios_are_scored_at_their_pinned_instant_whatever_the_wall_clock(
        make_trainer, make_account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        scenario_id: str, refused_by: str | None, wall_hour: int) -> None:  # noqa: ANN001
    """The sandbox's clock source is the only thing changed: at 03:00, 15:00 and 20:00
    UTC on the wall the model call is within the lawful hours and scored alike, and
    the backend judges it at the scenario's instant (10:30 in Shanghai)."""
    import tui.training.clock as clock_module
    from collectdesk.cli.sandbox import install_sandbox_clock
    from tui.training.clock import SandboxClock

    monkeypatch.setattr(clock_module, "wall_time", _wall_at(wall_hour))
    sandbox = SandboxClock()
    install_sandbox_clock(sandbox, setattr=monkeypatch.setattr)  # as the sandbox backend's process does
    s = find(scenario_id, "zh_CN")
    assert s.language == "zh_CN" and s.account.timezone == "Asia/Shanghai"
    account = make_account(account_ref=f"TRN-ZH-{scenario_id}", customer_name=s.account.customer_name,
                           phones=[s.account.phone], country="CN", region=None, timezone="Asia/Shanghai",
                           currency="CNY", address="")
    desk = make_trainer("agent1", lang="zh_CN", scenario=scenario_id, mode="practice",
                        accounts={scenario_id: account.id}, results=tmp_path, sandbox_clock=sandbox)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = desk.screen
        assert s.instant == dt.datetime(2026, 3, 11, 2, 30, tzinfo=dt.UTC)
        started = screen.session.started_at
        assert s.instant <= started < s.instant + dt.timedelta(seconds=10)
        await _play_model_call(pilot, desk, s)
        card = screen.card
        assert card is not None
        assert card.refused_by == refused_by, card
        assert card.rules_broken == [] and "unlawful_hours" not in card.rules_broken
        assert card.steps_missed == []
        timeline = await desk.api.timeline(account.id)
        contacts = [item for item in timeline.items if item.kind == "contact"]
        if refused_by is None:
            assert card.record_matches and card.points == card.max_points
            [contact] = contacts
            assert contact.at == started
        else:
            assert card.record_problems == ["refused"] and contacts == []


def test_the_sandbox_clock_runs_on_from_the_pinned_instant_and_is_shared_through_its_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tui.training.clock as clock_module
    from tui.training.clock import SANDBOX_EPOCH, SandboxClock

    wall = {"t": 1_000_000.0}
    monkeypatch.setattr(clock_module, "wall_time", lambda: wall["t"])
    path = tmp_path / "clock.json"
    desk_side = SandboxClock(path)
    backend_side = SandboxClock(path)
    assert desk_side() == backend_side() == SANDBOX_EPOCH
    instant = find("job_loss", "zh_CN").instant
    desk_side.pin(instant)
    wall["t"] += 90
    assert backend_side() == desk_side() == instant + dt.timedelta(seconds=90)
    with pytest.raises(ValueError):
        desk_side.pin(dt.datetime(2026, 3, 11, 10, 30))
