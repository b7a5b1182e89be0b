"""An account's timeline, newest first: contacts, notes and whatever else the
backend records, each in one line built by the desk from the typed parts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from backend_client.models import (
    ContactEntry,
    ContactOut,
    DocumentData,
    EscalationEntry,
    EscalationEventData,
    FlagChangeData,
    FlagEntry,
    HandoffEntry,
    HandoffOut,
    NoteEntry,
    PaymentEntry,
    PlanEntry,
    PlanEventData,
    TimelineEntry,
)
from tui import fmt
from tui.i18n import _
from tui.labels import CHANNELS, OUTCOMES, RESULTS, TIMELINE_KINDS, label


def contact_text(contact: ContactOut, tz: dt.tzinfo) -> str:
    """``phone · no answer`` / ``phone · right party · promise to pay $150.00 by Mar 20, 2026 · note``."""
    parts = [label(CHANNELS, contact.channel)]
    if contact.direction == "inbound":
        parts[0] = _("{channel} in").format(channel=parts[0])
    if contact.channel == "letter" and contact.document_id is not None:
        # A letter sent from the desk: where it went; its PDF is the document beside it.
        parts.append(_("sent to {address}").format(address=contact.used or "—"))
    else:
        parts.append(label(OUTCOMES, contact.outcome))
    if contact.result:
        result = label(RESULTS, contact.result)
        if contact.result == "PTP" and contact.ptp_amount is not None:
            result = _("{result} {amount} by {date}").format(
                result=result, amount=fmt.money(contact.ptp_amount), date=fmt.date(contact.ptp_date))
        elif contact.result == "CB" and contact.callback_at is not None:
            result = _("{result} at {when}").format(result=result, when=fmt.when(contact.callback_at, tz))
        parts.append(result)
        if contact.promise is not None:
            from tui.labels import PLAN_STATUSES

            # Tracked as a plan: what became of it (kept, broken, replaced) shows here too.
            parts.append(_("promise #{id}: {status}").format(id=contact.promise.plan_id,
                                                            status=label(PLAN_STATUSES, contact.promise.status)))
    if contact.breach:
        parts.append(_("breach"))
    if contact.note:
        parts.append(contact.note.replace("\n", " "))
    return " · ".join(parts)


def plan_event_text(data: PlanEventData) -> str:
    """``Plan #3 settlement $3,360.00: pending approval · note``."""
    from tui.labels import PLAN_KINDS, PLAN_STATUSES

    text = _("Plan #{id} {kind} {total}: {status}").format(
        id=data.plan_id, kind=label(PLAN_KINDS, data.kind), total=fmt.money(data.total),
        status=label(PLAN_STATUSES, data.status))
    if data.contact_id and data.status in ("active", "pending"):
        text += " · " + _("promised on a call")
    note = data.note.replace("\n", " ")
    return f"{text} · {note}" if note else text


def handoff_text(data: HandoffOut) -> str:
    """``Handed off from agent1 to team B · customer moved to Taipei``."""

    def place(agent: str | None, team: str) -> str:
        return agent if agent else _("team {team}").format(team=team)

    text = _("Handed off from {source} to {target}").format(
        source=place(data.from_agent, data.from_team), target=place(data.to_agent, data.to_team))
    note = data.note.replace("\n", " ")
    return f"{text} · {note}" if note else text


def escalation_text(data: EscalationEventData | DocumentData) -> str:
    """``Escalation #3 legal: accepted · proceedings to be filed`` or
    ``Document: demand letter (PDF, zh_CN), escalation #3``."""
    from tui.labels import DOCUMENT_KINDS, ESCALATION_KINDS, ESCALATION_STATUSES

    if isinstance(data, DocumentData):
        text = _("Document: {kind} ({format}, {lang})").format(
            kind=label(DOCUMENT_KINDS, data.document_kind), format=data.format.upper(), lang=data.lang or "—")
        if data.escalation_id:
            text += ", " + _("escalation #{id}").format(id=data.escalation_id)
        return text
    text = _("Escalation #{id} {kind}: {status}").format(
        id=data.escalation_id, kind=label(ESCALATION_KINDS, data.kind),
        status=label(ESCALATION_STATUSES, data.status))
    words = [(w or "").replace("\n", " ") for w in (data.reason, data.note)]
    if data.status != "open":
        words = words[1:]  # the reason was said when it was opened
    words = [w for w in words if w]
    return " · ".join([text, *dict.fromkeys(words)])


def flag_text(data: FlagChangeData, tz: dt.tzinfo) -> str:
    """``cease (phone) set`` / ``dispute lifted``, with when it was recorded if that was
    later than it took effect (a cease letter entered the day after it arrived)."""
    from tui.labels import FLAGS, STATUSES

    name = label(FLAGS, data.flag) if data.flag in FLAGS else label(STATUSES, data.flag)
    if data.channel:
        name = _("{flag} ({channel})").format(flag=name, channel=label(CHANNELS, data.channel))
    text = (_("{flag} set") if data.change == "set" else _("{flag} lifted")).format(flag=name)
    note = data.note.replace("\n", " ")
    if note:
        text += " · " + note
    if data.recorded_at is not None and data.recorded_at - data.effective_at > dt.timedelta(minutes=5):
        text += " · " + _("recorded {when}").format(when=fmt.when(data.recorded_at, tz))
    return text


def entry_text(entry: TimelineEntry, tz: dt.tzinfo) -> str:
    if isinstance(entry, ContactEntry):
        return contact_text(entry.contact, tz)
    if isinstance(entry, NoteEntry):
        text = entry.note.text.replace("\n", " ")
        if entry.note.visibility == "shared":
            return _("Shared note: {text}").format(text=text)
        return _("Note: {text}").format(text=text)
    if isinstance(entry, HandoffEntry):
        return handoff_text(entry.data)
    if isinstance(entry, PaymentEntry):
        return _("Payment {amount}").format(amount=fmt.money(entry.data.amount))
    if isinstance(entry, PlanEntry):
        return plan_event_text(entry.data)
    if isinstance(entry, EscalationEntry):
        return escalation_text(entry.data)
    if isinstance(entry, FlagEntry):
        return flag_text(entry.data, tz)
    # A kind this desk does not know: the backend's own words, under a translated kind.
    return f"{label(TIMELINE_KINDS, entry.kind)}: {entry.summary}"


class TimelineTable(DataTable[Text]):
    """Read-only; the account screen hands entries down with ``show``. Lines are
    cut to the width; ``TimelineTable.Highlighted`` carries the whole entry."""

    class Highlighted(Message):
        """The cursor is on ``entry`` (its full text is ``text``)."""

        def __init__(self, entry: TimelineEntry, text: str) -> None:
            super().__init__()
            self.entry = entry
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", show_cursor=True, cell_padding=1)
        self._entries: list[TimelineEntry] = []
        self._tz: dt.tzinfo = dt.UTC

    def on_mount(self) -> None:
        self.add_column(_("When"), key="when")
        self.add_column(_("Who"), key="who")
        self.add_column(_("What"), key="what")

    def show(self, entries: Sequence[TimelineEntry], tz: dt.tzinfo) -> None:
        self._entries, self._tz = list(entries), tz
        self.clear()
        rows = [(Text(fmt.when(e.at, tz)), Text(e.actor or "—"), e) for e in self._entries]
        # The description takes what is left of the width, so nothing runs off screen.
        used = max((cell_len(r[0].plain) for r in rows), default=4) + max((cell_len(r[1].plain) for r in rows), default=3)
        room = max(16, (self.size.width or 80) - used - 6 - 1)
        for when, who, entry in rows:
            what = Text(entry_text(entry, tz), style="bold" if isinstance(entry, ContactEntry) and entry.contact.breach else "")
            what.truncate(room, overflow="ellipsis")
            self.add_row(when, who, what, key=f"{entry.kind}-{entry.id}")
        if not rows:
            self.add_row(Text("—"), Text(""), Text(_("No contacts or notes yet."), style="dim"), key="empty")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self._entries):
            entry = self._entries[event.cursor_row]
            self.post_message(self.Highlighted(entry, entry_text(entry, self._tz)))

    def on_resize(self) -> None:
        if self._entries:
            self.show(self._entries, self._tz)
