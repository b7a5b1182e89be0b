"""What every screen of the desk shares: bindings in the desk's language, a
title bar, the status line and the footer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import EllipsisType
from typing import TYPE_CHECKING, ClassVar, cast

from textual.app import ComposeResult
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.i18n import N_
from tui.keys import localize_bindings
from tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from tui.desk import Desk

Place = tuple[int, str, str, str | None]
"""An account (id, reference, customer's name) and the form open on it (a draft's form name)."""


class DeskMixin:
    NOUN: ClassVar[str] = N_("Desk")
    """The noun of this screen's actions in the command palette (``Account: log contact``)."""
    PALETTE_TITLES: ClassVar[dict[str, tuple[str, str]]] = {}
    """Binding id → (noun, verb), both marked with ``N_()``: a palette title other than
    ``NOUN: description`` (an account screen's action on the customer: ``Customer: confirm time zone``)."""

    @property
    def desk(self) -> Desk:
        """The app, as a screen may use it (``tui.desk.Desk``)."""
        return cast("Desk", self.app)  # type: ignore[attr-defined]

    def ready_for_keys(self) -> bool:
        """Whether keys typed while this screen opened can be handled now (a screen
        that loads what its keys act on says no until it has; the desk then waits
        as long as its requests may take, ``Desk.network_hold_s``, and keys are
        let go sooner if a request fails)."""
        return True

    def place(self) -> Place | None | EllipsisType:
        """Where the agent is while this screen is on top: ``(account id, reference, name,
        form)`` on an account (``form``: the draft's form open on it, or None), None on a
        list or the sign-in, ``...`` where the screen does not move them (a modal over the
        account). A desk started after its terminal is lost returns there (``Places``)."""
        return None

    def on_screen_resume(self) -> None:
        # The screen is mounted and focused: keys typed while it opened may come in.
        if self.ready_for_keys():
            self.desk.release_keys()
        self.desk.nav.moved_to(self.place())

    def after_typing(self, callback: Callable[[], object], *, name: str) -> None:
        """Run ``callback`` once every text field has taken the keys already sent
        to it. A priority key (``ctrl+s``) acts the moment it is read, while the
        characters typed just before it may still be on their way to their field."""

        async def drained() -> None:
            for field in list(self.query("Input, TextArea")):  # type: ignore[attr-defined]
                arrived = asyncio.Event()
                field.call_later(arrived.set)
                await arrived.wait()
            callback()

        self.run_worker(drained(), name=name, group="typing", exit_on_error=False)  # type: ignore[attr-defined]

    def skip_if_menu_open(self) -> None:
        """A priority key (escape) is the open drop-down's, not the screen's."""
        from textual.actions import SkipAction
        from textual.widgets import Select

        if any(select.expanded for select in self.query(Select)):  # type: ignore[attr-defined]
            raise SkipAction()

    def _steady_cursors(self) -> None:
        """On a thin link a blinking cursor is a stream of redraws: keep it still."""
        if self.desk.low_bandwidth:
            for widget in self.query("Input, TextArea"):  # type: ignore[attr-defined]
                widget.cursor_blink = False

    def status_and_footer(self) -> ComposeResult:
        line = StatusLine()
        line.set_reactive(StatusLine.status, self.desk.status)
        yield line
        from tui.widgets.keys_footer import KeysFooter

        yield KeysFooter(compact=True, show_command_palette=False)


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

    def place(self) -> Place | None | EllipsisType:
        return ...

    def on_mount(self) -> None:
        self._steady_cursors()
