"""One templated e-mail or SMS to the customer, by hand (``m`` on the account, "Message: send"
in the palette; issue 20 item 6).

The agent chooses the channel and the template; the preview shows the message as the customer
would get it, in the customer's language, where it would go, and whether it may go now (the
compliance engine's answer at this instant, as for a treatment's message: the rule and the next
lawful minute). ``ctrl+s`` sends it, and is dimmed, with the reason beside it, while it may not
go. A refusal or a failure is said and the choice is kept; a message sent is on the timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Select, Static

from backend_client.client import BackendError, ChannelFailed, Conflict, Invalid, new_idempotency_key
from tui import fmt
from tui.i18n import N_, _
from tui.keys import key_of
from tui.labels import MESSAGE_CHANNELS, MESSAGE_LANGS, MESSAGE_TEMPLATES, label, rule
from tui.screens.common.base import DeskModal

if TYPE_CHECKING:
    from backend_client.models import AccountDetail, MessagePreview, MessageTemplates


class MessageScreen(DeskModal):
    NOUN = N_("Message")
    AUTO_FOCUS = "#message-channel"
    BINDINGS = [
        Binding("ctrl+s", "send", N_("Send"), tooltip=N_("Send the message shown now (when it may go)"),
                id="message.send", priority=True),
        Binding("escape", "back", N_("Back"), tooltip=N_("Back to the account; nothing is sent"), id="message.back",
                priority=True),
    ]

    def __init__(self, account: AccountDetail) -> None:
        super().__init__()
        self.account = account
        self.templates: MessageTemplates | None = None
        self.preview: MessagePreview | None = None
        """The preview of the channel and template chosen, as last loaded (None while it loads)."""
        self._key = new_idempotency_key()
        """The send's idempotency key: kept across retries of the same choice, so it goes once."""
        self._sending = False

    def compose(self) -> ComposeResult:
        with Vertical(id="message-box"):
            yield Static(_("Message to {ref} · {name}").format(ref=self.account.account_ref,
                                                               name=self.account.customer.name),
                         classes="title-bar", markup=False)
            with Horizontal(classes="form-row"):
                yield Label(_("Channel"), classes="row-label")
                yield Select([(label(MESSAGE_CHANNELS, c), c) for c in MESSAGE_CHANNELS], value="sms",
                             allow_blank=False, compact=True, id="message-channel")
                yield Label(_("Template"), classes="row-label-short")
                yield Select([], prompt=_("loading…"), compact=True, id="message-template")
            yield Static("", id="message-to", classes="line", markup=False)
            with VerticalScroll(id="message-preview"):
                yield Static(_("loading…"), id="message-text", markup=False)
            yield Static("", id="message-verdict", classes="line", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.load_templates()

    # -- the choice ---------------------------------------------------------------

    @property
    def channel(self) -> str:
        return str(self.query_one("#message-channel", Select).value)

    @property
    def template(self) -> str | None:
        value = self.query_one("#message-template", Select).value
        return None if value is Select.NULL else str(value)

    @work(name="message-templates", group="message-templates", exclusive=True, exit_on_error=False)
    async def load_templates(self) -> None:
        try:
            self.templates = await self.desk.call(self.desk.api.message_templates())
        except BackendError as exc:
            self.desk.report(exc, _("Message"))
            self._say(_("The templates could not be loaded: press escape and try again."), error=True)
            return
        self._fill_templates()

    def _fill_templates(self) -> None:
        """The chosen channel's templates, the reminder first (those the desk has no title for
        last); the first chosen, or the one chosen before if the channel has it."""
        if self.templates is None:
            return
        known = list(MESSAGE_TEMPLATES)
        names = sorted((t.name for t in self.templates.templates if t.channel == self.channel),
                       key=lambda n: (known.index(n) if n in known else len(known), n))
        select = self.query_one("#message-template", Select)
        kept = self.template
        select.set_options([(label(MESSAGE_TEMPLATES, n), n) for n in names])
        if names:
            select.value = kept if kept in names else names[0]
        else:
            self._say(_("No template for this channel."), error=True)

    @on(Select.Changed, "#message-channel")
    def _channel_changed(self) -> None:
        self._fill_templates()

    @on(Select.Changed, "#message-template")
    def _template_changed(self) -> None:
        self._key = new_idempotency_key()  # another message: another send
        self.preview = None
        self.refresh_bindings()
        if self.template is not None:
            self.query_one("#message-text", Static).update(_("loading…"))
            self.load_preview(self.channel, self.template)

    # -- the preview --------------------------------------------------------------

    @work(name="message-preview", group="message-preview", exclusive=True, exit_on_error=False)
    async def load_preview(self, channel: str, template: str) -> None:
        try:
            preview = await self.desk.call(self.desk.api.preview_message(self.account.id, channel, template))
        except BackendError as exc:
            self.desk.report(exc, _("Message"))
            self._say(_("The preview could not be loaded."), error=True)
            return
        if (channel, template) != (self.channel, self.template):
            return  # chosen otherwise meanwhile: that one's preview is on its way
        self.show_preview(preview)

    def show_preview(self, preview: MessagePreview) -> None:
        self.preview = preview
        to = preview.to or _("none on record")
        head = [_("To: {to}").format(to=to), label(MESSAGE_LANGS, preview.lang)]
        if preview.segments is not None:
            head.append(_("{n} SMS segment(s), {encoding}").format(n=preview.segments, encoding=preview.encoding))
        self.query_one("#message-to", Static).update(" · ".join(head))
        body = preview.text.strip()
        if preview.subject:
            body = _("Subject: {subject}").format(subject=preview.subject) + "\n\n" + body
        self.query_one("#message-text", Static).update(body or "—")
        self._say(self.verdict_text(preview), error=not preview.allowed)
        self.refresh_bindings()

    def verdict_text(self, preview: MessagePreview) -> str:
        if preview.allowed:
            return "✓ " + _("May be sent now: {key} sends it.").format(
                key=key_of(self.app, "message.send", self.desk.keymap, "ctrl+s"))
        if preview.rule == "no-address":
            where = _("no e-mail address on record") if preview.channel == "email" else _("no mobile number on record")
            return "✗ " + _("Cannot be sent: {why}").format(why=where)
        if preview.rule == "not-configured":
            return "✗ " + _("Cannot be sent: the {channel} channel is not set up ({settings})").format(
                channel=label(MESSAGE_CHANNELS, preview.channel), settings=", ".join(preview.missing))
        rules = " · ".join(dict.fromkeys(rule(b.rule) for b in preview.blocks)) or rule(preview.rule)
        text = "✗ " + _("Not now: {rules}").format(rules=rules)
        if preview.until is not None:
            text += " · " + _("lawful from {when}").format(when=fmt.when(preview.until, self.desk.agent_tz))
        else:
            text += " · " + _("not until the record changes")
        return text

    def _say(self, text: str, *, error: bool = False) -> None:
        line = self.query_one("#message-verdict", Static)
        line.update(text)
        line.set_class(error, "-refused")

    # -- sending ------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "send" and (self.preview is None or not self.preview.allowed or self._sending):
            return None  # shown, dimmed: the line above the footer says why
        return True

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if not self._sending:
            self.dismiss(False)

    def action_send(self) -> None:
        preview = self.preview
        if preview is None or not preview.allowed or self._sending:
            return
        self._sending = True
        self.refresh_bindings()
        self.send(preview.channel, preview.template, self._key)

    @work(name="send-message", group="send-message", exclusive=True, exit_on_error=False)
    async def send(self, channel: str, template: str, key: str) -> None:
        title = _("Message")
        try:
            sent = await self.desk.call(self.desk.api.send_message(self.account.id, channel, template,
                                                                   idempotency_key=key))
        except Conflict as exc:
            self._not_sent(self.desk.describe_conflict(exc) + " · " + (exc.problem.detail or ""))
            self.load_preview(channel, template)  # the law's answer as it is now
            return
        except Invalid as exc:
            fields = exc.field_errors()
            self._not_sent("; ".join(f"{name}: {message}" for name, message in fields.items()) or str(exc))
            return
        except ChannelFailed as exc:
            again = _("try again later") if exc.temporary else _("it will fail the same until it is fixed")
            self._not_sent(_("Not sent ({again}): {detail}").format(again=again, detail=exc.problem.detail or ""))
            return
        except BackendError as exc:
            self._sending = False
            self.refresh_bindings()
            self.desk.report(exc, title)
            return
        self.notify(_("{channel} sent to {to}; it is on the timeline.").format(
            channel=label(MESSAGE_CHANNELS, channel), to=sent.used or "—"), title=title, markup=False)
        self.dismiss(True)

    def _not_sent(self, text: str) -> None:
        """Said, and the choice kept: the agent may change it, or go back."""
        self._sending = False
        self.refresh_bindings()
        self.notify(text, title=_("Message"), severity="error", markup=False)
