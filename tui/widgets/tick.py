"""A checklist item that reads the same in 16 colours as in 16 million:
``[✓] Identity verified`` or ``[ ] Identity verified``."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Tick(Widget, can_focus=False):
    """Toggled by a click, by ``space`` when focusable, or by its form's own key
    (the call screen's ``f3`` and ``f4``); not in the tab order by default, so
    tabbing through a form goes from field to field."""

    DEFAULT_CSS = """
    Tick {
        width: auto;
        height: 1;
        padding: 0 1;
    }
    Tick:focus { background: $boost; text-style: bold; }
    Tick.-on { color: $success; }
    """

    BINDINGS = [Binding("space,enter", "toggle", show=False)]

    class Changed(Message):
        """The item was ticked or unticked."""

        def __init__(self, tick: Tick, value: bool) -> None:
            super().__init__()
            self.tick = tick
            self.value = value

        @property
        def control(self) -> Tick:
            return self.tick

    value: reactive[bool] = reactive(False)

    def __init__(self, label: str, *, value: bool = False, focusable: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.can_focus = focusable
        self.label = label
        self.set_reactive(Tick.value, value)

    def render(self) -> Text:
        return Text.assemble(("[✓] " if self.value else "[ ] "), self.label)

    def watch_value(self, value: bool) -> None:
        self.set_class(value, "-on")
        self.post_message(self.Changed(self, value))

    def action_toggle(self) -> None:
        self.value = not self.value

    def on_click(self) -> None:
        self.action_toggle()
