"""A note on an account: typed over the account screen, kept as a draft while
it is typed, written to the outbox and sent when saved. ``ctrl+o`` shares it
with other teams (customer service, sales), who read only shared notes."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea

from backend_client.client import BackendUnavailable, BadResponse, ProblemResponse, Unauthorized
from backend_client.models import AccountDetail, NoteCreate
from tui.i18n import N_, _
from tui.screens.common.base import DeskModal

MAX_NOTE = 4000


class NoteScreen(DeskModal):
    NOUN = N_("Note")
    AUTO_FOCUS = "#note-text"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), tooltip=N_("Save the note on the account"), id="note.save",
                priority=True),
        Binding("ctrl+o", "toggle_shared", N_("Share"),
                tooltip=N_("Share the note with other teams (customer service, sales), or keep it to your team"),
                id="note.shared", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; the draft is kept"), id="note.back", priority=True),
    ]

    def __init__(self, account: AccountDetail) -> None:
        super().__init__()
        self.account = account
        self._saving = False
        self.shared = False
        """Whether other teams (customer service, sales) may read the note."""

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(_("Note on {ref} · {name}").format(ref=self.account.account_ref, name=self.account.customer.name),
                         classes="title-bar", markup=False)
            yield TextArea(id="note-text", compact=True, soft_wrap=True, tab_behavior="focus",
                           placeholder=_("Type the note; Ctrl+S saves, Esc keeps it as a draft"))
            with Horizontal(id="note-foot"):
                yield Static("", id="note-visibility", markup=False)
                yield Static("", id="note-count", markup=False)
        yield from self.status_and_footer()

    def place(self) -> tuple[int, str, str, str | None]:
        a = self.account
        return (a.id, a.account_ref, a.customer.name, "note")

    @property
    def draft_key(self) -> str:
        return self.desk.draft_key(self.account.id, "note")

    def on_mount(self) -> None:
        draft = self.desk.drafts.get(self.draft_key) or self.desk.take_refused(self.account.id, "note")
        if draft and draft.get("text"):
            self.shared = bool(draft.get("shared"))
            self.query_one("#note-text", TextArea).text = draft["text"]
            if draft.get("refused"):
                self.notify(_("This note was refused by the backend: {reason}").format(reason=draft["refused"]),
                            severity="error", markup=False)
        self._count()
        self._show_visibility()

    def _show_visibility(self) -> None:
        line = self.query_one("#note-visibility", Static)
        line.update(_("Shared with other teams") if self.shared else _("Your team only"))
        line.set_class(self.shared, "-shared")

    def action_toggle_shared(self) -> None:
        self.shared = not self.shared
        self._show_visibility()
        self._keep_draft()

    @on(TextArea.Changed)
    def _changed(self) -> None:
        self._count()
        self._keep_draft()

    def _keep_draft(self) -> None:
        if self._saving:
            return
        text = self.query_one("#note-text", TextArea).text
        if text.strip():
            self.desk.drafts.put(self.draft_key, {"text": text, "shared": self.shared})
        else:
            self.desk.drafts.drop(self.draft_key)

    def _count(self) -> None:
        n = len(self.query_one("#note-text", TextArea).text)
        self.query_one("#note-count", Static).update(_("{count} of {limit} characters").format(
            count=f"{n:,}", limit=f"{MAX_NOTE:,}"))

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if self._saving:
            return
        self.dismiss(False)

    def action_save(self) -> None:
        if self._saving:
            return
        self._saving = True
        self.desk.hold_keys()
        self.after_typing(self._save_as_typed, name="save-when-typed")

    def _save_as_typed(self) -> None:
        text = self.query_one("#note-text", TextArea).text
        problem = None
        if not text.strip():
            problem = _("The note is empty.")
        elif len(text) > MAX_NOTE:
            problem = _("The note is too long (4,000 characters at most).")
        else:
            try:  # the wire's rule (a pasted control character, say): said here, never queued
                NoteCreate(text=text, visibility="shared" if self.shared else "team")
            except ValidationError as exc:
                problem = _("Cannot save: check {fields}").format(
                    fields=", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()))
        if problem:
            self._saving = False
            self.desk.release_keys()
            self.notify(problem, severity="error")
            return
        self.save(text)

    @work(name="save-note", group="note", exit_on_error=False)
    async def save(self, text: str) -> None:
        desk = self.desk
        visibility = "shared" if self.shared else "team"
        entry = desk.queue("note", account_id=self.account.id, account_ref=self.account.account_ref,
                           body={"text": text, "visibility": visibility}, draft={"text": text, "shared": self.shared})
        try:
            await desk.deliver(entry)
        except (BackendUnavailable, Unauthorized, BadResponse) as exc:
            desk.drafts.drop(self.draft_key)
            desk.say_kept(self, exc, lapsed=_("Your session has ended: the note is kept on this machine and will be "
                                              "sent when you sign in again."),
                          offline=_("The backend is not answering: the note is kept on this machine and will be sent "
                                    "when it is back."))
            self.dismiss(True)
            return
        except ProblemResponse as exc:
            self._saving = False
            desk.release_keys()
            desk.report(exc, _("Note"))
            return
        desk.drafts.drop(self.draft_key)
        saved = (_("Shared note saved on {ref}.") if self.shared else _("Note saved on {ref}.")).format(
            ref=self.account.account_ref)
        self.notify(saved, title=_("Saved"))
        self.dismiss(True)
