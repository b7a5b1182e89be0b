"""Where the desk goes: every screen opened by the app or by another feature's screen.

The app holds one ``Navigation`` (``CollectDesk.nav``); screens reach it as
``self.desk.nav`` (typed by ``tui.desk.Navigator``), so that no screen imports the
app, and no screen imports another feature's screen to open it. Screens are imported
when they are first opened, which keeps importing the desk light.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding

from backend_client.client import BackendError, NotFound, Unauthorized
from tui.i18n import _
from tui.keys import class_bindings
from tui.labels import FORMS, label, term

if TYPE_CHECKING:
    from types import EllipsisType

    from textual.screen import Screen

    from backend_client.models import AccountDetail, EscalationOut, TeamOverview


TREATMENT_WATCHERS = ("supervisor", "legal", "admin")
"""Who sees the treatments screen (the backend's rule)."""

OPEN_WAIT_S = 0.25
"""How long an account's answers are waited for before its screen opens without them (what has
not answered by then fills in as it comes)."""


class Navigation:
    """The desk's screens, opened on ``app`` (the running ``CollectDesk``)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.open_wait_s = OPEN_WAIT_S

    # -- signing in and out -------------------------------------------------------

    def sign_in_screen(self, *, username: str = "", auto: tuple[str, str] | None = None) -> None:
        """The desk's first screen."""
        from tui.screens.common.login import LoginScreen

        self.app.push_screen(LoginScreen(username=username, auto=auto))

    def show_worklist(self) -> None:
        """The signed-in user's first screen: legal officers land on their referrals inbox."""
        from tui.screens.worklist.worklist import WorklistScreen

        app = self.app
        if app.user is not None and app.user.role == "legal":
            from tui.screens.escalation.escalations import EscalationsScreen

            app.switch_screen(EscalationsScreen())
            return
        app.switch_screen(WorklistScreen())

    def start_over(self) -> None:
        """The signed-in user's worklist, and nothing left of any screen before it."""
        app = self.app
        while len(app.screen_stack) > 2:
            app.pop_screen()
        app.show_worklist()  # the app's: trainer mode shows its own first screen
        if app.approver:
            # A supervisor's day starts on the team, not on one account: the overview, the worklist beneath it.
            self.team()
        self.return_to_place()

    # -- where the agent is, for the desk after a lost connection -----------------------

    def moved_to(self, place: tuple[int, str, str, str | None] | None | EllipsisType) -> None:
        """A screen came to the top: keep where the agent is (``Places``), so that a desk
        they start after losing this one's terminal returns there."""
        app = self.app
        if place is ...:
            return
        if place is None or app.user is None:
            app.places.leave()
            return
        account_id, ref, name, form = place
        app.places.here(app.server, app.user.username, account_id, ref, name, form)

    def return_to_place(self) -> None:
        """Just signed in: back to the account (and the form, with its draft) where a desk of
        the user ended without them leaving it (its terminal was lost, or it was killed);
        a desk of theirs still open on an account is only told."""
        app = self.app
        if app.user is None:
            return
        found = app.places.take(app.server, app.user.username)
        place = found.back_to
        if place is not None:
            self.account(place.account_id, ref=place.account_ref, name=place.name, form=place.form)
            text = _("Back where you were when your last desk ended: {ref} {name}.")
            if place.form is not None:
                text = _("Back where you were when your last desk ended: {ref} {name}, "
                         "with the {form} you were typing.")
            app.notify(text.format(ref=place.account_ref, name=place.name,
                                   form=label(FORMS, place.form)),
                       title=_("Welcome back"), markup=False)
        for other in found.open_elsewhere[:1]:
            app.notify(_("Another desk of yours is open on {ref} {name}; its drafts are here too.").format(
                ref=other.account_ref, name=other.name), title=_("Another desk"), markup=False)

    def session_lapsed(self) -> None:
        from tui.screens.common.login import LoginScreen

        app = self.app
        if app.user is None or any(isinstance(s, LoginScreen) for s in app.screen_stack):
            return
        app.notify(_("Your session has ended; sign in again. Nothing typed is lost."), severity="warning")
        app.push_screen(LoginScreen(username=app.user.username, again=True))

    def signed_out(self) -> None:
        """Nothing left of the session's screens: the sign-in screen."""
        from tui.screens.common.login import LoginScreen

        app = self.app
        app.places.leave()
        while len(app.screen_stack) > 2:
            app.pop_screen()
        app.switch_screen(LoginScreen())

    # -- the worklist and accounts -----------------------------------------------------

    def on_worklist(self) -> bool:
        from tui.screens.worklist.worklist import WorklistScreen

        return isinstance(self.app.screen, WorklistScreen)

    def back_to_worklist(self) -> None:
        from tui.screens.worklist.worklist import WorklistScreen

        app = self.app
        while not isinstance(app.screen, WorklistScreen) and len(app.screen_stack) > 2:
            app.pop_screen()

    def account(self, account_id: int, *, ref: str = "", name: str = "",
                detail: AccountDetail | None = None, form: str | None = None) -> None:
        """Open the account. Its four requests (the account, its timeline, the verdict on
        calling now, its plans) are asked at once and the screen opens when they have answered,
        or after ``open_wait_s`` with what has: a screen painted once, whole, rather than
        painted bare and then again as each answer comes (on a thin link, about half the
        bytes of opening an account). Keys typed meanwhile go to the account screen."""
        from tui.screens.account.account import AccountScreen

        app = self.app
        if detail is not None:
            app.push_screen(AccountScreen(account_id, ref=ref, name=name, detail=detail, form=form))
            return
        app.hold_keys(self.open_wait_s + app.network_hold_s)
        app.run_worker(self._open_account(account_id, ref=ref, name=name, form=form), name="open-account",
                       group="open-account", exclusive=True, exit_on_error=False)

    def _ask(self, account_id: int, parts: tuple[str, ...]) -> dict[str, asyncio.Task[Any]]:
        """The account's ``parts`` asked of the backend, all at once."""
        app, api = self.app, self.app.api
        requests: dict[str, Callable[[], Awaitable[Any]]] = {
            "detail": lambda: api.account(account_id),
            "timeline": lambda: api.timeline(account_id),
            "verdict": lambda: api.compliance(account_id, at=app.clock()),
            "plans": lambda: api.plans(account_id=account_id, limit=20),
        }
        asked = {}
        for part in parts:
            # A lapsed session is said once the account's screen is open (``_opened``), so that
            # the sign-in comes on top of it and the account loads when the agent is back.
            task = asyncio.ensure_future(app.call(requests[part](), signing_in=True))
            # Its error is the screen's to handle (or nobody's, if the agent moved on).
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            asked[part] = task
        return asked

    def _opened(self, asked: dict[str, asyncio.Task[Any]]) -> None:
        """The account's screen is open: an answer that says the session has ended (come or
        still to come) asks the agent to sign in again, on top of it."""

        def lapsed(task: asyncio.Task[Any]) -> None:
            if not task.cancelled() and isinstance(task.exception(), Unauthorized) and self.app.user is not None:
                self.app.call_later(self.session_lapsed)

        for task in asked.values():
            task.add_done_callback(lapsed)

    async def _open_account(self, account_id: int, *, ref: str, name: str, form: str | None) -> None:
        from tui.screens.account.account import AccountScreen

        app = self.app
        asked = self._ask(account_id, ("detail", "timeline", "verdict", "plans"))
        await asyncio.wait(asked.values(), timeout=self.open_wait_s)
        detail = asked["detail"]
        if detail.done() and isinstance(detail.exception(), NotFound):
            app.report(detail.exception(), _("Account"))
            return
        app.push_screen(AccountScreen(account_id, ref=ref, name=name, form=form, asked=asked))
        self._opened(asked)

    def contact_form(self, account: AccountDetail, *, result: str | None,
                     done: Callable[[Any], None]) -> None:
        from tui.screens.call.call import CallScreen

        self.app.push_screen(CallScreen(account, result=result), done)

    def plan_form(self, account: AccountDetail, *, prefill: dict[str, str] | None,
                  done: Callable[[Any], None]) -> None:
        from tui.screens.plan.plan import PlanScreen

        self.app.push_screen(PlanScreen(account, prefill=prefill), done)

    def escalate_form(self, account: AccountDetail, *, done: Callable[[Any], None]) -> None:
        from tui.screens.escalation.escalate import EscalateScreen

        self.app.push_screen(EscalateScreen(account), done)

    def next_account(self, skip: int | None = None) -> None:
        """Lease the next account to work (``POST /worklist/next``) and open it, in place of
        the account (and call) just worked, once its timeline, verdict and plans have answered
        (or after ``open_wait_s``, as ``account`` does)."""
        self.app.run_worker(self._next_account(skip), name="next-account", group="next", exclusive=True,
                            exit_on_error=False)

    async def _next_account(self, skip: int | None) -> None:
        from tui.screens.account.account import AccountScreen

        app = self.app
        try:
            lease = await app.call(app.api.next_account(skip=skip))
        except NotFound:
            app.notify(_("Nothing left to work in your worklist."), title=_("Next account"))
            self._close_call_form()
            app.release_keys()
            return
        except BackendError as exc:
            app.report(exc, _("Next account"))
            self._close_call_form()
            app.release_keys()
            return
        asked = self._ask(lease.account.id, ("timeline", "verdict", "plans"))
        await asyncio.wait(asked.values(), timeout=self.open_wait_s)
        app.worklist_stale = True
        self.back_to_worklist()
        account = lease.account
        await app.push_screen(AccountScreen(account.id, ref=account.account_ref, name=account.customer.name,
                                            detail=account, asked=asked, leased=True))
        self._opened(asked)

    def _close_call_form(self) -> None:
        from tui.screens.call.call import CallScreen

        if isinstance(self.app.screen, CallScreen):
            self.app.screen.dismiss(True)

    # -- the queues of those who decide --------------------------------------------------

    def approvals(self) -> None:
        from tui.screens.supervisor.approvals import ApprovalsScreen

        app = self.app
        if not app.approver:
            app.notify(_("Plans are approved by a supervisor."), title=_("Approvals"))
            return
        if isinstance(app.screen, ApprovalsScreen):
            return
        app.push_screen(ApprovalsScreen())

    def escalations(self) -> None:
        from tui.screens.escalation.escalations import EscalationsScreen

        app = self.app
        if not app.decider:
            app.notify(_("Escalations are decided by supervisors and legal officers."), title=_("Escalations"))
            return
        if isinstance(app.screen, EscalationsScreen):
            return
        app.push_screen(EscalationsScreen())

    def legal_pack(self, escalation: EscalationOut, folder: Path, texts: dict[str, str]) -> Awaitable[Any]:
        from tui.screens.legal.legal_pack import LegalPackScreen

        return self.app.push_screen(LegalPackScreen(escalation, folder, texts))

    # -- the supervisor's desk -----------------------------------------------------------

    def team(self) -> None:
        from tui.screens.supervisor.overview import SupervisorScreen

        app = self.app
        if not app.approver:
            app.notify(_("The team overview is a supervisor's."), title=_("Team"))
            return
        if any(isinstance(s, SupervisorScreen) for s in app.screen_stack):
            while not isinstance(app.screen, SupervisorScreen):
                app.pop_screen()
            return
        app.push_screen(SupervisorScreen())

    def worklist_from_team(self) -> None:
        from tui.screens.worklist.worklist import WorklistScreen

        app = self.app
        if len(app.screen_stack) > 1 and isinstance(app.screen_stack[-2], WorklistScreen):
            app.pop_screen()
        else:
            app.switch_screen(WorklistScreen())

    def assign(self, *, agent: str | None = None, overview: TeamOverview | None = None) -> None:
        from tui.screens.supervisor.assign import AssignScreen

        self.app.push_screen(AssignScreen(agent=agent, overview=overview))

    def breaches(self) -> None:
        from tui.screens.supervisor.breaches import BreachesScreen

        self.app.push_screen(BreachesScreen())

    def reports(self) -> None:
        from tui.screens.supervisor.reports import ReportsScreen

        self.app.push_screen(ReportsScreen())

    def treatments(self) -> None:
        """The day's treatments: supervisors and admins pause steps, legal officers watch."""
        from tui.screens.supervisor.treatments import TreatmentsScreen

        app = self.app
        if app.user is None or app.user.role not in TREATMENT_WATCHERS:
            app.notify(_("Treatments are watched by supervisors, legal officers and admins."),
                       title=_("Treatments"))
            return
        if isinstance(app.screen, TreatmentsScreen):
            return
        app.push_screen(TreatmentsScreen())

    def segments(self) -> None:
        from tui.screens.supervisor.segments import SegmentsScreen

        self.app.push_screen(SegmentsScreen())

    def shared_notes(self) -> None:
        from tui.screens.common.shared import SharedNotesScreen

        self.app.push_screen(SharedNotesScreen())

    def why(self, title: str, verdict: str, reasons: list[str]) -> None:
        """Every reason an account is where it is in the worklist."""
        from tui.screens.common.why import WhyScreen

        self.app.push_screen(WhyScreen(title, verdict, reasons))

    # -- help and the command palette -------------------------------------------------

    def help(self) -> None:
        from tui.screens.common.help import HelpScreen

        app = self.app
        if isinstance(app.screen, HelpScreen):
            app.screen.dismiss()
        else:
            app.push_screen(HelpScreen(self.help_sections(type(app.screen))))

    def help_sections(self, first: type[Screen] | None = None) -> list[tuple[str, list[Binding]]]:
        """Every screen's keys, titled: the screen ``first`` (the one the agent is on) at the
        top, then the keys of every screen, then the other screens."""
        from tui.screens.account.account import AccountScreen
        from tui.screens.account.handoff import HandoffScreen
        from tui.screens.account.note import NoteScreen
        from tui.screens.account.phones import PhonesScreen
        from tui.screens.account.timezone import TimezoneScreen
        from tui.screens.call.call import CallScreen
        from tui.screens.common.help import HelpScreen
        from tui.screens.common.login import LoginScreen
        from tui.screens.common.shared import SharedNotesScreen
        from tui.screens.common.why import WhyScreen
        from tui.screens.escalation.escalate import EscalateScreen
        from tui.screens.escalation.escalations import EscalationsScreen
        from tui.screens.legal.legal_pack import LegalPackScreen
        from tui.screens.plan.plan import PlanScreen
        from tui.screens.supervisor.approvals import ApprovalsScreen
        from tui.screens.supervisor.assign import AssignScreen, ConfirmAssign
        from tui.screens.supervisor.breaches import BreachesScreen
        from tui.screens.supervisor.overview import SupervisorScreen
        from tui.screens.supervisor.reports import ReportsScreen
        from tui.screens.supervisor.segments import SegmentFormScreen, SegmentsScreen
        from tui.screens.supervisor.treatments import PauseStepScreen, TreatmentsScreen
        from tui.screens.training.training import ResultsScreen, TrainerScreen, TrainingScreen
        from tui.screens.worklist.worklist import WorklistScreen

        screens: list[type[Screen]] = [
            LoginScreen, WorklistScreen, AccountScreen, CallScreen, NoteScreen, PlanScreen,
            HandoffScreen, TimezoneScreen, PhonesScreen, SharedNotesScreen, EscalateScreen, EscalationsScreen,
            LegalPackScreen, SupervisorScreen, ApprovalsScreen, BreachesScreen, AssignScreen, ConfirmAssign, SegmentsScreen,
            SegmentFormScreen, ReportsScreen, TreatmentsScreen, PauseStepScreen, TrainingScreen, ResultsScreen, TrainerScreen, WhyScreen, HelpScreen,
        ]
        sections = [(term(getattr(cls, "NOUN", cls.__name__)), cls) for cls in screens if class_bindings(cls)]
        everywhere = (_("Every screen"), self.app.help_bindings())
        here = [(title, class_bindings(cls)) for title, cls in sections if first is not None and cls is first]
        rest = [(title, class_bindings(cls)) for title, cls in sections if cls is not first]
        return [*here, everywhere, *rest]

    def palette_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        """The palette's ways to other screens, for the signed-in user."""
        from tui.screens.common.shared import SharedNotesScreen
        from tui.screens.escalation.escalations import EscalationsScreen
        from tui.screens.supervisor.approvals import ApprovalsScreen
        from tui.screens.supervisor.overview import SupervisorScreen
        from tui.screens.supervisor.reports import ReportsScreen
        from tui.screens.supervisor.segments import SegmentsScreen
        from tui.screens.supervisor.treatments import TreatmentsScreen
        from tui.screens.worklist.worklist import WorklistScreen

        app = self.app
        if app.user is None:
            return
        yield SystemCommand(_("Session") + ": " + _("sign out"), _("Sign out and show the sign-in screen"),
                            app.action_sign_out)
        if not isinstance(screen, WorklistScreen) and any(isinstance(s, WorklistScreen) for s in app.screen_stack):
            yield SystemCommand(_("Worklist") + ": " + _("show"), _("Back to the worklist; drafts are kept"),
                                self.back_to_worklist)
        if app.approver and not isinstance(screen, ApprovalsScreen):
            yield SystemCommand(_("Plans") + ": " + _("approvals"),
                                _("The team's plans waiting for a supervisor's approval"), app.action_approvals)
        # "Segments: open", for those who keep segments (supervisors, admins).
        if app.approver and not isinstance(screen, SegmentsScreen):
            yield SystemCommand(_("Segments") + ": " + _("open"),
                                _("Saved filters of the portfolio, their counts, and moving their accounts"),
                                self.segments)
        # "Shared notes: look up", for every signed-in user.
        if app.user is not None and not isinstance(screen, SharedNotesScreen):
            yield SystemCommand(_("Shared notes") + ": " + _("look up"),
                                _("The notes collections shares with other teams, by account reference"),
                                self.shared_notes)
        if app.decider and not isinstance(screen, EscalationsScreen):
            yield SystemCommand(_("Escalations") + ": " + _("open inbox"),
                                _("The escalations waiting for your decision"), app.action_escalations)
        if app.approver and not isinstance(screen, SupervisorScreen):
            yield SystemCommand(_("Team") + ": " + _("overview"),
                                _("The team overview: each agent's accounts, what is due, what broke"),
                                app.action_team)
        # "Treatments: open", for those who watch them (supervisors, legal officers, admins).
        if app.user.role in TREATMENT_WATCHERS and not isinstance(screen, TreatmentsScreen):
            yield SystemCommand(_("Treatments: open"),
                                _("The reminders sent by e-mail, SMS and letter today: steps, messages, pauses"),
                                self.treatments)
        if app.user.role != "trainer" and not isinstance(screen, ReportsScreen):
            yield SystemCommand(_("Reports") + ": " + _("show"),
                                _("Attempts, contacts, promises, kept plans and more, with bars and sparklines"),
                                self.reports)
