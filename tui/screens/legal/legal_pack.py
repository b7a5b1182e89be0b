"""A referral's legal pack, read on the desk: the Markdown of each document
(demand letter, statement of account, contact history, plan history) in a
scrollable viewer, and where its PDF was saved on this machine.

``1``–``4`` (or ``n``) choose the document; the arrows, ``pgup``/``pgdn``,
``home`` and ``end`` scroll it; ``escape`` goes back to the inbox.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static

from backend_client.models import EscalationOut
from tui.i18n import N_, _
from tui.labels import DOCUMENT_KINDS, DOCUMENT_SHORT, label
from tui.screens.common.base import DeskScreen
from tui.widgets.choices import ChoiceRow

ORDER = ("demand_letter", "statement", "contact_history", "plan_history")


def _doc_bindings() -> list[Binding]:
    return [Binding(str(n), f"show_document('{kind}')", DOCUMENT_KINDS[kind], tooltip=N_("Show this document"),
                    id=f"pack.{kind}", show=False, priority=True) for n, kind in enumerate(ORDER, start=1)]


class LegalPackScreen(DeskScreen):
    NOUN = N_("Legal pack")
    AUTO_FOCUS = "#pack-scroll"
    BINDINGS = [
        Binding("n", "next_document", N_("Next document"), tooltip=N_("Show the next document of the pack"),
                id="pack.next", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the escalations inbox"), id="pack.back",
                priority=True),
        *_doc_bindings(),
    ]

    def __init__(self, escalation: EscalationOut, folder: Path, markdown: dict[str, str]) -> None:
        """``markdown``: document kind → its Markdown text."""
        super().__init__()
        self.escalation = escalation
        self.folder = folder
        self.markdown = markdown
        self.kinds = [k for k in ORDER if k in markdown] + [k for k in markdown if k not in ORDER]
        self.kind: str | None = None

    def compose(self) -> ComposeResult:
        e = self.escalation
        yield self.title_bar(_("Legal pack · #{id} · {ref} · {name}").format(id=e.id, ref=e.account_ref,
                                                                            name=e.customer_name))
        yield ChoiceRow(_("Document"), {k: label(DOCUMENT_SHORT, k) for k in self.kinds}, id="pack-documents")
        yield Static("", id="pack-pdf", classes="lines", markup=False)
        with VerticalScroll(id="pack-scroll"):
            yield Markdown("", id="pack-markdown")
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        row = self.query_one(ChoiceRow)
        row.can_focus = False
        row.keys = {kind: str(n) for n, kind in enumerate(ORDER, start=1) if kind in self.kinds}
        if self.kinds:
            self.action_show_document(self.kinds[0])

    def pdf_path(self, kind: str) -> Path:
        return self.folder / f"{kind}.pdf"

    def action_show_document(self, kind: str) -> None:
        if kind not in self.markdown:
            return
        self.kind = kind
        self.query_one(ChoiceRow).chosen = kind
        pdf = self.pdf_path(kind)
        self.query_one("#pack-pdf", Static).update(
            _("PDF: {path}").format(path=pdf) if pdf.exists() else _("Saved in: {path}").format(path=self.folder))
        self.query_one("#pack-markdown", Markdown).update(self.markdown[kind])
        self.query_one("#pack-scroll", VerticalScroll).scroll_home(animate=False)

    def action_next_document(self) -> None:
        if not self.kinds:
            return
        at = self.kinds.index(self.kind) if self.kind in self.kinds else -1
        self.action_show_document(self.kinds[(at + 1) % len(self.kinds)])

    def action_back(self) -> None:
        self.app.pop_screen()
