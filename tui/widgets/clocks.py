"""The agent's clock and the customer's local clock(s), side by side.

Where the customer's time zone is unknown they could be in several; every one
is shown, because every one must be within calling hours.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui import fmt
from tui.i18n import _

TICK_SECONDS = 15.0


class DualClock(Widget):
    DEFAULT_CSS = """
    DualClock { height: 1; width: 1fr; }
    """

    zones: reactive[tuple[str, ...]] = reactive(tuple)
    """The customer's zones (IANA names)."""

    def __init__(self, *, clock: Callable[[], dt.datetime], agent_tz: dt.tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._agent_tz = agent_tz
        self._shown = ""
        """What the clocks showed when last painted."""

    def on_mount(self) -> None:
        self.set_interval(TICK_SECONDS, self._tick, name="clock")

    def _tick(self) -> None:
        # The clocks show minutes: painted again when a minute has turned, not on every tick
        # (an idle desk on a thin link writes nothing while nothing it shows has changed).
        if self.render().plain != self._shown:
            self.refresh()

    def show_zones(self, zones: Sequence[str]) -> None:
        self.zones = tuple(zones)

    def render(self) -> Text:
        now = self._clock()
        text = Text()
        text.append(_("You") + " ", style="dim")
        text.append(fmt.clock(now, self._agent_tz), style="bold")
        if self.zones:
            text.append("   ")
            text.append(_("Customer") + " ", style="dim")
            shown = []
            for name in self.zones[:3]:
                shown.append(f"{fmt.clock(now, fmt.zone(name))} {fmt.zone_city(name)}")
            text.append(" · ".join(shown), style="bold")
            if len(self.zones) > 3:
                text.append(" " + _("and {count} more zones").format(count=len(self.zones) - 3), style="dim")
        self._shown = text.plain
        return text
