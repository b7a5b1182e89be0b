"""Key bindings in the desk's language, and keys as the agent has mapped them.

Bindings are declared on classes (``BINDINGS``), before the desk knows its
language, with English descriptions marked by ``N_()``. Each screen and widget
that declares bindings translates its own copy when it is created
(``localize_bindings``), so the footer, the help screen and the command palette
all speak the desk's language.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from textual.binding import Binding

from tui.i18n import _

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.screen import Screen


def localize_bindings(node: DOMNode) -> None:
    """Translate the descriptions and tooltips of ``node``'s own bindings."""
    # DOMNode keeps a per-instance copy of its class's bindings in ``_bindings``;
    # replacing its Binding objects leaves the class's untouched.
    for key, bindings in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            dataclasses.replace(b, description=_(b.description), tooltip=_(b.tooltip)) if b.description else b
            for b in bindings
        ]


def node_bindings(node: DOMNode) -> list[Binding]:
    """``node``'s own bindings (translated), each once, in declaration order."""
    seen: set[int] = set()
    out: list[Binding] = []
    for _key, binding in node._bindings:
        if id(binding) not in seen:
            seen.add(id(binding))
            out.append(binding)
    return out


def class_bindings(cls: type) -> list[Binding]:
    """The bindings a class declares (not inherited), as Binding objects, translated."""
    out: list[Binding] = []
    for item in cls.__dict__.get("BINDINGS", []):
        if isinstance(item, Binding):
            binding = item
        else:
            binding = Binding(*item)
        if binding.system:
            continue
        out.append(dataclasses.replace(binding, description=_(binding.description), tooltip=_(binding.tooltip)))
    return out


def key_for(app: App, binding: Binding, keymap: dict[str, str]) -> str:
    """How to show ``binding``'s key(s), after the agent's keymap."""
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    shown = []
    for key in keys.split(","):
        key = key.strip()
        if key:
            display = binding.key_display if key == binding.key and binding.key_display else None
            shown.append(display or app.get_key_display(dataclasses.replace(binding, key=key, key_display=None)))
    return "/".join(dict.fromkeys(shown))


def key_of(app: App, binding_id: str, keymap: dict[str, str], default: str) -> str:
    """The display of one key by binding id (for legends drawn in widgets)."""
    return key_for(app, Binding(default, "noop", id=binding_id), keymap)


def describe(binding: Binding) -> str:
    """What a binding does, in words; a choice of code (``pick('PTP')``) leads with its code."""
    action = binding.action
    if action.startswith("pick('") and action.endswith("')"):
        return f"{action[6:-2]} · {binding.description}"
    return binding.description


def typing_in(screen: Screen) -> bool:
    """Whether the focused widget takes what is typed (an Input, a TextArea, an open
    drop-down). Textual then leaves every printable key to it, so a form's single-key
    choices do not work there: only keys it does not type (``f2``, ``ctrl+s``) do."""
    focused = screen.focused
    return focused is not None and any(node.check_consume_key("a", "a") for node in focused.ancestors_with_self)
