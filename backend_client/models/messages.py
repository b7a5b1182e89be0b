"""Messages by hand (issue 20 item 6): one templated e-mail or SMS an agent sends from the
account, through the same checks as a treatment's. The templates there are
(``GET /api/v1/message-templates``), what one would say and whether it may go now
(``POST /api/v1/accounts/{id}/messages/preview``), and the send itself
(``POST /api/v1/accounts/{id}/messages``, answered with the contact it made)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from backend_client.models.accounts import ComplianceBlock
from backend_client.models.scalars import Wire

MessageChannel = Literal["email", "sms"]
TemplateName = Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")]


class MessageTemplateOut(Wire):
    channel: MessageChannel
    name: str
    """The file's name in ``config/templates/<channel>/`` (``reminder_sms``)."""
    langs: list[str]
    """The languages it is written in (``en``, ``zh_CN``)."""


class MessageChannelOut(Wire):
    channel: MessageChannel
    configured: bool
    missing: list[str] = []
    """The settings to set before anything goes on it (``smtp_host``, ``sms_gateway_url``…)."""


class MessageTemplates(Wire):
    """``GET /api/v1/message-templates``."""

    templates: list[MessageTemplateOut]
    channels: list[MessageChannelOut]


class MessageRequest(Wire):
    """The body of the preview and of the send."""

    channel: MessageChannel
    template: TemplateName


class MessagePreview(Wire):
    """What the message would say and where it would go, and the law's answer now. Nothing is sent."""

    channel: MessageChannel
    template: str
    lang: str
    """The language it is rendered in: the customer's (``en`` or ``zh_CN``)."""
    to: str | None = None
    """The address or mobile number it would go to; None: none on record."""
    subject: str | None = None
    """E-mail only."""
    text: str = ""
    segments: int | None = None
    """SMS only: how many parts the text is sent as."""
    encoding: str | None = None
    """SMS only: ``GSM-7`` or ``UCS-2``."""
    allowed: bool
    """True: sending now is lawful, there is somewhere to send it and the channel is configured."""
    rule: str | None = None
    """Why not: the first rule that stops it (``call-window``, ``opt-out``…, ``no-address``, ``not-configured``)."""
    detail: str = ""
    """Why not, in words."""
    until: AwareDatetime | None = None
    """The next lawful minute, where the law alone stops it for now."""
    blocks: list[ComplianceBlock] = []
    configured: bool = True
    missing: list[str] = []
    """The channel's settings not set (``configured`` False)."""
