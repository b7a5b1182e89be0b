"""The footer of keys, painted again only when the keys it shows change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


class KeysFooter(Footer):
    """Textual's ``Footer``, which builds its keys again whenever the screen says its
    bindings may have changed: on every change of focus, screen or enabled action, most of
    which change nothing it shows. Each time it painted its whole row again (about 400 B to
    the terminal; twice when an account opens). This one builds again only when what it
    would show differs from what it shows: the keys, their labels (language, keymap), which
    are enabled, their tooltips."""

    _shown: tuple[object, ...] | None = None

    def _showing(self) -> tuple[object, ...]:
        return tuple((binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                      enabled, tooltip)
                     for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
                     if binding.show or binding.action == "command_palette")

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._showing()
        yield from super().compose()

    def bindings_changed(self, screen: Screen) -> None:
        if (self._shown is not None and self.is_attached and screen is self.screen
                and self._showing() == self._shown):
            return
        super().bindings_changed(screen)
