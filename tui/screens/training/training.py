"""Trainer mode (issue 7): the trainer's screen (scenarios, demo or practice,
trainees' results) and the training call: the customer's lines in a dialogue
panel beside a call form.

*Demo* plays the scenario's model answers at a pace, for a class (space pauses,
``n`` or ``right`` steps). *Practice*: the trainee picks what to say (``1``–``9``),
the customer answers; at the end the trainee records the call and ``ctrl+s``
sends it to the sandbox backend, whose compliance rules apply, and shows the
scorecard, which is saved for the trainer.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from tui import fmt, labels
from tui.i18n import N_, _
from tui.screens.common.base import DeskScreen

if TYPE_CHECKING:
    from tui.training.engine import Recorded, Scorecard, Session
    from tui.training.scenario import Scenario

DEMO_PACE_S = 3.0
"""Seconds between the demo's lines."""

STEPS: dict[str, str] = {
    "identity": N_("identity checked"),
    "disclosure": N_("disclosure given"),
    "ask_reason": N_("asked why"),
    "offer": N_("offer within authority"),
    "recap": N_("recap"),
    "location_only": N_("location only"),
    "cease_honoured": N_("stop request honoured"),
}
ACTS: dict[str, str] = {
    "threat": N_("threat"),
    "third_party_disclosure": N_("debt discussed with a third party"),
    "false_statement": N_("false statement"),
    "unlawful_hours": N_("call at unlawful hours"),
    "beyond_authority": N_("plan beyond the agent's authority"),
}
FIELDS: dict[str, str] = {
    "outcome": N_("outcome"),
    "result": N_("result"),
    "reason": N_("reason"),
    "party": N_("party"),
    "identity": N_("identity not ticked"),
    "disclosure": N_("disclosure not ticked"),
    "refused": N_("refused by the backend"),
}


def practised_now() -> Any:
    """The wall clock's now, for the results list: the call itself runs on the sandbox's pinned clock."""
    import datetime as dt

    from tui.training.clock import wall_time

    return dt.datetime.fromtimestamp(wall_time(), dt.UTC).replace(microsecond=0)


def results_dir() -> Path:
    from config.settings import data_dir

    return data_dir() / "training"


def save_scorecard(card: Scorecard, directory: Path) -> Path:
    """Write the scorecard as JSON for the trainer; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = (card.practised_at or card.finished_at).replace(":", "").replace("-", "").split(".")[0].split("+")[0]
    path = directory / f"{card.trainee or 'trainee'}-{card.scenario}-{stamp}.json"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{card.trainee or 'trainee'}-{card.scenario}-{stamp}-{n}.json"
    path.write_text(json.dumps(card.as_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def read_results(directory: Path) -> list[dict[str, Any]]:
    """The saved scorecards, newest first; unreadable files are left out."""
    cards = []
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "scenario" in data:
            cards.append(data)
    return sorted(cards, key=when_practised, reverse=True)


def when_practised(card: dict[str, Any]) -> str:
    """When the trainee practised (the wall clock's UTC); older cards have only the call's instant."""
    return str(card.get("practised_at") or card.get("finished_at", ""))


def describe_card(card: dict[str, Any]) -> str:
    """A scorecard as lines of text, in the desk's language."""
    minutes, seconds = divmod(int(card.get("seconds", 0)), 60)
    lines = [_("Score: {points} of {max} points · {time}").format(
        points=card["points"], max=card["max_points"], time=f"{minutes}:{seconds:02d}")]
    done = ", ".join(labels.label(STEPS, s) for s in card.get("steps_done", [])) or "-"
    lines.append(_("Steps done: {steps}").format(steps=done))
    if card.get("steps_missed"):
        lines.append(_("Steps missed: {steps}").format(
            steps=", ".join(labels.label(STEPS, s) for s in card["steps_missed"])))
    broken = ", ".join(labels.label(ACTS, a) for a in card.get("rules_broken", []))
    lines.append(_("Rules broken: {rules}").format(rules=broken) if broken else _("Rules broken: none"))
    plan = card.get("plan_within_policy")
    lines.append(_("Plan within policy: none offered") if plan is None
                 else _("Plan within policy: yes") if plan else _("Plan within policy: no"))
    problems = card.get("record_problems", [])
    if problems:
        lines.append(_("Recorded otherwise: {fields}").format(
            fields=", ".join(labels.label(FIELDS, f) for f in problems)))
    if card.get("refused_by"):
        lines.append(_("The backend refused the contact: {rule}").format(rule=labels.rule(card["refused_by"])))
    return "\n".join(lines)


class TrainingScreen(DeskScreen):
    """A scripted call: the dialogue panel beside a call form."""

    NOUN = N_("Training")
    BINDINGS = [
        Binding("space", "pause", N_("Pause"), tooltip=N_("Demo: pause or resume the call"), id="training.pause"),
        Binding("n,right", "step", N_("Step"), tooltip=N_("Demo: the next line now"), id="training.step"),
        *[Binding(str(i), f"say({i - 1})", N_("Say"), tooltip=N_("Practice: say the numbered line"),
                  id=f"training.say{i}", show=i == 1) for i in range(1, 10)],
        Binding("ctrl+s", "finish", N_("Score"), tooltip=N_("End the call: record it and show the scorecard"),
                id="training.finish", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the trainer's screen"), id="training.back",
                priority=True),
    ]
    DEFAULT_CSS = """
    TrainingScreen #training-body { height: 1fr; }
    TrainingScreen #dialogue-side { width: 1fr; }
    TrainingScreen #dialogue { height: 1fr; border: round $primary; padding: 0 1; }
    TrainingScreen #choices { height: auto; max-height: 9; padding: 0 1; }
    TrainingScreen #call-form { width: 34; height: 1fr; border: round $secondary; padding: 0 1; }
    TrainingScreen #call-form Select, TrainingScreen #call-form Input { width: 100%; }
    TrainingScreen #call-form Checkbox { width: 100%; }
    TrainingScreen .said { height: auto; width: 100%; text-wrap: wrap; }
    TrainingScreen .customer { color: $text; }
    TrainingScreen .agent { color: $text-accent; padding-left: 2; }
    TrainingScreen #scorecard { height: auto; padding: 0 1; border: round $success; display: none; }
    """

    def __init__(self, scenario: Scenario, *, mode: str = "demo", account_id: int | None = None,
                 pace_s: float = DEMO_PACE_S, results: Path | None = None) -> None:
        super().__init__()
        from tui.training.engine import Session

        self.scenario = scenario
        self.mode = mode
        self.account_id = account_id
        self.pace_s = pace_s
        self.results = results
        pin = getattr(self.app, "pin_scenario", None)
        if pin is not None:
            pin(scenario)
        self.session: Session = Session(scenario, clock=lambda: self.desk.clock())
        self.paused = False
        self.card: Scorecard | None = None
        self.saved_to: Path | None = None
        self._timer: Timer | None = None
        self._finishing = False

    # -- layout --------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        mode = _("Demo") if self.mode == "demo" else _("Practice")
        yield self.title_bar(_("Training · {title} · {mode}").format(title=self.scenario.title, mode=mode))
        with Horizontal(id="training-body"):
            with Vertical(id="dialogue-side"):
                dialogue = VerticalScroll(id="dialogue", can_focus=False)
                dialogue.border_title = self.scenario.persona.name
                yield dialogue
                yield Static("", id="choices", markup=False)
                yield Static("", id="scorecard", markup=False)
            with VerticalScroll(id="call-form") as form:
                form.border_title = _("Call")
                facts = self.scenario.account
                yield Static(f"{facts.customer_name} · {fmt.amount(facts.overdue, facts.currency)} · "
                             + _("{days} DPD").format(days=facts.dpd), markup=False)
                yield Select([(labels.label(labels.OUTCOMES, c), c) for c in labels.OUTCOMES],
                             prompt=_("Outcome"), id="outcome", compact=True)
                yield Select([(labels.label(labels.RESULTS, c), c) for c in labels.RESULTS],
                             prompt=_("Result"), id="result", compact=True)
                yield Select([(labels.label(labels.REASONS, c), c) for c in labels.REASONS],
                             prompt=_("Reason"), id="reason", compact=True)
                yield Select([(labels.label(labels.PARTIES, c), c) for c in labels.PARTIES],
                             prompt=_("Party"), id="party", value="debtor", allow_blank=False, compact=True)
                yield Checkbox(_("Identity verified"), id="identity", compact=True)
                yield Checkbox(_("Disclosure given"), id="disclosure", compact=True)
                yield Input(placeholder=_("Discount %"), id="discount", restrict=r"[0-9.]*", compact=True)
                yield Input(placeholder=_("Months"), id="term", restrict=r"[0-9]*", compact=True)
                yield Input(placeholder=_("First payment in days"), id="first-days", restrict=r"[0-9]*",
                            compact=True)
                yield Input(placeholder=_("Note"), id="note", compact=True)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self._add_line("customer", self.session.node.customer)
        self._show_choices()
        if self.mode == "demo":
            for widget in self.query("#call-form Select, #call-form Input, #call-form Checkbox"):
                widget.can_focus = False
            self._timer = self.set_interval(self.pace_s, self._tick, name="demo-pace")
        self.set_focus(None)

    def _add_line(self, who: str, text: str) -> None:
        dialogue = self.query_one("#dialogue", VerticalScroll)
        prefix = self.scenario.persona.name if who == "customer" else _("Agent")
        line = Text.assemble((f"{prefix}: ", "bold"), text)
        dialogue.mount(Static(line, classes=f"said {who}"))
        dialogue.scroll_end(animate=False)

    def _show_choices(self) -> None:
        choices = self.query_one("#choices", Static)
        if self.session.over:
            if self.mode == "practice" and self.card is None:
                choices.update(_("The call is over: record it on the form, then ctrl+s for the scorecard."))
            else:
                choices.update("")
            return
        if self.mode == "demo":
            state = _("paused") if self.paused else _("playing")
            choices.update(_("Demo ({state}): space pauses, n steps.").format(state=state))
            return
        lines = [f"{i}. {c.say}" for i, c in enumerate(self.session.choices, 1)]
        choices.update("\n".join(lines))

    # -- playing -----------------------------------------------------------------------

    def _play(self, index: int) -> None:
        choice = self.session.choices[index]
        self._add_line("agent", choice.say)
        if self.mode == "demo":
            self._fill_from(choice)
        answer = self.session.choose(index)
        self._add_line("customer", answer)
        self._show_choices()
        if self.session.over and self.mode == "practice":
            self.query_one("#outcome", Select).focus()

    def _fill_from(self, choice: Any) -> None:
        """The demo fills the form as a model agent would, as the call goes."""
        if "identity" in choice.does:
            self.query_one("#identity", Checkbox).value = True
        if "disclosure" in choice.does:
            self.query_one("#disclosure", Checkbox).value = True
        if choice.offer is not None and "offer" in choice.does:
            self.query_one("#discount", Input).value = str(choice.offer.discount_percent)
            self.query_one("#term", Input).value = str(choice.offer.term_months)
            self.query_one("#first-days", Input).value = str(choice.offer.first_payment_days)

    def _tick(self) -> None:
        if not self.paused:
            self.action_step()

    def action_step(self) -> None:
        if self.mode != "demo" or self.card is not None:
            return
        if self.session.over:
            self._demo_record()
            self.action_finish()
            return
        self._play(self.scenario.best_choice(self.session.node_id))

    def _demo_record(self) -> None:
        expected = self.scenario.record
        self.query_one("#outcome", Select).value = expected.outcome
        if expected.result:
            self.query_one("#result", Select).value = expected.result
        if expected.reason:
            self.query_one("#reason", Select).value = expected.reason
        self.query_one("#party", Select).value = expected.party

    def action_pause(self) -> None:
        if self.mode != "demo":
            return
        self.paused = not self.paused
        self._show_choices()

    def action_say(self, index: int) -> None:
        if self.mode != "practice" or self.session.over or index >= len(self.session.choices):
            return
        self._play(index)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("pause", "step"):
            return self.mode == "demo"
        if action == "say":
            return self.mode == "practice" and not isinstance(self.focused, Input)
        return True

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if self._timer is not None:
            self._timer.stop()
        self.dismiss(self.card)

    # -- the end: record, send, score -----------------------------------------------------

    def recorded(self) -> Recorded:
        from tui.training.engine import Recorded
        from tui.training.scenario import Offer

        def value(widget_id: str) -> str | None:
            v = self.query_one(f"#{widget_id}", Select).value
            return None if v is Select.NULL else str(v)

        def number(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        offer = None
        if number("term") or number("discount") or number("first-days"):
            try:
                offer = Offer(discount_percent=Decimal(number("discount") or "0"), term_months=int(number("term") or 1),
                              first_payment_days=int(number("first-days") or 0))
            except (InvalidOperation, ValueError):
                offer = None
        return Recorded(outcome=value("outcome"), result=value("result"), reason=value("reason"),
                        party=value("party") or "debtor", identity_verified=self.query_one("#identity", Checkbox).value,
                        disclosure_given=self.query_one("#disclosure", Checkbox).value,
                        note=self.query_one("#note", Input).value, offer=offer)

    def action_finish(self) -> None:
        if self.card is not None or self._finishing:
            return
        if self.mode == "practice" and self.recorded().outcome is None:
            self.notify(_("Choose the call's outcome first."), severity="warning")
            self.query_one("#outcome", Select).focus()
            return
        self._finishing = True
        self.after_typing(self._finish, name="training-finish")

    def _finish(self) -> None:
        self.finish_call()

    @work(name="training-finish", group="training", exclusive=True, exit_on_error=False)
    async def finish_call(self) -> None:
        import dataclasses

        record = self.recorded()
        user = launched_by = self.desk.user.username if self.desk.user else ""
        if self.mode == "practice":
            api, user = await self._practice_api()
            if self.account_id is not None and api is not None:
                record = dataclasses.replace(record, refused_by=await self._send(api, record))
        card = self.session.finish(record if self.mode == "practice" else None, trainee=user, mode=self.mode)
        card.launched_by = launched_by
        card.practised_at = practised_now().isoformat()
        self.card = card
        if self._timer is not None:
            self._timer.stop()
        if self.mode == "practice":
            try:
                self.saved_to = save_scorecard(card, self.results or results_dir())
            except OSError as exc:
                self.notify(_("The scorecard could not be saved: {error}").format(error=str(exc)), severity="error",
                            markup=False)
        self._show_choices()
        board = self.query_one("#scorecard", Static)
        board.update(describe_card(card.as_json()))
        board.display = True
        board.border_title = _("Scorecard")
        self._finishing = False

    async def _practice_api(self) -> tuple[Any, str]:
        """The client to log the practice call through, and whose result it is."""
        from backend_client.client import BackendError

        desk = self.desk
        practice_api = getattr(desk, "practice_api", None)
        if practice_api is None:
            return desk.api, desk.user.username if desk.user else ""
        try:
            return await practice_api()
        except BackendError as exc:
            desk.report(exc, _("Training"))
            return None, desk.user.username if desk.user else ""

    async def _send(self, api: Any, record: Recorded) -> str | None:
        """Log the contact on the sandbox account; the backend's rule that refused it, if any."""
        from backend_client.client import BackendError, Conflict, Invalid
        from backend_client.models import ContactCreate

        assert self.account_id is not None
        started = self.session.started_at
        try:
            body = ContactCreate.model_validate({
                "channel": "phone", "party": record.party, "outcome": record.outcome, "result": record.result,
                "reason": record.reason, "note": record.note, "started_at": started.isoformat(),
                # The number dialled: the customer's own (a third party answering it is incidental, not dialled).
                "used": self.scenario.account.phone or None,
                "duration_s": max(0, int((self.desk.clock() - started).total_seconds())),
                "identity_verified": record.identity_verified, "disclosure_given": record.disclosure_given})
        except ValueError:
            return "invalid"
        try:
            await self.desk.call(api.log_contact(self.account_id, body))
        except Conflict as exc:
            return exc.problem.rule or "refused"
        except Invalid:
            return "invalid"
        except BackendError as exc:
            self.desk.report(exc, _("Training"))
            return None
        return None


class ResultsScreen(DeskScreen):
    """The trainees' saved scorecards, newest first."""

    NOUN = N_("Results")
    BINDINGS = [
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the scenarios"), id="results.back", priority=True),
    ]
    DEFAULT_CSS = """
    ResultsScreen #results { height: 1fr; }
    ResultsScreen #result-detail { height: auto; max-height: 10; padding: 0 1; border: round $primary; }
    """

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.cards = read_results(directory)

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Trainees' results"))
        options = []
        for card in self.cards:
            broken = len(card.get("rules_broken", []))
            when = when_practised(card)[:16].replace("T", " ")
            options.append(Option(_("{who} · {scenario} · {points}/{max} · {broken} broken · {when}").format(
                who=card.get("trainee") or "-", scenario=card.get("scenario"), points=card.get("points"),
                max=card.get("max_points"), broken=broken, when=when)))
        yield OptionList(*options, id="results")
        yield Static(_("No results saved yet.") if not self.cards else "", id="result-detail", markup=False)
        yield from self.status_and_footer()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        card = self.cards[event.option_index]
        self.query_one("#result-detail", Static).update(describe_card(card))

    def action_back(self) -> None:
        self.dismiss(None)


class TrainerScreen(DeskScreen):
    """The trainer's screen: the scenarios, to demo or practise, and the results."""

    NOUN = N_("Trainer")
    AUTO_FOCUS = "#scenarios"
    BINDINGS = [
        Binding("d", "launch('demo')", N_("Demo"), tooltip=N_("Play the scenario's model call for the class"),
                id="trainer.demo"),
        Binding("p", "launch('practice')", N_("Practice"), tooltip=N_("Practise the scenario against the customer"),
                id="trainer.practice"),
        Binding("r", "results", N_("Results"), tooltip=N_("The trainees' saved scorecards"), id="trainer.results"),
    ]
    DEFAULT_CSS = """
    TrainerScreen #scenarios { height: 1fr; }
    TrainerScreen #scenario-detail { height: auto; max-height: 8; padding: 0 1; border: round $primary; }
    """

    def __init__(self, scenarios: list[Scenario], *, errors: list[str] | None = None,
                 accounts: dict[str, int] | None = None, results: Path | None = None,
                 pace_s: float = DEMO_PACE_S) -> None:
        super().__init__()
        self.scenarios = scenarios
        self.errors = errors or []
        self.accounts = accounts or {}
        self.results = results
        self.pace_s = pace_s

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Training: scenarios"))
        yield OptionList(*[Option(f"{s.title}", id=s.id) for s in self.scenarios], id="scenarios")
        yield Static("", id="scenario-detail", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        for error in self.errors:
            self.notify(error, title=_("Scenario not loaded"), severity="error", markup=False)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        s = self.scenarios[event.option_index]
        self.query_one("#scenario-detail", Static).update(
            f"{s.summary}\n" + _("d demo · p practice · r results"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_launch("demo")

    def launch(self, scenario: Scenario, mode: str) -> None:
        self.app.push_screen(TrainingScreen(scenario, mode=mode, account_id=self.accounts.get(scenario.id),
                                            pace_s=self.pace_s, results=self.results))

    def action_launch(self, mode: str) -> None:
        index = self.query_one("#scenarios", OptionList).highlighted
        if index is None or not self.scenarios:
            return
        self.launch(self.scenarios[index], mode)

    def action_results(self) -> None:
        self.app.push_screen(ResultsScreen(self.results or results_dir()))
