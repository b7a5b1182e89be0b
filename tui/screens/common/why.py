"""Why an account is where it is in the worklist, every reason (issue 17 item 1): the
worklist's line and the account screen's show as many as fit; ``w`` on either shows them
all, one a line, wrapped, the verdict on calling first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.i18n import N_, _
from tui.screens.common.base import DeskModal


class WhyScreen(DeskModal):
    NOUN = N_("Why")
    AUTO_FOCUS = "#why-body"
    BINDINGS = [
        Binding("escape,w", "close", N_("Close"), tooltip=N_("Close the list of reasons"), id="why.close",
                priority=True),
    ]

    def __init__(self, title: str, verdict: str, reasons: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.verdict = verdict
        self.reasons = reasons
        """Every reason, in the desk's language: what the screen lists."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="why-body"):
            yield Static(self.title_text, classes="title-bar", markup=False)
            if self.verdict:
                yield Static(self.verdict, id="why-verdict", markup=False)
            lines = [f"• {reason}" for reason in self.reasons] or [_("No reasons were given.")]
            yield Static("\n".join(lines), id="why-reasons", markup=False)
        yield from self.status_and_footer()

    def action_close(self) -> None:
        self.dismiss()
