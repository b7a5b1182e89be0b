"""The time zone the customer confirmed (``t`` on the account, "Customer: confirm
time zone" in the palette).

Until a customer says where they are, every time rule must hold in every place
the account points to (each phone's region, the address, the zone on record). A
zone they confirmed replaces them all: it is sent as ``timezone`` with
``timezone_source: customer``, with the account's version (``If-Match``).
``ctrl+s`` confirms, ``escape`` goes back; a zone that is not one keeps what was
typed and says why."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from backend_client.models import AccountDetail, AccountPatch, TimezoneSource
from tui import fmt
from tui.i18n import N_, _
from tui.labels import ordered_places, place_name, places_text
from tui.screens.account.account_edit import AccountEditModal


class TimezoneScreen(AccountEditModal):
    NOUN = N_("Time zone")
    AUTO_FOCUS = "#timezone-zone"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Confirm"),
                tooltip=N_("Record the zone typed as the one the customer confirmed"), id="timezone.save",
                priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; nothing is changed"),
                id="timezone.back", priority=True),
    ]

    ERROR_LINE = "#timezone-error"

    def __init__(self, account: AccountDetail) -> None:
        super().__init__(account)
        self._zone = ""

    def _prefill(self) -> str:
        c = self.account.customer
        places = ordered_places(c.places)
        return places[0].zone if places else (c.timezone or "")

    def compose(self) -> ComposeResult:
        c = self.account.customer
        with Vertical(id="timezone-box"):
            yield Static(_("Time zone of {ref} · {name}").format(ref=self.account.account_ref, name=c.name),
                         classes="title-bar", markup=False)
            yield Static(self._now_text(), id="timezone-now", markup=False)
            with Horizontal(classes="form-row"):
                yield Label(_("Zone"), classes="row-label")
                yield Input(self._prefill(), id="timezone-zone", compact=True, max_length=64,
                            placeholder="America/New_York")
            yield Static(_("The zone the customer confirmed replaces every other place in the call rules."),
                         id="timezone-help", markup=False)
            yield Static("", id="timezone-error", markup=False)
        yield from self.status_and_footer()

    def _now_text(self) -> str:
        c = self.account.customer
        if c.places:
            return _("Now: {places}").format(places=places_text(c.places))
        return _("Now: {places}").format(places=c.timezone or "—")

    def action_save(self) -> None:
        if self._saving:
            return
        self.after_typing(self._save_as_typed, name="timezone-when-typed")

    def _save_as_typed(self) -> None:
        field = self.query_one("#timezone-zone", Input)
        try:
            self._zone = fmt.parse_zone(field.value)
        except fmt.ParseError as exc:
            self._error(str(exc))
            self.set_focus(field)
            return
        self.send(AccountPatch(timezone=self._zone, timezone_source=TimezoneSource.customer))

    def reloaded(self) -> None:
        self.query_one("#timezone-now", Static).update(self._now_text())

    def saved(self, detail: AccountDetail) -> None:
        zone = self._zone
        english = next((p.label for p in detail.customer.places if p.zone == zone), None)
        self.notify(_("{ref}: the customer is in {place}.").format(
            ref=self.account.account_ref, place=place_name(zone, english)), title=_("Time zone"), markup=False)
