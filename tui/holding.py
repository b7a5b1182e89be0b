"""Keys typed ahead: held while a screen opens, replayed once it is ready.

``KeyHolding`` is the part of the desk's app (``tui.app.CollectDesk``) that does it;
screens ask for it through ``Desk.hold_keys``/``release_keys``.
"""

from __future__ import annotations

from collections import deque
from functools import partial
from typing import Any

from textual import events
from textual.message import Message
from textual.timer import Timer

HOLD_KEYS_MAX_S = 1.0
"""Longest that keys typed while a screen opens wait for it (should it never say it is ready)."""


class KeyHolding:
    """Mixed into the desk's ``App`` (which has ``settings``, ``set_timer``, ``post_message``).

    Over SSH keys often arrive in bursts ("enter c 2" in one packet). Textual
    routes each key to the widget focused when the app reads it, so keys read
    while a new screen is still opening would go to the old one. The desk holds
    them until the new screen is ready (``release_keys``), then replays them in
    order. Bindings that move the focus or open screens are priority bindings,
    so they act before the next key is read (and a text field still gets every
    printable key: Textual leaves out the bindings a focused field consumes).
    """

    def _init_key_holding(self) -> None:
        self._held_keys: deque[events.Key] = deque()
        self._holding = False
        self._hold_timer: Timer | None = None
        self._hold_number = 0
        self._replaying = False

    class KeysReleased(Message):
        """Held keys may go to the screen now on top."""

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        from tui.screens.common.base import DeskMixin

        if isinstance(screen, DeskMixin):
            self.hold_keys(self._hold_for(screen))
        return super().push_screen(screen, *args, **kwargs)

    def switch_screen(self, screen: Any) -> Any:
        from tui.screens.common.base import DeskMixin

        if isinstance(screen, DeskMixin):
            self.hold_keys(self._hold_for(screen))
        return super().switch_screen(screen)

    def _hold_for(self, screen: Any) -> float:
        """A screen that still loads what its keys act on (from the backend) may keep
        keys as long as its requests may take; one that is ready, a moment."""
        return HOLD_KEYS_MAX_S if screen.ready_for_keys() else self.network_hold_s

    def hold_keys(self, at_most: float = HOLD_KEYS_MAX_S) -> None:
        """Hold keys until ``release_keys``, or ``at_most`` seconds as a safety net."""
        self._holding = True
        if self._hold_timer is not None:
            self._hold_timer.stop()
        # A stopped timer may have fired already (its event queued behind the keys
        # being replayed): each hold has its number, and only its own timer ends it.
        self._hold_number += 1
        self._hold_timer = self.set_timer(at_most, partial(self._hold_ran_out, self._hold_number), name="hold-keys")

    def _hold_ran_out(self, number: int) -> None:
        if number == self._hold_number and self._holding:
            self.release_keys()

    @property
    def network_hold_s(self) -> float:
        """How long keys may wait for a save and the next account: its requests'
        time-outs, so a slow backend never sends them to the screen being left."""
        return max(HOLD_KEYS_MAX_S, 3 * self.settings.timeout_s)

    def release_keys(self) -> None:
        self._holding = False
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        if self._held_keys:
            self.post_message(self.KeysReleased())

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, events.Key) and not event.is_forwarded
                and (self._holding or self._held_keys) and not self._replaying):
            self._held_keys.append(event)
            return
        await super().on_event(event)

    async def on_key_holding_keys_released(self, _message: KeysReleased) -> None:
        self._replaying = True
        try:
            while self._held_keys and not self._holding:
                await super().on_event(self._held_keys.popleft())
        finally:
            self._replaying = False
