"""What a screen may use of the desk (the app), as a typed protocol.

Screens and widgets never import ``tui.app``: ``DeskScreen.desk`` is the running app
seen as a ``Desk``, and every screen another feature's screen opens is opened through
``Desk.nav`` (a ``Navigator``, implemented once in ``tui.navigation``). The app
implements both; this module imports neither the app nor any screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from types import EllipsisType

    from textual.screen import Screen

    from backend_client.client import BackendClient, BackendError, Conflict
    from backend_client.models import AccountDetail, EscalationOut, TeamOverview, UserOut
    from config.settings import DeskSettings
    from tui.store import Drafts, Outbox, OutboxEntry, Places, Waiting
    from tui.widgets.status import DeskStatus

T = TypeVar("T")


class Navigator(Protocol):
    """Where a screen may send the agent: the screens of another feature, opened by the
    desk's one navigation module (``tui.navigation``). A screen still pushes its own
    small modal children (a confirmation, a sub-form of its feature) itself."""

    def account(self, account_id: int, *, ref: str = "", name: str = "",
                detail: AccountDetail | None = None, form: str | None = None) -> None:
        """Open one account (from a worklist, a queue, a breach); ``form``, a draft's form
        (``call``, ``note``, ``plan``, ``escalation``), opens on it once it has loaded."""

    def moved_to(self, place: tuple[int, str, str, str | None] | None | EllipsisType) -> None:
        """A screen came to the top: where the agent is now (``DeskMixin.place``)."""

    def contact_form(self, account: AccountDetail, *, result: str | None,
                     done: Callable[[Any], None]) -> None:
        """The call form for ``account``; ``done`` gets what it was dismissed with."""

    def plan_form(self, account: AccountDetail, *, prefill: dict[str, str] | None,
                  done: Callable[[Any], None]) -> None:
        """The plan form for ``account``."""

    def escalate_form(self, account: AccountDetail, *, done: Callable[[Any], None]) -> None:
        """The escalation form for ``account``."""

    def next_account(self, skip: int | None = None) -> None:
        """Lease the next account to work and open it in place of the one just worked."""

    def start_over(self) -> None:
        """The signed-in user's first screen, and nothing left of any screen before it."""

    def approvals(self) -> None:
        """The plans waiting for a supervisor's approval."""

    def escalations(self) -> None:
        """The escalations waiting for a decision."""

    def worklist_from_team(self) -> None:
        """From the team overview, the worklist beneath it (or in its place)."""

    def assign(self, *, agent: str | None = None, overview: TeamOverview | None = None) -> None:
        """Moving accounts between agents (of ``agent``, when given)."""

    def breaches(self) -> None:
        """The team's broken promises."""

    def treatments(self) -> None:
        """The day's treatments (supervisors, legal officers, admins)."""

    def reports(self) -> None:
        """The reports."""

    def legal_pack(self, escalation: EscalationOut, folder: Path, texts: dict[str, str]) -> Awaitable[Any]:
        """A legal referral's pack, saved in ``folder``."""


class Desk(Protocol):
    """The app as screens see it: the backend, what this machine keeps, the status
    line, the keys held while a screen opens, and where to go next (``nav``)."""

    settings: DeskSettings
    api: BackendClient
    server: str
    """The backend's address (drafts and the outbox are kept per server and user)."""
    clock: Callable[[], dt.datetime]
    agent_tz: dt.tzinfo
    keymap: dict[str, str]
    low_bandwidth: bool
    user: UserOut | None
    drafts: Drafts
    outbox: Outbox
    places: Places
    waiting: Waiting
    worklist_stale: bool
    """Something was saved since the worklist was loaded: reload it when it is shown again."""
    nav: Navigator

    @property
    def status(self) -> DeskStatus: ...

    @property
    def network_hold_s(self) -> float: ...

    # -- talking to the backend
    async def call(self, request: Awaitable[T], *, signing_in: bool = False) -> T: ...

    def report(self, exc: BaseException, what: str = "") -> None: ...

    def describe_conflict(self, exc: Conflict) -> str: ...

    def say_kept(self, screen: Screen, exc: BackendError, *, lapsed: str, offline: str) -> None: ...

    def offline_said(self) -> None: ...

    def load_what_is_missing(self) -> None: ...

    def reread_store(self) -> None: ...

    # -- keys typed while a screen opens
    def hold_keys(self, at_most: float = ...) -> None: ...

    def release_keys(self) -> None: ...

    # -- the outbox and drafts
    def queue(self, kind: str, *, account_id: int, account_ref: str, body: dict[str, Any],
              draft: dict[str, Any]) -> OutboxEntry: ...

    async def deliver(self, entry: OutboxEntry) -> Any: ...

    def draft_key(self, account_id: int, form: str) -> str: ...

    def take_refused(self, account_id: int, kind: str) -> dict[str, Any] | None: ...

    # -- the session and leases
    async def sign_in(self, username: str, password: str) -> UserOut: ...

    def release_lease(self, account_id: int) -> Any: ...
