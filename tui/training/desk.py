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
from tui.screens.training.training import DEMO_PACE_S, TrainerScreen, TrainingScreen, results_dir


class TrainingDesk(CollectDesk):
    CSS_PATH = str(Path(__file__).resolve().parents[1] / "desk.tcss")

    def __init__(self, settings: DeskSettings, client: Any = None, *, scenario: str | None = None,
                 mode: str | None = None, accounts: dict[str, int] | None = None, results: Path | None = None,
                 pace_s: float = DEMO_PACE_S, scenarios_dir: Path | None = None, sandbox_clock: Any = None,
                 trainee: tuple[str, str] | None = None, practice_client: Any = None, **kwargs: Any) -> None:
        if sandbox_clock is not None:
            kwargs["clock"] = sandbox_clock
        super().__init__(settings, client, **kwargs)
        self.sandbox_clock = sandbox_clock
        """The sandbox's clock (``tui.training.clock``), pinned to each scenario's instant as it opens."""
        self.trainee = trainee
        """The sandbox trainee's user and password: who a practice launched by a trainer is for."""
        self._practice_client = practice_client
        from tui.training.scenario import load_all

        loaded, errors = load_all(self.language, scenarios_dir)
        self.scenarios = loaded
        self.scenario_errors = [str(e) for e in errors]
        self.start_scenario = scenario
        self.start_mode = mode
        self.accounts = accounts or {}
        self.results = results or results_dir()
        self.pace_s = pace_s

    def pin_scenario(self, scenario: Any) -> None:
        """The sandbox's clock to the scenario's instant: scored the same at any time of day."""
        if self.sandbox_clock is not None:
            self.sandbox_clock.pin(scenario.instant)

    async def practice_api(self) -> tuple[Any, str]:
        """The client a practice call is logged through, and whose result it is.

        An agent practising is on their own; a trainer's practice (launched from the
        scenario list, for a trainee at the trainer's desk) is the sandbox trainee's:
        trainers see no accounts, and the contact and the scorecard go to the trainee."""
        user = self.user
        if user is None or user.role == "agent" or self.trainee is None:
            return self.api, user.username if user else ""
        if self._practice_client is None:
            from backend_client.client import BackendClient

            self._practice_client = BackendClient(self.api.base_url, timeout=self.settings.timeout_s,
                                                  ca_bundle=self.settings.ca_bundle)
        if self._practice_client.token is None:
            # signing_in: a refusal here is the trainee's, not the trainer's session lapsing.
            await self.call(self._practice_client.login(*self.trainee), signing_in=True)
        return self._practice_client, self.trainee[0]

    async def on_unmount(self) -> None:
        if self._practice_client is not None:
            await self._practice_client.aclose()
        await super().on_unmount()

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
