"""Treatments (issue 20): the reminders each strategy sends by e-mail, SMS and letter, as the
supervisor's screen sees them (``GET /api/v1/treatments``), the steps paused, the runs, and
what the SMS gateway's signed webhook is answered (``POST /api/v1/inbound/sms``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from backend_client.models.scalars import ShortText, Wire

SendStatus = Literal["pending", "waiting", "sending", "sent", "failed", "skipped", "unknown"]
TreatmentChannel = Literal["email", "sms", "letter"]
StepName = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
StrategySide = Literal["champion", "challenger"]


class TreatmentSendOut(Wire):
    """One step for one account in one cycle, and what became of it."""

    id: int
    account_id: int
    account_ref: str
    strategy: str
    step_id: str
    channel: TreatmentChannel
    template: str
    cycle_on: dt.date
    due_on: dt.date
    status: SendStatus
    attempts: int
    next_attempt_at: AwareDatetime | None = None
    """Waiting: the next lawful minute; pending after a failure: the next try."""
    rule: str | None = None
    reason: str = ""
    """Why it waits, was skipped or failed (the compliance rule's words, the server's answer)."""
    to: str | None = None
    delivery: str | None = None
    """What the gateway's receipt said (``delivered``, ``failed``, ``expired``)."""
    sent_at: AwareDatetime | None = None
    contact_id: int | None = None
    updated_at: AwareDatetime


class TreatmentStepFigures(Wire):
    """One step of a strategy's path, with its rows of the day by status."""

    strategy: StrategySide
    step_id: str
    channel: TreatmentChannel
    template: str
    when: str
    """``days_past_due 5`` and the like."""
    then: str | None = None
    paused: bool = False
    counts: dict[str, int] = {}


class TreatmentRunOut(Wire):
    id: int
    as_of: dt.date
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    planned: bool
    counts: dict[str, int] = {}
    outages: list[dict[str, str | int | None]] = []
    letters: int = 0
    print_file_url: str | None = None
    """``/api/v1/treatment-runs/{id}/print.pdf`` when the run made letters."""


class TreatmentDay(Wire):
    """``GET /api/v1/treatments``: a day of treatments for the supervisor."""

    as_of: dt.date
    enabled: bool
    """The backend runs them on a schedule (``COLLECTDESK_TREATMENTS_MINUTES`` > 0)."""
    channels: dict[str, bool]
    """Whether each channel is configured (a letter always is)."""
    steps: list[TreatmentStepFigures]
    items: list[TreatmentSendOut]
    """The day's rows (found due, or settled that day) and every one still open, newest first."""
    last_run: TreatmentRunOut | None = None


class TreatmentPauseCreate(Wire):
    """``POST /api/v1/treatments/pauses``: stop sending one step until it is resumed."""

    strategy: StrategySide
    step_id: StepName
    note: ShortText = ""
    """Why, in a line (shown on the treatments screen)."""


class TreatmentPauseOut(Wire):
    strategy: str
    step_id: str
    paused_by: str
    paused_at: AwareDatetime
    note: str = ""


class InboundAck(Wire):
    """What the SMS gateway's webhook is answered: what the request was, and what it changed."""

    kind: Literal["receipt", "reply"]
    matched: int
    """Receipt: the messages it was for (0 or 1); reply: the accounts of that number."""
    opted_out: bool = False
    """A reply that was an opt-out ("STOP", "退订"): the ``sms`` cease set on those accounts."""


__all__ = ["InboundAck", "SendStatus", "StepName", "StrategySide", "TreatmentChannel", "TreatmentDay",
           "TreatmentPauseCreate", "TreatmentPauseOut", "TreatmentRunOut", "TreatmentSendOut",
           "TreatmentStepFigures"]
