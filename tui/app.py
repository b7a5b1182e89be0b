"""The desk: a Textual app that talks to the backend over HTTP.

``run_desk(settings)`` is what ``collectdesk desk`` and ``collectdesk demo`` call.
The app owns the backend client, the drafts and the outbox, and the state the
status line shows; screens do their network work in named workers through
``CollectDesk.call``, which keeps the status line honest (slow, down, back).

The app wires three parts kept beside it: holding keys typed while a screen opens
(``tui.holding``), sending the outbox (``tui.sending``) and opening screens
(``tui.navigation``). Screens see it as a ``tui.desk.Desk`` and never import it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from backend_client.client import (
    BackendBusy,
    BackendClient,
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    BadResponse,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    ProblemResponse,
    Unauthorized,
    UntrustedServer,
)
from config.settings import DeskSettings
from tui import labels
from tui.holding import KeyHolding
from tui.i18n import N_, _, set_language
from tui.keys import class_bindings, describe, localize_bindings, node_bindings
from tui.navigation import Navigation
from tui.sending import OutboxSending
from tui.store import Drafts, Outbox, Places, Store, Waiting, default_dir
from tui.widgets.status import DeskStatus, StatusLine

if TYPE_CHECKING:
    from backend_client.models import UserOut

T = TypeVar("T")

APPROVER_ROLES = ("supervisor", "admin")
"""Roles that decide on plans beyond an agent's authority (the approvals queue)."""
DECIDER_ROLES = ("supervisor", "legal", "admin")
"""Roles that decide on escalations (the escalations inbox)."""
SCREEN_CHANGE_HOLD_S = 0.08
"""On a thin link, how long painting waits when the screen changes (``_paint_once``)."""

SLOW_AFTER_S = 1.0
"""A request still unanswered after this long shows "waiting for the backend" on the status line."""
RETRY_EVERY_S = 5.0
"""While the backend is down, how soon the desk first asks whether it is back; each time it is
not, the wait doubles, up to ``RETRY_AT_MOST_S``."""
RETRY_AT_MOST_S = 60.0
"""The longest wait between two such questions: a desk left offline (a backend down for the
night, a desk host cut off) asks once a minute, not twelve times."""
REREAD_STORE_EVERY_S = 3.0
"""How often the desk reads again what this machine keeps (other desks of the user send and add)."""


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _local_tz() -> dt.tzinfo:
    return dt.datetime.now().astimezone().tzinfo or dt.UTC


class CollectDesk(KeyHolding, OutboxSending, App[int]):
    """The collector's desk. ``client`` may be a ready ``BackendClient`` (tests pass one
    over an in-process transport); ``username``/``password`` sign in at once."""

    CSS_PATH = "desk.tcss"
    TITLE = "collectdesk"
    NOUN = N_("Desk")

    BINDINGS = [
        Binding("ctrl+q", "quit", N_("Quit"), tooltip=N_("Quit the desk; drafts and unsent work stay on this machine"),
                id="desk.quit", priority=True),
        Binding("ctrl+p", "command_palette", N_("Palette"), tooltip=N_("Every action of this screen, by name"),
                id="desk.palette", priority=True),
        Binding("question_mark", "help", N_("Keys"), tooltip=N_("Every key of every screen"), id="desk.help",
                priority=True),
        Binding("tab", "focus_next", N_("Next field"), tooltip=N_("Move to the next field"), id="desk.next_field",
                show=False, priority=True),
        Binding("shift+tab", "focus_previous", N_("Previous field"), tooltip=N_("Move to the previous field"),
                id="desk.previous_field", show=False, priority=True),
        Binding("ctrl+r", "send_unsent", N_("Send unsent"), tooltip=N_("Send the work kept on this machine now"),
                id="desk.send", show=False),
        Binding("s", "team", N_("Team"),
                tooltip=N_("Supervisors, from the worklist: the team overview, assign, breaches, reports"),
                id="desk.team"),
        Binding("a", "approvals", N_("Approvals"),
                tooltip=N_("Supervisors, from the worklist: the plans waiting for approval"), id="desk.approvals"),
        # Out of the worklist's footer, which is full at 80 columns: the team overview's shows it.
        Binding("x", "escalations", N_("Escalations"),
                tooltip=N_("Supervisors, from the worklist: the escalations waiting for a decision"),
                id="desk.escalations", show=False),
        Binding("ctrl+c", "help_quit", show=False, system=True),
    ]

    def __init__(
        self,
        settings: DeskSettings,
        client: BackendClient | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        agent_tz: dt.tzinfo | None = None,
    ) -> None:
        self.language = set_language(settings.lang)
        low = settings.low_bandwidth
        super().__init__(ansi_color=True if low else None)
        self.settings = settings
        self.low_bandwidth = low
        if low:
            # Thin SSH links: the terminal's own 16 colours, and nothing that moves.
            from rich.console import ColorSystem

            self.theme = "ansi-dark"
            self.animation_level = "none"
            # Textual renders with the console's colour system (TEXTUAL_COLOR_SYSTEM
            # is read once, at import); 16 colours whatever the terminal claims.
            self.console._color_system = ColorSystem.STANDARD
            self.add_class("-low-bandwidth")
        localize_bindings(self)
        if settings.keymap:
            self.set_keymap(settings.keymap)
        self.keymap: dict[str, str] = dict(settings.keymap)
        server = settings.server or "http://127.0.0.1:8765"
        # The CA bundle (a bad one was refused by the command line before the desk opened).
        self.api = client or BackendClient(server, timeout=settings.timeout_s, ca_bundle=settings.ca_bundle)
        self.server = self.api.base_url
        self.clock: Callable[[], dt.datetime] = clock or _utc_now
        self.agent_tz: dt.tzinfo = agent_tz or _local_tz()
        directory = Path(settings.drafts_dir) if settings.drafts_dir else default_dir()
        self.store = Store(directory)
        """Drafts and the outbox, in one database that every desk of the user on this machine shares."""
        self.drafts = Drafts(self.store)
        self.outbox = Outbox(self.store)
        self.places = Places(self.store)
        """Where this desk is, and where the user's desks that ended were (issue 18 item 5)."""
        self.waiting = Waiting()
        """What the store kept for the signed-in user when the desk last read it."""
        self.user: UserOut | None = None
        self._auto_login = (username, password) if username and password else None
        self._prefill_user = username or ""
        self._status = DeskStatus()
        self._inflight = 0
        self._slow_timer: Timer | None = None
        self._retry_timer: Timer | None = None
        self._told_down = False
        self.slow_after_s = SLOW_AFTER_S
        self.retry_every_s = RETRY_EVERY_S
        self.retry_at_most_s = RETRY_AT_MOST_S
        self._retry_wait_s: float | None = None
        """How long until the next "is the backend back?" (doubled at each no; None: the first)."""
        self.reread_store_every_s = REREAD_STORE_EVERY_S
        self.worklist_stale = False
        """Something was saved since the worklist was loaded: reload it when it is shown again."""
        self._init_key_holding()
        self.nav = Navigation(self)
        """Where the desk goes: every screen opened by the app or by another feature's screen."""

    # -- start and stop --------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(15.0, self._tick, name="status-clock")
        self._tick()
        self.set_interval(self.reread_store_every_s, self.reread_store, name="store-reread")
        self.nav.sign_in_screen(username=self._prefill_user, auto=self._auto_login)

    async def on_unmount(self) -> None:
        # Quit as asked: the next desk starts at the worklist (drafts stay, marked there).
        self.places.leave()
        await self.api.aclose()
        self.store.close()

    def _tick(self) -> None:
        from tui import fmt

        self._set_status(clock=fmt.clock(self.clock(), self.agent_tz))

    # -- changing screens ------------------------------------------------------------

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        self._paint_once()
        return super().push_screen(screen, *args, **kwargs)

    def pop_screen(self) -> Any:
        self._paint_once()
        return super().pop_screen()

    def switch_screen(self, screen: Any) -> Any:
        self._paint_once()
        return super().switch_screen(screen)

    def _paint_once(self) -> None:
        """On a thin link a screen that changes is painted once, when it has settled: Textual
        paints a screen as it is pushed, again once its widgets have their styles, and the
        footer again once it has its keys (about twice the bytes of one paint). Painting is
        held for ``SCREEN_CHANGE_HOLD_S``, as Textual's own change of mode does."""
        if self.low_bandwidth and self.is_running:
            self.delay_update(SCREEN_CHANGE_HOLD_S)

    # -- status line -------------------------------------------------------------

    @property
    def status(self) -> DeskStatus:
        return self._status

    def _set_status(self, **changes: Any) -> None:
        status = dataclasses.replace(self._status, **changes)
        if status == self._status:
            return
        self._status = status
        for screen in self.screen_stack:
            for line in screen.query(StatusLine):
                line.status = status

    def reread_store(self) -> None:
        """Read again what this machine keeps for the user (another desk of theirs may
        have sent or added some): the status line's counts, and the screens' marks."""
        waiting = Waiting() if self.user is None else self.store.waiting(self.server, self.user.username)
        self._set_status(unsent=waiting.pending, refused=waiting.refused)
        if waiting.orphaned and self._status.connection == "ok" and not any(
                w.group == "outbox" and not w.is_finished for w in self.workers):
            # Left by a desk of the user that was killed (its claim lapsed): sent from here.
            self.send_unsent()
        if waiting == self.waiting:
            return
        self.waiting = waiting
        for screen in self.screen_stack:
            changed = getattr(screen, "waiting_changed", None)
            if changed is not None:
                changed(waiting)

    # -- talking to the backend ----------------------------------------------------

    async def call(self, request: Awaitable[T], *, signing_in: bool = False) -> T:
        """Await one backend request, keeping the status line honest: "waiting"
        when it is slow, "unreachable" when it fails to connect (and retry until the
        backend is back), and back to normal when it answers. Errors are re-raised
        for the caller to handle; a lapsed session asks the agent to sign in again."""
        self._inflight += 1
        if self._slow_timer is None:
            self._slow_timer = self.set_timer(self.slow_after_s, self._mark_slow, name="slow")
        try:
            result = await request
        except BackendUnavailable as exc:
            self._went_down(untrusted=isinstance(exc, UntrustedServer),
                            retry_after=exc.retry_after if isinstance(exc, BackendBusy) else None)
            raise
        except Unauthorized:
            self._answered()
            if not signing_in and self.user is not None:
                # Once the caller has handled it: a form that closes on it (a save kept in the
                # outbox) must close before the sign-in is pushed, not pop the sign-in instead.
                self.call_later(self.session_lapsed)
            raise
        except ProblemResponse:
            self._answered()
            raise
        else:
            self._answered()
            return result
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                if self._slow_timer is not None:
                    self._slow_timer.stop()
                    self._slow_timer = None
                if self._status.connection == "slow":
                    self._set_status(connection="ok")

    def _mark_slow(self) -> None:
        self._slow_timer = None
        if self._inflight and self._status.connection == "ok":
            self._set_status(connection="slow")

    def _answered(self) -> None:
        self._retry_wait_s = None
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        if self._status.connection == "down":
            self._set_status(connection="ok", untrusted=False, busy=False)
            self._told_down = False
            if self.user is not None:
                self.notify(_("The backend is back."), title=_("Online"))
                self.send_unsent()
                self.load_what_is_missing()

    def load_what_is_missing(self) -> None:
        """The screens load what they could not while the backend was away or the session had
        ended (an account opened then stays empty otherwise)."""
        for screen in self.screen_stack:
            back = getattr(screen, "backend_back", None)
            if back is not None:
                back()

    def _went_down(self, *, untrusted: bool = False, retry_after: int | None = None) -> None:
        """The backend did not answer (or said it is busy, and to try again in ``retry_after``
        seconds): the status line says so and the backend is probed again, not sooner than it
        asked; what is saved meanwhile is kept in the outbox and sent once it answers."""
        self._set_status(connection="down", untrusted=untrusted, busy=retry_after is not None)
        wait = self._retry_wait_s or self.retry_every_s
        if retry_after is not None and retry_after > wait:
            if self._retry_timer is not None:
                self._retry_timer.stop()
                self._retry_timer = None
            wait = retry_after
        if self._retry_timer is None:
            self._retry_timer = self.set_timer(wait, self._probe, name="retry")

    def _probe(self) -> None:
        # Fired: the probe's failure sets the next one, a wait twice as long (a minute at most).
        self._retry_timer = None
        self._retry_wait_s = min((self._retry_wait_s or self.retry_every_s) * 2,
                                 max(self.retry_at_most_s, self.retry_every_s))
        if self._status.connection == "down":
            self.probe()

    @work(name="probe-backend", group="health", exclusive=True, exit_on_error=False)
    async def probe(self) -> None:
        try:
            await self.call(self.api.health())
        except BackendError:
            return

    def report(self, exc: BaseException, what: str = "") -> None:
        """Tell the agent, in their language, why ``what`` did not happen. That the
        backend is unreachable is said once; the status line keeps saying it. Keys
        held for what failed go to the screen in front now."""
        if self._holding:
            self.release_keys()
        if isinstance(exc, BackendUnavailable):
            if self._told_down:
                return
            self._told_down = True
        title = what or _("Backend")
        if isinstance(exc, UntrustedServer):
            # Never a plain "unreachable": the agent's IT must fix the certificate or the CA bundle.
            message = _("No secure connection to the backend: {problem}. Nothing was sent; the desk's CA bundle "
                        "(ca_bundle) must hold the CA that signed the backend's certificate.").format(
                problem=exc.problem)
            severity = "error"
        elif isinstance(exc, BackendTimeout):
            message, severity = _("The backend did not answer in time; nothing typed is lost."), "warning"
        elif isinstance(exc, BackendBusy):
            message, severity = _("The backend is busy; nothing typed is lost, and it is sent when the backend "
                                  "answers."), "warning"
        elif isinstance(exc, BackendUnavailable):
            message, severity = _("The backend cannot be reached; nothing typed is lost."), "warning"
        elif isinstance(exc, Unauthorized):
            message, severity = _("Your session has ended; sign in again."), "warning"
        elif isinstance(exc, NotFound):
            message, severity = _("Not found, or not yours to see."), "error"
        elif isinstance(exc, Forbidden):
            message, severity = _("Your role may not do that."), "error"
        elif isinstance(exc, Conflict):
            message, severity = self.describe_conflict(exc), "error"
        elif isinstance(exc, PreconditionFailed):
            message, severity = _("Someone changed this account meanwhile; it has been reloaded."), "warning"
        elif isinstance(exc, Invalid):
            fields = ", ".join(exc.field_errors()) or "?"
            message, severity = _("The backend refused these fields: {fields}").format(fields=fields), "error"
        elif isinstance(exc, BadResponse):
            message, severity = _("The backend answered something unexpected."), "error"
        elif isinstance(exc, ProblemResponse):
            message, severity = _("The backend refused: {status}").format(status=exc.status), "error"
        else:
            message, severity = _("Something went wrong: {error}").format(error=type(exc).__name__), "error"
        self.notify(message, title=title, severity=severity, markup=False)

    def say_kept(self, screen: Screen, exc: BackendError, *, lapsed: str, offline: str) -> None:
        """On ``screen``, that what it saved is kept on this machine (the outbox) and why: the
        session ended (``lapsed``: sent once the agent signs in again) or the backend did not
        answer (``offline``: sent when it is back)."""
        if isinstance(exc, Unauthorized):
            screen.notify(lapsed, title=_("Kept on this machine"), severity="warning")
        else:
            self.offline_said()
            screen.notify(offline, title=_("Kept on this machine"), severity="warning")

    def offline_said(self) -> None:
        """The agent has just been told the backend is not answering: no second toast."""
        self._told_down = True

    def describe_conflict(self, exc: Conflict) -> str:
        from tui import fmt

        problem = exc.problem
        text = _("Not allowed now: {rule}").format(rule=labels.rule(problem.rule))
        until = (problem.model_extra or {}).get("until")
        if until:
            try:
                at = dt.datetime.fromisoformat(str(until))
            except ValueError:
                return text
            text += " " + _("(lawful from {when})").format(when=fmt.when(at, self.agent_tz))
        return text

    # -- signing in and out -------------------------------------------------------

    async def sign_in(self, username: str, password: str) -> UserOut:
        token = await self.call(self.api.login(username, password), signing_in=True)
        self.user = token.user
        team = " · " + _("Team") + f" {token.user.team}" if token.user.team else ""
        self._set_status(connection="ok", who=f"{token.user.username}{team}")
        self.reread_store()
        self.send_unsent()
        return token.user

    def show_worklist(self) -> None:
        """The signed-in user's first screen (trainer mode shows its own)."""
        self.nav.show_worklist()

    def session_lapsed(self) -> None:
        self.nav.session_lapsed()

    def action_sign_out(self) -> None:
        """``Session: sign out``: the backend ends the session, and the sign-in screen is shown.
        Drafts and what waits to be sent stay on this machine for the user's next sign-in."""
        self.sign_out()

    @work(name="sign-out", group="session", exclusive=True, exit_on_error=False)
    async def sign_out(self) -> None:
        try:
            # signing_in: a session that has ended already is no reason to ask for a sign-in.
            await self.call(self.api.logout(), signing_in=True)
        except BackendError:
            pass  # forgotten here all the same: the backend ends it once it has been idle long enough
        self.api.token = None
        self.user = None
        self._set_status(connection="unknown", who="")
        self.reread_store()
        self.nav.signed_out()
        self.notify(_("Signed out. Drafts and unsent work stay on this machine."), title=_("Signed out"),
                    markup=False)

    def action_help_quit(self) -> None:
        self.notify(_("Press {key} to quit.").format(key="ctrl+q"), markup=False)

    # -- workers that fail -----------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.log.error(f"worker {event.worker.name} failed", event.worker.error)
            self.report(event.worker.error, what=event.worker.name)

    # -- the approvals queue ----------------------------------------------------------

    @property
    def approver(self) -> bool:
        return self.user is not None and self.user.role in APPROVER_ROLES

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approvals", "team"):
            # A key of the worklist (elsewhere ``a`` is the screen's own), for those who approve.
            return self.approver and self.nav.on_worklist()
        if action == "escalations":
            return self.decider and self.nav.on_worklist()
        return True

    def action_approvals(self) -> None:
        self.nav.approvals()

    # -- the escalations inbox ----------------------------------------------------------

    @property
    def decider(self) -> bool:
        return self.user is not None and self.user.role in DECIDER_ROLES

    def action_escalations(self) -> None:
        self.nav.escalations()

    # -- the supervisor's desk -----------------------------------------------------------

    def action_team(self) -> None:
        self.nav.team()

    # -- help and the command palette -------------------------------------------------

    @staticmethod
    def help_bindings() -> list[Binding]:
        """The desk's own keys, for the help's "Every screen" section."""
        return class_bindings(CollectDesk)

    def action_help(self) -> None:
        self.nav.help()

    def action_command_palette(self) -> None:
        from textual.command import CommandPalette

        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=_("Search for actions…"), id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action of the screen and of the desk, titled ``noun: verb``."""
        seen: set[tuple[int, str]] = set()
        nodes: list[Any] = [screen, *screen.query("*")]
        for node in [*nodes, self]:
            noun = getattr(node, "NOUN", None)
            if noun is None:
                continue
            for binding in node_bindings(node):
                # Only the desk's own bindings (they all have ids); not the widgets' built-in ones.
                if (not binding.id or not binding.description or binding.system
                        or binding.action in ("command_palette", "approvals", "escalations", "team")):
                    continue
                marker = (id(node), binding.action)
                if marker in seen:
                    continue
                seen.add(marker)
                if node.check_action(binding.action.split("(")[0], ()) is False:
                    continue
                # A screen may title an action under another noun (``Customer: confirm time zone``).
                titled = getattr(node, "PALETTE_TITLES", {}).get(binding.id)
                title = f"{_(titled[0])}: {_(titled[1])}" if titled else f"{_(noun)}: {describe(binding)}"
                yield SystemCommand(title, binding.tooltip or binding.description,
                                    partial(self.run_action, binding.action, node))
        yield from self.nav.palette_commands(screen)

    @work(name="release-lease", group="release", exit_on_error=False)
    async def release_lease(self, account_id: int) -> None:
        """Let go of a leased account the agent left without saving, so that another
        can take it now rather than when the lease runs out (a failure only means
        it runs out: nothing is lost, so no toast)."""
        try:
            await self.call(self.api.release(account_id))
        except BackendError:
            pass


def run_options(settings: DeskSettings) -> dict[str, Any]:
    """How ``App.run`` is called: no mouse tracking on a low-bandwidth link."""
    return {"mouse": not settings.low_bandwidth}


def run_desk(settings: DeskSettings, *, username: str | None = None, password: str | None = None) -> int:
    """Run the desk against ``settings.server``; returns the process's exit code."""
    from tui.hangup import watch_terminal

    app = CollectDesk(settings, username=username, password=password)
    # A lost terminal (a dropped SSH link) ends the desk, its place kept for the next one.
    watch = watch_terminal(app.places.lost)
    try:
        result = app.run(**run_options(settings))
    finally:
        if watch is not None:
            watch.stop()
    if app.return_code not in (None, 0):
        return int(app.return_code)
    return int(result or 0)
