"""Segments (issue 6 item 4), for supervisors: saved, named filters of the
portfolio with how many accounts each matches now and where they go, a form for
a new one, and the move of a segment's accounts in one action (``a``, then
``enter``). Opened from the command palette: "Segments: open"."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Label, Static

from backend_client.client import BackendError, Invalid
from backend_client.models import Money, SegmentCreate, SegmentFilter, SegmentOut
from backend_client.money import exponent, major_string
from tui import fmt
from tui.i18n import N_, _
from tui.labels import BUCKETS, rule
from tui.screens.common.base import DeskModal
from tui.screens.common.queue import QueueScreen, clip, cursor_bindings


def _band(low: object, high: object, show=str) -> str:  # noqa: ANN001
    if low is not None and high is not None:
        return f"{show(low)}–{show(high)}"
    if low is not None:
        return f"≥{show(low)}"
    return f"≤{show(high)}"


def filter_text(f: SegmentFilter) -> str:
    """``90,120 · $1,000.00–$9,000.00 · DPD 90–180 · risk ≥0.5``; ``everything`` when open."""
    parts = []
    if f.bucket:
        parts.append(",".join(b.value for b in f.bucket))
    if f.min_balance_minor is not None or f.max_balance_minor is not None:
        currency = f.currency or "USD"
        parts.append(_band(f.min_balance_minor, f.max_balance_minor,
                           lambda v: fmt.money(Money(amount_minor=v, currency=currency))))
    if f.min_dpd is not None or f.max_dpd is not None:
        parts.append(_("DPD {band}").format(band=_band(f.min_dpd, f.max_dpd)))
    if f.min_risk is not None or f.max_risk is not None:
        parts.append(_("risk {band}").format(band=_band(f.min_risk, f.max_risk, lambda v: f"{v:g}")))
    if f.min_priority is not None or f.max_priority is not None:
        parts.append(_("priority {band}").format(band=_band(f.min_priority, f.max_priority, lambda v: f"{v:g}")))
    return " · ".join(parts) or _("every account")


def target_text(seg: SegmentOut) -> str:
    if seg.to_agent:
        return seg.to_agent
    if seg.to_team:
        return _("team {team}").format(team=seg.to_team)
    return "—"


class SegmentsScreen(QueueScreen[SegmentOut]):
    NOUN = N_("Segments")
    AUTO_FOCUS = "#segments"
    BINDINGS = [
        Binding("n", "new", N_("New"), tooltip=N_("Save a new segment: its filter and where its accounts go"),
                id="segments.new", priority=True),
        Binding("a", "ask('assign')", N_("Assign"),
                tooltip=N_("Move the highlighted segment's accounts to its agent or team: a, then Enter"),
                id="segments.assign", priority=True),
        Binding("d", "ask('delete')", N_("Delete"), tooltip=N_("Delete the highlighted segment: d, then Enter"),
                id="segments.delete", priority=True),
        Binding("l", "ask('letters')", N_("Letters"),
                tooltip=N_("Send a demand letter to every account of the highlighted segment, each checked by the "
                           "compliance engine: l, then Enter"),
                id="segments.letters", priority=True),
        Binding("enter", "confirm", N_("Confirm"), tooltip=N_("Do what was asked (assign, delete or letters)"),
                id="segments.confirm", priority=True, show=False),
        *cursor_bindings("segments"),
        Binding("f5", "reload", N_("Reload"), tooltip=N_("Count the segments' accounts again"), id="segments.reload",
                show=False),
        Binding("escape", "back", N_("Back"), tooltip=N_("Cancel what was asked, or go back"), id="segments.back",
                priority=True),
    ]

    TABLE = "segments"
    WIDTHS: ClassVar[dict[str, int]] = {"name": 18, "team": 4, "filter": 26, "to": 10, "count": 7}

    def __init__(self) -> None:
        super().__init__()
        self.items: list[SegmentOut] = []
        self.asking: str | None = None
        """``assign`` or ``delete`` while waiting for Enter."""
        self._loaded_once = False

    def compose(self) -> ComposeResult:
        yield self.title_bar(_("Segments · saved filters and where their accounts go"))
        yield DataTable(id="segments", cursor_type="row", cell_padding=1, zebra_stripes=False)
        yield Static("", id="segments-empty", markup=False)
        yield Static("", id="segment-detail", markup=False)
        yield Static("", id="segments-ask", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.add_columns({"name": _("Segment"), "team": _("Team"), "filter": _("Filter"), "to": _("Goes to"),
                          "count": _("Count")})
        self.query_one("#segments-empty").display = False
        self.query_one("#segments-ask").display = False
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.asking is not None
        return True

    # -- loading ------------------------------------------------------------------

    @work(name="segments", group="segments", exclusive=True, exit_on_error=False)
    async def load(self, select: int | None = None) -> None:
        page = await self.fetch(self.desk.api.segments(), _("Segments"))
        if page is not None:
            self.show(page.items, select)
            self._ready()

    def show(self, items: list[SegmentOut], select: int | None = None) -> None:
        keep = select if select is not None else (self.current.id if self.current else None)
        self.items = items
        table = self.table
        table.clear()
        w = self.WIDTHS
        for seg in items:
            table.add_row(clip(seg.name, w["name"]), clip(seg.team or _("all"), w["team"]),
                          clip(filter_text(seg.filter), w["filter"]), clip(target_text(seg), w["to"]),
                          Text(f"{seg.count:,}", justify="right"), key=str(seg.id))
        empty = self.query_one("#segments-empty", Static)
        empty.display = not items
        empty.update(_("No segments yet: n saves one."))
        rows = [i for i, s in enumerate(items) if s.id == keep]
        if rows:
            table.move_cursor(row=rows[0])
        self._detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._detail()

    def _detail(self) -> None:
        seg = self.current
        line = self.query_one("#segment-detail", Static)
        if seg is None:
            line.update("")
            return
        parts = [seg.name, filter_text(seg.filter), _("{count} accounts now").format(count=f"{seg.count:,}"),
                 _("goes to {target}").format(target=target_text(seg))]
        if seg.assigned_at:
            parts.append(_("last moved {when}").format(when=fmt.when(seg.assigned_at, self.desk.agent_tz)))
        if seg.note:
            parts.append(seg.note)
        line.update(" · ".join(parts))

    # -- actions ------------------------------------------------------------------

    def action_new(self) -> None:
        self._cancel_ask()
        self.app.push_screen(SegmentFormScreen(), self._after_form)

    def _after_form(self, saved: SegmentOut | None) -> None:
        if saved is not None:
            self.load(select=saved.id)

    def action_ask(self, what: str) -> None:
        seg = self.current
        if seg is None:
            self.notify(_("No segment is highlighted."))
            return
        if what == "assign" and not (seg.to_agent or seg.to_team):
            self.notify(_("{name} names no agent or team to go to.").format(name=seg.name), severity="warning",
                        markup=False)
            return
        self.asking = what
        if what == "assign":
            text = _("Move the {count} accounts of {name} to {target}? Enter moves, Esc cancels.").format(
                count=f"{seg.count:,}", name=seg.name, target=target_text(seg))
        elif what == "letters":
            text = _("Send a demand letter to each of the {count} accounts of {name}? Each is checked by the "
                     "compliance engine first. Enter sends, Esc cancels.").format(count=f"{seg.count:,}", name=seg.name)
        else:
            text = _("Delete the segment {name}? Enter deletes, Esc cancels.").format(name=seg.name)
        ask = self.query_one("#segments-ask", Static)
        ask.update(text)
        ask.display = True
        self.refresh_bindings()

    def _cancel_ask(self) -> None:
        self.asking = None
        self.query_one("#segments-ask").display = False
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.asking is not None:
            self._cancel_ask()
            return
        self.app.pop_screen()

    def action_confirm(self) -> None:
        what, seg = self.asking, self.current
        self._cancel_ask()
        if what is None or seg is None:
            return
        if what == "assign":
            self.assign(seg)
        elif what == "letters":
            self.letters(seg)
        else:
            self.delete(seg)

    @work(name="assign-segment", group="segment-action", exclusive=True, exit_on_error=False)
    async def assign(self, seg: SegmentOut) -> None:
        try:
            result = await self.desk.call(self.desk.api.assign_segment(seg.id))
        except BackendError as exc:
            self.desk.report(exc, _("Segments"))
            return
        target = result.to_agent or _("team {team}").format(team=result.to_team)
        self.notify(_("Moved {count} accounts of {name} to {target}.").format(
            count=f"{result.moved:,}", name=seg.name, target=target), title=_("Segments"), markup=False)
        self.desk.worklist_stale = True
        self.load(select=seg.id)

    @work(name="segment-letters", group="segment-action", exclusive=True, exit_on_error=False)
    async def letters(self, seg: SegmentOut) -> None:
        """The batch: a letter (a contact and a PDF) per account, one print file saved on this machine."""
        import asyncio

        from tui.screens.legal.packs import pack_dir

        desk = self.desk
        try:
            run = await desk.call(desk.api.segment_letters(seg.id))
            printed = await desk.call(desk.api.document_bytes(run.print_file_url)) if run.print_file_url else None
        except BackendError as exc:
            desk.report(exc, _("Letters"))
            return
        text = _("Demand letters for {name}: {sent} sent, {skipped} skipped.").format(
            sent=f"{run.sent:,}", name=seg.name, skipped=f"{run.skipped:,}")
        skipped = [i for i in run.items if i.contact_id is None]
        if skipped:
            text += " " + "; ".join(f"{i.account_ref}: {rule(i.rule)}" for i in skipped[:3])
        if printed is not None:
            path = pack_dir(desk.settings.drafts_dir).parent / "letter-runs" / f"letters-{run.id}.pdf"

            def save() -> None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(printed)

            try:
                await asyncio.to_thread(save)
            except OSError as exc:
                text += " " + _("The print file could not be saved: {error}").format(error=exc.strerror or exc)
            else:
                text += " " + _("Print file: {path}").format(path=path)
        self.notify(text, title=_("Letters"), markup=False, timeout=15)
        self.desk.worklist_stale = True
        self.load(select=seg.id)

    @work(name="delete-segment", group="segment-action", exclusive=True, exit_on_error=False)
    async def delete(self, seg: SegmentOut) -> None:
        try:
            await self.desk.call(self.desk.api.delete_segment(seg.id))
        except BackendError as exc:
            self.desk.report(exc, _("Segments"))
            return
        self.notify(_("Segment {name} deleted.").format(name=seg.name), title=_("Segments"), markup=False)
        self.load()


class SegmentFormScreen(DeskModal):
    """A new segment: name, filter, where its accounts go. Amounts in major units
    of the currency (``1000`` or ``1000.50``); buckets as ``90,120``; bands may be
    left open at either end. ``ctrl+s`` saves, ``escape`` goes back."""

    NOUN = N_("Segment")
    AUTO_FOCUS = "#seg-name"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), tooltip=N_("Save the segment"), id="segment.save", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the segments; nothing is saved"),
                id="segment.back", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._saving = False

    def _row(self, *cells: tuple[str, str, str, int]) -> ComposeResult:
        with Horizontal(classes="form-row"):
            for label, widget_id, placeholder, width in cells:
                yield Label(label, classes="row-label-short")
                field = Input(id=widget_id, compact=True, max_length=80, placeholder=placeholder)
                field.styles.width = width
                yield field

    def compose(self) -> ComposeResult:
        with Vertical(id="segment-box"):
            yield Static(_("New segment"), classes="title-bar", markup=False)
            yield from self._row((_("Name"), "seg-name", _("e.g. Late and large"), 40))
            yield from self._row((_("Buckets"), "seg-buckets", "90,120", 14), (_("Team"), "seg-team", _("yours"), 8))
            yield from self._row((_("Balance from"), "seg-min-balance", "1000", 10),
                                 (_("to"), "seg-max-balance", "", 10), (_("Currency"), "seg-currency", "USD", 5))
            yield from self._row((_("DPD from"), "seg-min-dpd", "90", 6), (_("to"), "seg-max-dpd", "", 6))
            yield from self._row((_("Risk from"), "seg-min-risk", "0.5", 6), (_("to"), "seg-max-risk", "", 6),
                                 (_("Priority from"), "seg-min-priority", "", 6), (_("to"), "seg-max-priority", "", 6))
            yield from self._row((_("Goes to agent"), "seg-agent", "", 12), (_("or team"), "seg-to-team", "", 8))
            yield Static("", id="segment-error", markup=False)
        yield from self.status_and_footer()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def action_back(self) -> None:
        if not self._saving:
            self.dismiss(None)

    def action_save(self) -> None:
        if self._saving:
            return
        self.after_typing(self._save_as_typed, name="segment-when-typed")

    def _error(self, text: str) -> None:
        self.query_one("#segment-error", Static).update(text)
        self.notify(text, severity="error", markup=False)

    def body(self) -> SegmentCreate:
        """The form as the API's body; ``ValueError`` names the field at fault, in words."""
        name = self._value("seg-name")
        if not name:
            raise ValueError(_("Name the segment."))
        buckets = [b.strip() for b in self._value("seg-buckets").replace(" ", ",").split(",") if b.strip()]
        for b in buckets:
            if b not in BUCKETS:
                raise ValueError(_("Buckets: {bucket} is not one of {buckets}.").format(
                    bucket=b, buckets=", ".join(BUCKETS)))
        values: dict[str, object] = {"bucket": buckets or None, "team": self._value("seg-team") or None}
        currency = self._value("seg-currency").upper() or None
        for key, widget_id in (("min_balance_minor", "seg-min-balance"), ("max_balance_minor", "seg-max-balance")):
            text = self._value(widget_id)
            if not text:
                continue
            currency = currency or "USD"
            try:
                major = Decimal(major_string(text.replace(",", ""), currency))
            except ValueError:
                raise ValueError(_("Balance: {text} is not an amount in {currency}.").format(
                    text=text, currency=currency)) from None
            values[key] = int(major.scaleb(exponent(currency)))
        if "min_balance_minor" in values or "max_balance_minor" in values:
            values["currency"] = currency
        for key, widget_id, kind in (("min_dpd", "seg-min-dpd", int), ("max_dpd", "seg-max-dpd", int),
                                     ("min_risk", "seg-min-risk", float), ("max_risk", "seg-max-risk", float),
                                     ("min_priority", "seg-min-priority", float),
                                     ("max_priority", "seg-max-priority", float)):
            text = self._value(widget_id)
            if text:
                try:
                    values[key] = kind(text)
                except ValueError:
                    raise ValueError(_("{field}: {text} is not a number.").format(field=key, text=text)) from None
        try:
            return SegmentCreate(name=name, filter=SegmentFilter.model_validate(values),
                                 to_agent=self._value("seg-agent") or None, to_team=self._value("seg-to-team") or None)
        except ValueError as exc:
            raise ValueError(_("Check the filter: {problem}").format(problem=str(exc).splitlines()[-1].strip())) \
                from None

    def _save_as_typed(self) -> None:
        try:
            body = self.body()
        except ValueError as exc:
            self._error(str(exc))
            return
        self._saving = True
        self.save(body)

    @work(name="save-segment", group="segment", exit_on_error=False)
    async def save(self, body: SegmentCreate) -> None:
        try:
            seg = await self.desk.call(self.desk.api.create_segment(body))
        except Invalid as exc:
            self._saving = False
            self._error("; ".join(f"{k}: {m}" for k, m in exc.field_errors().items()) or str(exc))
            return
        except BackendError as exc:
            self._saving = False
            self.desk.report(exc, _("Segment"))
            return
        self.notify(_("Segment {name} saved: {count} accounts now.").format(name=seg.name, count=f"{seg.count:,}"),
                    title=_("Saved"), markup=False)
        self.dismiss(seg)
