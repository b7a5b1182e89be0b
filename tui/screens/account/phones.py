"""The customer's numbers: what each is and whether it may be called (``f`` on the
account, "Phones: edit" in the palette).

Some policies count calls per kind of number (Massachusetts: 2 in 7 days to a
home or mobile number, 2 in 30 to any other), so the agent says which number is
which; and a number the customer asked not to be called on is marked here. Every
number is sent back in its order, with its kind and its mark, with the account's
version (``If-Match``). ``ctrl+s`` saves, ``escape`` goes back."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from backend_client.models import AccountDetail, AccountPatch, PhoneKind, PhonePatch
from tui.i18n import N_, _
from tui.labels import PHONE_KINDS, label
from tui.screens.account.account_edit import AccountEditModal
from tui.widgets.tick import Tick


class PhoneRow(Horizontal):
    """One number: its kind and its do-not-call mark."""

    def __init__(self, number: str, kind: str, do_not_call: bool) -> None:
        super().__init__(classes="phone-row")
        self.number, self._kind, self._do_not_call = number, kind, do_not_call

    def compose(self) -> ComposeResult:
        yield Label(self.number, classes="phone-number", markup=False)
        yield Select([(label(PHONE_KINDS, code), code) for code in PHONE_KINDS], value=self._kind,
                     allow_blank=False, compact=True, classes="phone-kind")
        # The desk's tick box: ``[✓]`` or ``[ ]``, the same in 16 colours (``space`` toggles it).
        yield Tick(_("do not call"), value=self._do_not_call, focusable=True)

    @property
    def choice(self) -> tuple[str, bool]:
        """(kind, do not call) as chosen: before the row is composed, as it was given."""
        if not self.is_mounted or not self.children:
            return self._kind, self._do_not_call
        return str(self.query_one(Select).value), self.query_one(Tick).value


class PhonesScreen(AccountEditModal):
    NOUN = N_("Phones")
    AUTO_FOCUS = ".phone-kind"
    ERROR_LINE = "#phones-error"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"),
                tooltip=N_("Save each number's kind and do-not-call mark"), id="phones.save", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; nothing is changed"),
                id="phones.back", priority=True),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="phones-box"):
            yield Static(_("Phones of {ref} · {name}").format(ref=self.account.account_ref,
                                                              name=self.account.customer.name),
                         classes="title-bar", markup=False)
            yield Static(_("Some rules count calls per kind of number: say which is which."),
                         id="phones-help", markup=False)
            with Horizontal(id="phones-head"):
                yield Label(_("Number"), classes="phone-number")
                yield Label(_("Kind"))
            with VerticalScroll(id="phones-rows"):
                yield from self._rows({})
            phones = self.account.customer.phones
            yield Static("" if phones else _("no phone on record"), id="phones-error", markup=False)
        yield from self.status_and_footer()

    def _rows(self, chosen: dict[str, tuple[str, bool]]) -> list[PhoneRow]:
        """A row per number on the account, with what was chosen for it kept."""
        return [PhoneRow(p.number, *chosen.get(p.number, (str(p.kind), p.do_not_call)))
                for p in self.account.customer.phones]

    def _chosen(self) -> dict[str, tuple[str, bool]]:
        return {row.number: row.choice for row in self.query(PhoneRow)}

    def action_save(self) -> None:
        self.skip_if_menu_open()
        chosen = self._chosen()
        if chosen:  # no number, nothing to say of one
            self.send(AccountPatch(phones=[PhonePatch(number=number, kind=PhoneKind(kind), do_not_call=dnc)
                                           for number, (kind, dnc) in chosen.items()]))

    def reloaded(self) -> None:
        """Numbers added or taken away meanwhile come and go; each kept number keeps what was chosen."""
        rows = list(self.query(PhoneRow))
        if [row.number for row in rows] == [p.number for p in self.account.customer.phones]:
            return
        chosen = self._chosen()
        box = self.query_one("#phones-rows", VerticalScroll)
        box.remove_children()
        box.mount_all(self._rows(chosen))

    def refused(self, fields: dict[str, str]) -> str:
        """``phones.1: …`` names the number at fault."""
        rows = list(self.query(PhoneRow))
        at_fault: set[int] = set()
        lines = []
        for name, message in fields.items():
            found = re.match(r"phones\.(\d+)", name)
            if found and int(found.group(1)) < len(rows):
                at_fault.add(int(found.group(1)))
                name = rows[int(found.group(1))].number
            lines.append(f"{name}: {message}")
        for n, row in enumerate(rows):
            row.set_class(n in at_fault, "-invalid")
        return "; ".join(lines)

    def saved(self, detail: AccountDetail) -> None:
        self.notify(_("{ref}: the numbers are saved.").format(ref=self.account.account_ref), title=_("Phones"),
                    markup=False)
