"""What every screen of the desk shares: bindings in the desk's language, a
title bar, the status line and the footer."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from tui.i18n import N_
from tui.keys import localize_bindings
from tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tui.app import CollectDesk


class DeskMixin:
    NOUN: ClassVar[str] = N_("Desk")
    """The noun of this screen's actions in the command palette (``Account: log contact``)."""

    @property
    def desk(self) -> CollectDesk:
        return cast("CollectDesk", self.app)  # type: ignore[attr-defined]

    def _steady_cursors(self) -> None:
        """On a thin link a blinking cursor is a stream of redraws: keep it still."""
        if self.desk.low_bandwidth:
            for widget in self.query("Input, TextArea"):  # type: ignore[attr-defined]
                widget.cursor_blink = False

    def status_and_footer(self) -> ComposeResult:
        line = StatusLine()
        line.set_reactive(StatusLine.status, self.desk.status)
        yield line
        yield Footer(compact=True, show_command_palette=False)


class DeskScreen(DeskMixin, Screen):
    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        localize_bindings(self)

    def on_mount(self) -> None:
        self._steady_cursors()

    def title_bar(self, text: str, *, id: str = "title") -> Static:
        return Static(text, id=id, classes="title-bar", markup=False)


class DeskModal(DeskMixin, ModalScreen):
    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        localize_bindings(self)

    def on_mount(self) -> None:
        self._steady_cursors()
