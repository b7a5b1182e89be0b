"""The desk in trainer mode (issue 7): after signing in, the trainer's screen
(or straight into one scenario's demo or practice) instead of the worklist.

``collectdesk train`` builds the sandbox and runs ``run_training``; tests make a
``TrainingDesk`` directly. Nothing here imports the backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.settings import DeskSettings
from tui.app import CollectDesk, run_options
from tui.screens.training import DEMO_PACE_S, TrainerScreen, TrainingScreen, results_dir


class TrainingDesk(CollectDesk):
    CSS_PATH = str(Path(__file__).resolve().parents[1] / "desk.tcss")

    def __init__(self, settings: DeskSettings, client: Any = None, *, scenario: str | None = None,
                 mode: str | None = None, accounts: dict[str, int] | None = None, results: Path | None = None,
                 pace_s: float = DEMO_PACE_S, scenarios_dir: Path | None = None, **kwargs: Any) -> None:
        super().__init__(settings, client, **kwargs)
        from tui.training.scenario import load_all

        loaded, errors = load_all(self.language, scenarios_dir)
        self.scenarios = loaded
        self.scenario_errors = [str(e) for e in errors]
        self.start_scenario = scenario
        self.start_mode = mode
        self.accounts = accounts or {}
        self.results = results or results_dir()
        self.pace_s = pace_s

    def show_worklist(self) -> None:
        """Trainer mode has no worklist: the trainer's screen, and the scenario asked for."""
        trainer = TrainerScreen(self.scenarios, errors=self.scenario_errors, accounts=self.accounts,
                                results=self.results, pace_s=self.pace_s)
        self.switch_screen(trainer)
        if self.start_scenario and self.start_mode:
            chosen = next((s for s in self.scenarios if s.id == self.start_scenario), None)
            if chosen is not None:
                self.push_screen(TrainingScreen(chosen, mode=self.start_mode,
                                                account_id=self.accounts.get(chosen.id), pace_s=self.pace_s,
                                                results=self.results))


def run_training(settings: DeskSettings, *, username: str, password: str, **kwargs: Any) -> int:
    app = TrainingDesk(settings, username=username, password=password, **kwargs)
    result = app.run(**run_options(settings))
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)
