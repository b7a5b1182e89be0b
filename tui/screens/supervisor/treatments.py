"""Treatments (issue 20 item 4): the reminders the strategies send by themselves, one day
at a time, for the supervisor to watch and to stop.

At the top, whether the backend runs them on a schedule, which channels are configured, and
the last run (when, what it counted, the channels found down, the letters in its print file).
Then each step of the champion's and the challenger's path with the day's messages by status
and whether it is paused; then the day's messages, newest first (to whom, as the backend
gives it, masked; the next try or when it went, in the supervisor's zone; why it waits, was
skipped or failed), the highlighted one in full below.

The day is the desk clock's UTC date (the backend's); ``left`` and ``right`` move a day.
``p`` pauses the highlighted step, asking for a short note, or resumes it (supervisors and
admins; legal officers watch). ``f5`` loads again, each table keeping its place.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Static

from backend_client.client import BackendError
from backend_client.models import TreatmentDay, TreatmentPauseCreate, TreatmentSendOut, TreatmentStepFigures
from tui import fmt
from tui.i18n import N_, _
from tui.labels import (
    CHANNELS,
    RUN_COUNTS,
    SEND_STATUSES,
    STRATEGIES,
    label,
    listing,
    treatment_rule,
    treatment_when,
)
from tui.screens.common.base import DeskModal
from tui.screens.common.queue import QueueScreen, cursor_bindings, fit, right

PAUSERS = ("supervisor", "admin")
"""Who pauses and resumes a step (the backend's rule); legal officers watch."""

COUNTED = ("pending", "waiting", "sent", "failed", "skipped")
"""A step's counts by status, in the steps table's order."""

MAX_PAUSE_NOTE = 200
"""A pause's note is a short reason (the wire takes more)."""


class PauseStepScreen(DeskModal):
    """``Pause champion / sms_1?`` with a short note: ``enter`` pauses it, ``escape`` does not.
    What was typed stays when the backend refuses or is not there."""

    NOUN = N_("Pause step")
    AUTO_FOCUS = "#pause-note"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("ctrl+s", "pause", N_("Pause"), tooltip=N_("Pause the step now, with the note"), id="pause.save",
                priority=True),
        Binding("escape", "back", N_("Cancel"), tooltip=N_("Pause nothing and go back to the treatments"),
                id="pause.back", priority=True),
    ]

    def __init__(self, step: TreatmentStepFigures) -> None:
        super().__init__()
        self.step = step
        self._saving = False

    def compose(self) -> ComposeResult:
        step = self.step
        with Vertical(id="pause-box"):
            yield Static(_("Pause {strategy} · {step}").format(strategy=label(STRATEGIES, step.strategy),
                                                              step=step.step_id), classes="title-bar", markup=False)
            yield Static(_("Nothing more is sent for this step until it is resumed; its messages wait, none is "
                           "lost. Why is it paused?"), id="pause-why", markup=False)
            yield Input(id="pause-note", max_length=MAX_PAUSE_NOTE, compact=True,
                        placeholder=_("A short note for the team"))
            yield Static(_("Enter or Ctrl+S pauses · Esc cancels"), id="pause-keys", markup=False)
        yield from self.status_and_footer()

    @property
    def note(self) -> str:
        return self.query_one("#pause-note", Input).value

    @on(Input.Submitted, "#pause-note")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_pause()

    def action_back(self) -> None:
        if not self._saving:
            self.dismiss(None)

    def action_pause(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.after_typing(self._pause_as_typed, name="pause-when-typed")

    def _pause_as_typed(self) -> None:
        self.save(TreatmentPauseCreate(strategy=self.step.strategy, step_id=self.step.step_id,
                                       note=self.note.strip()))

    @work(name="pause-step", group="pause-step", exclusive=True, exit_on_error=False)
    async def save(self, body: TreatmentPauseCreate) -> None:
        try:
            paused = await self.desk.call(self.desk.api.pause_treatment(body))
        except BackendError as exc:
            self._saving = False  # the note stays as typed: Enter tries again
            self.desk.report(exc, _("Pause step"))
            return
        self.dismiss(paused)


class TreatmentsScreen(QueueScreen[TreatmentStepFigures]):
    NOUN = N_("Treatments")
    AUTO_FOCUS = "#treat-steps"
    CSS_PATH = "supervisor.tcss"
    BINDINGS = [
        Binding("p", "pause", N_("(Un)pause"),
                tooltip=N_("Pause the highlighted step (with a note), or resume it if it is paused"),
                id="treatments.pause", priority=True),
        Binding("left", "day(-1)", N_("Prev day"), tooltip=N_("The treatments of the day before"),
                id="treatments.day_before", priority=True),
        Binding("right", "day(1)", N_("Next day"), tooltip=N_("The treatments of the day after, up to today"),
                id="treatments.day_after", priority=True),
        *cursor_bindings("treatments"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Load the day's treatments again"), id="treatments.reload"),
        Binding("escape", "back", N_("Back"), tooltip=N_("Go back"), id="treatments.back", priority=True),
    ]

    TABLE = "treat-steps"
    WIDTHS: ClassVar[dict[str, int]] = {"strategy": 11, "step": 13, "channel": 9, "when": 11,
                                        **{s: 5 for s in COUNTED}, "pending": 6, "paused": 7}
    """The steps' columns, in cells, each with its space: 77 fit 80 beside the scrollbar
    (``challenger`` is 10, 电子邮件 8)."""
    SEND_WIDTHS: ClassVar[dict[str, int]] = {"ref": 10, "step": 13, "channel": 9, "status": 9, "to": 13,
                                             "time": 14, "rule": 9}
    """The messages' columns: 77 fit 80 beside the scrollbar (``3月11日 11:00`` is 13)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[TreatmentStepFigures] = []
        self.sends: list[TreatmentSendOut] = []
        self.found: TreatmentDay | None = None
        self.day: dt.date = self.today()
        self._loaded_once = False

    def today(self) -> dt.date:
        """The backend's day: the desk clock's date in UTC."""
        return self.desk.clock().astimezone(dt.UTC).date()

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Treatments"))
        yield Static("", id="treat-head", markup=False)
        yield DataTable(id="treat-steps", cursor_type="row", cell_padding=0, zebra_stripes=False)
        yield DataTable(id="treat-sends", cursor_type="row", cell_padding=0, zebra_stripes=False)
        yield Static("", id="treat-empty", markup=False)
        yield Static("", id="treat-detail", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.add_columns(self._step_title)
        sends = self.sends_table
        titles = {"ref": _("Account"), "step": _("Path step"), "channel": _("Channel"), "status": _("Status"),
                  "to": _("Sent to"), "time": _("Next/sent"), "rule": _("Why")}
        for key, width in self.SEND_WIDTHS.items():
            sends.add_column(fit(titles[key], width), key=key, width=width)
        self.query_one("#treat-empty").display = False
        self.load()

    @staticmethod
    def _step_title(key: str, width: int) -> Text:
        titles = {"strategy": _("Strategy"), "step": _("Path step"), "channel": _("Channel"), "when": _("Trigger"),
                  "pending": _("To go"), "waiting": _("Wait"), "sent": _("Sent"), "failed": _("Fail"),
                  "skipped": _("Skip"), "paused": _("Paused")}
        return right(titles[key], width) if key in COUNTED else fit(titles[key], width)

    @property
    def sends_table(self) -> DataTable[Any]:
        return self.query_one("#treat-sends", DataTable)

    @property
    def may_pause(self) -> bool:
        user = self.desk.user
        return user is not None and user.role in PAUSERS

    # -- loading ------------------------------------------------------------------

    @work(name="treatments-day", group="treatments", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        found = await self.fetch(self.desk.api.treatments(self.day), _("Treatments"))
        if found is not None:
            self.show(found)
            self._ready()

    def show(self, found: TreatmentDay) -> None:
        """The day on screen; each table's cursor stays on the step (or message) it was on."""
        step = self.current
        keep_step = (step.strategy, step.step_id) if step else None
        send = self._current_send()
        keep_send = send.id if send else None
        self.found = found
        self.items = list(found.steps)
        self.sends = list(found.items)
        w = self.WIDTHS
        steps = self.table
        steps.clear()
        for s in self.items:
            cells = [fit(label(STRATEGIES, s.strategy), w["strategy"]), fit(s.step_id, w["step"]),
                     fit(label(CHANNELS, s.channel), w["channel"]), fit(treatment_when(s.when), w["when"])]
            for status in COUNTED:
                n = s.counts.get(status, 0)
                cells.append(right(f"{n:,}", w[status], "bold red" if status == "failed" else "")
                             if n else right("·", w[status], "dim"))
            cells.append(Text(_("PAUSED"), style="bold yellow") if s.paused else Text(""))
            steps.add_row(*cells, key=f"{s.strategy}/{s.step_id}")
        if keep_step is not None:
            steps.move_cursor(row=next((i for i, s in enumerate(self.items)
                                        if (s.strategy, s.step_id) == keep_step), 0))
        self._show_sends(keep_send)
        self._show_head(found)
        self.refresh_bindings()

    def _show_sends(self, keep: int | None) -> None:
        w = self.SEND_WIDTHS
        tz, now = self.desk.agent_tz, self.desk.clock()
        table = self.sends_table
        table.clear()
        for m in self.sends:
            at = m.sent_at if m.status == "sent" else m.next_attempt_at
            status = fit(label(SEND_STATUSES, m.status), w["status"])
            if m.status in ("failed", "unknown"):
                status.stylize("bold red")
            elif m.status == "skipped":
                status.stylize("dim")
            table.add_row(fit(m.account_ref, w["ref"]), fit(m.step_id, w["step"]),
                          fit(label(CHANNELS, m.channel), w["channel"]), status,
                          fit(m.to or "—", w["to"]), fit(fmt.when(at, tz, now=now) if at else "—", w["time"]),
                          fit(treatment_rule(m.rule) or m.reason or "", w["rule"]), key=str(m.id))
        if keep is not None:
            table.move_cursor(row=next((i for i, m in enumerate(self.sends) if m.id == keep), 0))
        empty = self.query_one("#treat-empty", Static)
        empty.update(_("No treatment messages on this day."))
        empty.display = not self.sends
        table.display = bool(self.sends)
        self._show_current_send()

    def _show_head(self, found: TreatmentDay) -> None:
        day = fmt.date_weekday(found.as_of)
        today = _(" (today)") if found.as_of == self.today() else ""
        self.query_one("#title", Static).update(_("Treatments · {day}{today} · UTC").format(day=day, today=today))
        text = Text()
        text.append(_("Schedule on") if found.enabled else _("Schedule off"),
                    style="bold" if found.enabled else "bold yellow")
        on_ = [label(CHANNELS, c) for c, ok in found.channels.items() if ok]
        off = [label(CHANNELS, c) for c, ok in found.channels.items() if not ok]
        text.append(" · " + _("channels: {names}").format(names=listing(on_, last_and=False) or "—"))
        if off:
            text.append(" · " + _("not configured: {names}").format(names=listing(off, last_and=False)),
                        style="yellow")
        run = found.last_run
        if run is None:
            text.append("\n" + _("No run yet."))
        else:
            counts = [f"{label(RUN_COUNTS, k)} {n:,}" for k, n in run.counts.items() if n]
            line = _("Last run {when}: {counts}").format(when=fmt.when(run.started_at, self.desk.agent_tz,
                                                                       now=self.desk.clock()),
                                                         counts=listing(counts, last_and=False) or _("nothing to do"))
            text.append("\n" + line)
            if run.outages:
                down = sorted({label(CHANNELS, str(o.get("channel"))) for o in run.outages})
                text.append(" · " + _("down: {names}").format(names=listing(down, last_and=False)), style="bold red")
            if run.letters:
                text.append(" · " + _("letters to print: {count}").format(count=f"{run.letters:,}"))
        self.query_one("#treat-head", Static).update(text)

    # -- the highlighted rows ------------------------------------------------------

    def _current_send(self) -> TreatmentSendOut | None:
        if not self.is_mounted or not self.sends:
            return None
        row = self.sends_table.cursor_row
        return self.sends[row] if 0 <= row < len(self.sends) else None

    @on(DataTable.RowHighlighted, "#treat-sends")
    def _send_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._show_current_send()

    @on(DataTable.RowHighlighted, "#treat-steps")
    def _step_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_bindings()

    def _show_current_send(self) -> None:
        detail = self.query_one("#treat-detail", Static)
        m = self._current_send()
        if m is None:
            detail.update("")
            return
        text = Text()
        text.append(f"{m.account_ref} {label(STRATEGIES, m.strategy)}/{m.step_id}", style="bold")
        text.append(" · " + label(SEND_STATUSES, m.status))
        if m.attempts:
            text.append(" · " + _("tries: {count}").format(count=m.attempts))
        if m.delivery:
            text.append(" · " + _("receipt: {word}").format(word=m.delivery))
        why = "; ".join(x for x in (treatment_rule(m.rule), m.reason) if x)
        if why:
            text.append(" · " + why)
        detail.update(text)

    # -- moving ------------------------------------------------------------------------

    def _table_moves(self) -> DataTable[Any]:
        """``j``/``k`` and the others move the table with the focus, either of the two."""
        focused = self.focused
        if isinstance(focused, DataTable) and focused.id in ("treat-steps", "treat-sends"):
            return focused
        return super()._table_moves()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pause":
            if not self.may_pause:
                return False  # legal officers watch
            return True if self.current is not None else None
        if action == "day" and parameters and parameters[0] == 1:
            return True if self.day < self.today() else None
        return True

    def action_day(self, delta: int) -> None:
        day = self.day + dt.timedelta(days=delta)
        if day > self.today():
            return
        self.day = day
        self.refresh_bindings()
        self.load()

    def action_back(self) -> None:
        self.app.pop_screen()

    # -- pausing and resuming ------------------------------------------------------------

    def action_pause(self) -> None:
        step = self.current
        if step is None or not self.may_pause:
            return
        if step.paused:
            self.resume(step)
            return

        def paused(out: object) -> None:
            if out is not None:
                self.notify(_("Paused {strategy} · {step}: nothing more is sent for it until it is resumed.").format(
                    strategy=label(STRATEGIES, step.strategy), step=step.step_id), title=_("Paused"), markup=False)
                self.load()

        self.app.push_screen(PauseStepScreen(step), paused)

    @work(name="resume-step", group="resume-step", exclusive=True, exit_on_error=False)
    async def resume(self, step: TreatmentStepFigures) -> None:
        try:
            await self.desk.call(self.desk.api.resume_treatment(step.strategy, step.step_id))
        except BackendError as exc:
            self.desk.report(exc, _("Resume step"))
            self.load()
            return
        self.notify(_("Resumed {strategy} · {step}: its messages go at the next run.").format(
            strategy=label(STRATEGIES, step.strategy), step=step.step_id), title=_("Resumed"), markup=False)
        self.load()
