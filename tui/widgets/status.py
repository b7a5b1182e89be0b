"""The status line: is the backend answering, what is waiting to be sent, who is
signed in, and the agent's clock. Every screen shows it above the footer."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.i18n import _


@dataclass(frozen=True)
class DeskStatus:
    """What the status line shows; the app hands a new one down on every change."""

    connection: str = "unknown"
    """``ok``, ``slow`` (a request is taking long), ``down`` or ``unknown`` (not signed in yet)."""
    untrusted: bool = False
    """Down because the backend's TLS certificate is not trusted (not merely unreachable)."""
    busy: bool = False
    """Down because the backend said it is busy (503): asked again when it said."""
    unsent: int = 0
    refused: int = 0
    who: str = ""
    clock: str = ""


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $foreground;
    }
    StatusLine.-down { background: $error 40%; }
    StatusLine.-slow { background: $warning 30%; }
    """

    status: reactive[DeskStatus] = reactive(DeskStatus, layout=False)

    def watch_status(self, status: DeskStatus) -> None:
        self.set_class(status.connection == "down", "-down")
        self.set_class(status.connection == "slow", "-slow")

    def render(self) -> Text:
        status = self.status
        left = Text()
        if status.connection == "down" and status.untrusted:
            left.append("▲ ", style="bold")
            left.append(_("Backend certificate not trusted; your work is kept here"))
        elif status.connection == "down" and status.busy:
            left.append("▲ ", style="bold")
            left.append(_("Backend busy: retrying; your work is kept here"))
        elif status.connection == "down":
            left.append("▲ ", style="bold")
            left.append(_("Offline: retrying; your work is kept here"))
        elif status.connection == "slow":
            left.append("◌ ")
            left.append(_("Waiting for the backend…"))
        elif status.connection == "ok":
            left.append("● ")
            left.append(_("Online"))
        else:
            left.append(_("Not signed in"))
        if status.unsent:
            left.append("  ")
            left.append(_("{count} unsent").format(count=status.unsent), style="bold")
        if status.refused:
            left.append("  ")
            left.append(_("{count} refused").format(count=status.refused), style="bold")
        right = Text(" · ".join(part for part in (status.who, status.clock) if part))
        width = self.size.width
        gap = width - cell_len(left.plain) - cell_len(right.plain) - 2
        if gap < 1:
            # Narrow: the connection state matters more than the clock.
            right = Text(status.clock)
            gap = max(1, width - cell_len(left.plain) - cell_len(right.plain) - 2)
        line = Text(" ")
        line.append_text(left)
        line.append(" " * gap)
        line.append_text(right)
        line.truncate(max(1, width), overflow="ellipsis")
        return line
