"""Trainer mode in the desk (issue 7, items 2-5): every scenario plays through in
demo mode at 80x24, and a practice run that tells a third party about the debt
ends with that breach on the scorecard, saved for the trainer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from backend_client.client import BackendClient
from config.settings import DeskSettings
from tests.desk.conftest import AGENT_TZ, NOW, SERVER, Raised, screen_text, settle
from tui.training.scenario import load_all

SCENARIOS = [(lang, s.id) for lang in ("en", "zh_CN") for s in load_all(lang)[0]]


@pytest.fixture
def make_trainer(switch, drafts: Path, tmp_path: Path) -> Callable:  # noqa: ANN001
    from tui.training.desk import TrainingDesk

    def _make(username: str = "trainer1", *, lang: str = "en", **kwargs: object) -> TrainingDesk:
        settings = DeskSettings(server=SERVER, lang=lang, keymap={}, drafts_dir=drafts, timeout_s=5.0)
        client = BackendClient(SERVER, transport=switch, timeout=5.0)
        kwargs.setdefault("results", tmp_path / "results")
        kwargs.setdefault("pace_s", 60.0)  # the tests step; the pace never fires
        desk = TrainingDesk(settings, client, username=username, password=username, clock=lambda: NOW,
                            agent_tz=AGENT_TZ, **kwargs)
        desk._notifications = Raised()
        return desk

    return _make


@pytest.mark.parametrize(("lang", "scenario_id"), SCENARIOS)
async def test_each_scenario_plays_through_in_demo_mode(make_trainer, lang: str, scenario_id: str) -> None:  # noqa: ANN001
    from tui.screens.training.training import TrainingScreen

    desk = make_trainer(lang=lang, scenario=scenario_id, mode="demo")
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = desk.screen
        assert isinstance(screen, TrainingScreen)
        first = screen.scenario.nodes[screen.scenario.start].customer
        assert first[:20] in screen_text(desk)
        await pilot.press("space")  # paused: nothing moves by itself
        assert screen.paused
        steps = len(screen.scenario.best_path())
        for _ in range(steps):
            await pilot.press("n")
            await settle(pilot)
        assert screen.session.over
        await pilot.press("right")  # the end: the demo records the call and scores it
        await settle(pilot)
        card = screen.card
        assert card is not None and card.mode == "demo"
        assert card.rules_broken == [] and card.steps_missed == []
        assert card.points == card.max_points
        text = screen_text(desk)
        assert str(card.max_points) in text


async def test_trainer1_steps_through_the_job_loss_demo_at_80x24(make_trainer) -> None:  # noqa: ANN001
    from tui.screens.training.training import TrainerScreen, TrainingScreen

    desk = make_trainer()
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(desk.screen, TrainerScreen)
        text = screen_text(desk)
        assert "Job loss: an instalment plan" in text
        ids = [s.id for s in desk.screen.scenarios]
        for _ in range(ids.index("job_loss")):
            await pilot.press("down")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(desk.screen, TrainingScreen)
        await pilot.press("space")
        await pilot.press("n")
        await settle(pilot)
        text = screen_text(desk)
        assert "Hello?" in text and "Good morning, may I speak with" in text
        assert "Speaking. Who is this?" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(desk.screen, TrainerScreen)


async def test_a_practice_run_that_tells_a_third_party_about_the_debt_is_a_breach(
        make_trainer, make_account, tmp_path: Path) -> None:  # noqa: ANN001
    from textual.widgets import Select

    from tui.screens.training.training import ResultsScreen, TrainerScreen, TrainingScreen

    account = make_account(account_ref="TRN-THIRD", customer_name="John Parker", phones=["+12125550163"])
    results = tmp_path / "scores"
    desk = make_trainer("agent1", scenario="third_party", mode="practice", accounts={"third_party": account.id},
                        results=results)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = desk.screen
        assert isinstance(screen, TrainingScreen)
        assert "1. Hello, may I speak with John Parker" in screen_text(desk)
        await pilot.press("1")
        await settle(pilot)
        assert "He's not in." in screen_text(desk)
        await pilot.press("2")  # "It's about a debt of $640 he hasn't paid."
        await settle(pilot)
        assert screen.session.over
        assert isinstance(desk.focused, Select)
        screen.query_one("#outcome", Select).value = "TPC"
        screen.query_one("#party", Select).value = "third_party"
        await pilot.press("ctrl+s")
        await settle(pilot)
        card = screen.card
        assert card is not None
        assert "third_party_disclosure" in card.rules_broken
        text = screen_text(desk)
        assert "Rules broken: debt discussed" in text
        saved = list(results.glob("*.json"))
        assert len(saved) == 1
        data = json.loads(saved[0].read_text(encoding="utf-8"))
        assert data["trainee"] == "agent1" and "third_party_disclosure" in data["rules_broken"]
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(desk.screen, TrainerScreen)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(desk.screen, ResultsScreen)
        assert "agent1 · third_party" in screen_text(desk)


@pytest.mark.parametrize("scenario_id", ["job_loss", "dispute", "cease", "third_party"])
async def test_the_model_call_practised_is_taken_by_the_backend_with_full_marks(
        make_trainer, make_account, tmp_path: Path, scenario_id: str) -> None:  # noqa: ANN001
    """Practising the model answers and recording the call as the scenario expects:
    the backend's compliance rules take the contact, and nothing is marked down."""
    from textual.widgets import Checkbox, Select

    from tui.training.scenario import find

    s = find(scenario_id)
    account = make_account(account_ref=f"TRN-{scenario_id}", customer_name=s.account.customer_name,
                           phones=[s.account.phone])
    desk = make_trainer("agent1", scenario=scenario_id, mode="practice", accounts={scenario_id: account.id},
                        results=tmp_path)
    async with desk.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = desk.screen
        for index in s.best_path():
            await pilot.press(str(index + 1))
            await settle(pilot)
        expected = s.record
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
        card = screen.card
        assert card is not None and card.refused_by is None
        assert card.rules_broken == [] and card.record_matches
        assert card.points == card.max_points
        timeline = await desk.api.timeline(account.id)
        assert any(item.kind == "contact" for item in timeline.items)
