"""Escalating one account: to legal, a supervisor, complaints, disputes, hardship,
fraud or an outside agency (SPEC §3).

The kind is on single keys (``l`` legal, ``s`` supervisor, ``c`` complaint,
``d`` dispute, ``h`` hardship, ``f`` fraud, ``a`` agency) that work while the
focus is not in a text field (a text field types them); ``f2`` brings the focus
to them from any field. Then the reason (one line, required) and a note.
For a legal referral the desk asks the backend at once what the referral still
lacks and lists it, in words, before the agent submits; a refusal naming what is
missing (``409`` with ``missing``) is listed the same way, and nothing typed is
lost. ``ctrl+s`` submits. The form is kept on this machine as it is typed (with
its idempotency key, so a retry after a lost answer escalates once), so
``escape``, a dropped connection or a killed process lose nothing; it comes back
with the focus on the kinds, and the reason never selects its text when reached,
so no key replaces what was typed.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Static, TextArea

from backend_client.client import (
    BackendError,
    BackendUnavailable,
    BadResponse,
    Conflict,
    Invalid,
    ProblemResponse,
    Unauthorized,
)
from backend_client.models import AccountDetail, EscalationCreate, EscalationOut
from tui.i18n import N_, _
from tui.keys import key_for, key_of
from tui.labels import ESCALATION_KINDS, ESCALATION_STATUSES, label, missing
from tui.screens.common.base import DeskScreen
from tui.widgets.choices import ChoiceRow

KIND_KEYS = {"legal": "l", "supervisor": "s", "complaint": "c", "dispute": "d", "hardship": "h", "fraud": "f",
             "agency": "a"}
MAX_REASON = 200
MAX_NOTE = 4000

# What happens to each kind, said before it is submitted.
ABOUT: dict[str, str] = {
    "legal": N_("A legal officer decides it. The legal pack (demand letter, statement of account, contact history "
                "and plan history) is made with it."),
    "supervisor": N_("A supervisor of the team decides it."),
    "complaint": N_("A supervisor decides it. Collection is paused until the complaint is closed."),
    "dispute": N_("A supervisor decides it. Collection is paused until the dispute is reviewed."),
    "hardship": N_("A supervisor reviews the customer's hardship."),
    "fraud": N_("A supervisor reviews the fraud claim."),
    "agency": N_("A supervisor decides whether an outside agency takes the account."),
}


def _kind_bindings() -> list[Binding]:
    return [Binding(key, f"pick_kind('{kind}')", ESCALATION_KINDS[kind],
                    tooltip=N_("Choose the kind of escalation; from a text field, go to the kind keys first"),
                    id=f"escalate.kind.{kind}", show=False, priority=True) for kind, key in KIND_KEYS.items()]


class EscalateScreen(DeskScreen):
    NOUN = N_("Escalation")
    AUTO_FOCUS = "#escalate-kinds"
    PALETTE_TITLES = {"escalate.choose": (N_("Escalation"), N_("go to the kind keys"))}
    BINDINGS = [
        Binding("f2", "choose", N_("Kind"), tooltip=N_("To the kind keys, from any field"), id="escalate.choose",
                priority=True),
        Binding("ctrl+s", "submit", N_("Submit"), tooltip=N_("Escalate the account as typed"), id="escalate.submit",
                priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; the draft is kept"), id="escalate.back",
                priority=True),
        *_kind_bindings(),
    ]

    def __init__(self, account: AccountDetail) -> None:
        super().__init__()
        self.account = account
        self.kind: str | None = None
        self.missing: list[str] | None = None
        """What a legal referral lacks, in the backend's words (None: not known yet)."""
        self.checks = ""
        """What the panel says, as plain text."""
        self.escalation: EscalationOut | None = None
        """The escalation made from this form."""
        self._idem: tuple[str, dict[str, Any]] | None = None
        self._restoring = False
        self._busy = False

    # -- layout -------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        a = self.account
        yield self.title_bar(" · ".join((_("Escalate"), a.account_ref, a.customer.name,
                                         _("DPD {dpd}").format(dpd=a.dpd))))
        yield ChoiceRow(_("Kind"), {k: label(ESCALATION_KINDS, k) for k in KIND_KEYS}, dims_while_typing=True,
                        id="escalate-kinds")
        with Horizontal(classes="form-row"):
            yield Label(_("Reason"), classes="row-label")
            yield Input(placeholder=_("why, in one line (required)"), id="escalate-reason", compact=True,
                        max_length=MAX_REASON, select_on_focus=False)
        yield Label(_("Note for whoever decides (optional)"), classes="escalate-label")
        yield TextArea(id="escalate-note", compact=True, soft_wrap=True, tab_behavior="focus",
                       placeholder=_("what was tried, what the customer said"))
        with VerticalScroll(id="escalate-checks-box"):
            yield Static("", id="escalate-checks")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#escalate-checks-box").can_focus = False
        kinds = self.query_one(ChoiceRow)
        kinds.keys = {b.action.split("'")[1]: key_for(self.app, b, self.desk.keymap) for b in _kind_bindings()}
        draft = self.desk.drafts.get(self.draft_key)
        if draft:
            self._restore(draft)
        self._show_checks()

    def place(self) -> tuple[int, str, str, str | None]:
        a = self.account
        return (a.id, a.account_ref, a.customer.name, "escalation")

    @property
    def draft_key(self) -> str:
        return self.desk.draft_key(self.account.id, "escalation")

    # -- the form -----------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.query_one("#escalate-reason", Input).value,
                "note": self.query_one("#escalate-note", TextArea).text}

    def _restore(self, draft: dict[str, Any]) -> None:
        self._restoring = True
        try:
            if draft.get("kind") in KIND_KEYS:
                self.action_pick_kind(draft["kind"])
            self.query_one("#escalate-reason", Input).value = str(draft.get("reason") or "")
            self.query_one("#escalate-note", TextArea).text = str(draft.get("note") or "")
            idem = draft.get("idem")
            if isinstance(idem, dict) and isinstance(idem.get("body"), dict):
                self._idem = (str(idem.get("key")), idem["body"])
        finally:
            self._restoring = False
        self.notify(_("Your draft for this account is back."), title=_("Draft"))

    def _save_draft(self) -> None:
        if self._restoring or self.escalation is not None or not self.is_mounted:
            return
        values = self.values()
        if values["kind"] or values["reason"].strip() or values["note"].strip():
            if self._idem is not None:
                values["idem"] = {"key": self._idem[0], "body": self._idem[1]}
            self.desk.drafts.put(self.draft_key, values)
        else:
            self.desk.drafts.drop(self.draft_key)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.escalation is not None and action in ("submit", "pick_kind"):
            return None
        return True

    def action_choose(self) -> None:
        """``f2``: the focus to the kind keys, from any field."""
        self.set_focus(self.query_one(ChoiceRow))

    def action_pick_kind(self, kind: str) -> None:
        if self.escalation is not None or kind not in KIND_KEYS:
            return
        changed = kind != self.kind
        self.kind = kind
        self.query_one(ChoiceRow).chosen = kind
        if changed:
            self.missing = None
        if not self._restoring:
            # At once (not on the next idle): keys already on their way go to the reason.
            self.set_focus(self.query_one("#escalate-reason", Input))
            self._save_draft()
        self._show_checks()
        if kind == "legal" and self.missing is None:
            self.check_legal()

    @on(ChoiceRow.Picked, "#escalate-kinds")
    def _kind_clicked(self, event: ChoiceRow.Picked) -> None:
        self.action_pick_kind(event.code)

    @on(Input.Changed, "#escalate-reason")
    @on(TextArea.Changed, "#escalate-note")
    def _changed(self) -> None:
        self._save_draft()

    # -- what the escalation needs ----------------------------------------------------

    @work(name="escalation-check", group="escalation-check", exclusive=True, exit_on_error=False)
    async def check_legal(self) -> None:
        self._show_checks(asking=True)
        try:
            answer = await self.desk.call(self.desk.api.escalation_check(self.account.id, "legal"))
        except BackendError as exc:
            if self.kind == "legal":
                self._show_checks(failed=exc)
            return
        if self.kind == "legal":
            self.missing = list(answer.missing)
            self._show_checks()

    def _show_checks(self, *, asking: bool = False, failed: BackendError | None = None,
                     refused: str | None = None) -> None:
        text = Text()

        def line(words: str, style: str = "") -> None:
            if text:
                text.append("\n")
            text.append(words, style=style)

        kind = self.kind
        if kind is None:
            line(self._choose_the_kind(), "dim")
        else:
            line(label(ABOUT, kind))
            if kind == "legal":
                if asking and self.missing is None:
                    line(_("Asking the backend whether this account may be referred…"), "dim")
                elif failed is not None and self.missing is None:
                    line(_("Could not ask the backend what the referral needs: {error}").format(
                        error=str(failed)[:100]), "yellow")
                elif self.missing:
                    line("✗ " + _("Not possible yet. A legal referral still needs:"), "bold red")
                    for item in self.missing:
                        line("  • " + missing(item), "red")
                elif self.missing is not None:
                    line("✓ " + _("Meets every precondition of a legal referral."), "bold green")
        if refused:
            line("✗ " + refused, "bold red")
        self.checks = text.plain
        self.query_one("#escalate-checks", Static).update(text)

    def _choose_the_kind(self) -> str:
        keys = ", ".join(f"{key_of(self.app, f'escalate.kind.{k}', self.desk.keymap, KIND_KEYS[k])} "
                           f"{label(ESCALATION_KINDS, k)}" for k in KIND_KEYS)
        return _("Choose the kind with its key: {keys} ({jump} first, from the reason or the note).").format(
            keys=keys, jump=key_of(self.app, "escalate.choose", self.desk.keymap, "f2"))

    # -- submitting ----------------------------------------------------------------------

    def read_form(self) -> tuple[EscalationCreate | None, str, str]:
        """The escalation as typed, or (None, the field at fault, what is wrong)."""
        v = self.values()
        if self.kind is None:
            return None, "escalate-kinds", self._choose_the_kind()
        reason = v["reason"].strip()
        if not reason:
            return None, "escalate-reason", _("Type the reason for the escalation.")
        if len(v["note"]) > MAX_NOTE:
            return None, "escalate-note", _("The note is too long (4,000 characters at most).")
        try:
            return EscalationCreate(kind=self.kind, reason=reason, note=v["note"]), "", ""  # type: ignore[arg-type]
        except ValidationError:
            return None, "escalate-reason", _("The reason or the note has characters that cannot be sent.")

    def action_submit(self) -> None:
        if self._busy or self.escalation is not None:
            return
        self._busy = True
        self.desk.hold_keys()
        self.after_typing(self._submit_as_typed, name="escalate-when-typed")

    def _submit_as_typed(self) -> None:
        body, field, problem = self.read_form()
        if body is None:
            self._busy = False
            self.desk.release_keys()
            self.set_focus(self.query_one(f"#{field}"))
            self.notify(problem, title=_("Not escalated yet"), severity="error", markup=False)
            return
        self.submit(body)

    def _idempotency_key(self, body: dict[str, Any]) -> str:
        if self._idem is None or self._idem[1] != body:
            self._idem = (uuid.uuid4().hex, body)
        return self._idem[0]

    @work(name="escalate", group="escalate", exit_on_error=False)
    async def submit(self, body: EscalationCreate) -> None:
        desk = self.desk
        key = self._idempotency_key(body.model_dump(mode="json"))
        self._save_draft()  # the key is on disk before the request leaves
        try:
            out = await desk.call(desk.api.escalate(self.account.id, body, idempotency_key=key))
        except (BackendUnavailable, Unauthorized, BadResponse) as exc:
            self._busy = False
            desk.release_keys()
            if isinstance(exc, BackendUnavailable):
                desk.offline_said()
                self.notify(_("The backend is not answering: the account is not escalated yet. The form is kept on "
                              "this machine; submit it when the backend is back."), title=_("Not escalated"),
                            severity="warning")
            return
        except ProblemResponse as exc:
            self._busy = False
            desk.release_keys()
            self._refused(exc)
            return
        self._busy = False
        desk.release_keys()
        self.escalation = out
        desk.drafts.drop(self.draft_key)
        desk.worklist_stale = True
        self.notify(_("{kind} #{id} on {ref}: {status}, in the queue of whoever decides it.").format(
            kind=label(ESCALATION_KINDS, out.kind), id=out.id, ref=out.account_ref,
            status=label(ESCALATION_STATUSES, out.status)), title=_("Escalated"))
        self.dismiss(True)

    def _refused(self, exc: ProblemResponse) -> None:
        # A refusal answers this body: a changed form (or the same, later) is a new request.
        self._idem = None
        self._save_draft()
        extra = exc.problem.model_extra or {}
        if isinstance(exc, Conflict) and isinstance(extra.get("missing"), list):
            self.missing = [str(m) for m in extra["missing"]]
            self._show_checks()
            # The form lists each item; the toast must not cover that list.
            self.notify(_("A legal referral is not possible yet: {count} missing, listed on the form.").format(
                count=len(self.missing)), title=_("Not escalated"), severity="error", markup=False)
            return
        if isinstance(exc, Conflict) and exc.problem.rule == "escalation-open":
            message = _("This account already has a {kind} escalation waiting for a decision.").format(
                kind=label(ESCALATION_KINDS, self.kind))
        elif isinstance(exc, Invalid):
            message = _("The backend refused these fields: {fields}").format(
                fields=", ".join(exc.field_errors()) or "?")
        elif isinstance(exc, Conflict):
            message = exc.problem.detail or exc.problem.title
        else:
            self.desk.report(exc, _("Escalate"))
            return
        self._show_checks(refused=message)
        self.notify(message, title=_("Not escalated"), severity="error", markup=False)

    # -- leaving ------------------------------------------------------------------------

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if self._busy:
            self.notify(_("Sending… a moment."))
            return
        self._save_draft()
        self.dismiss(self.escalation is not None)
