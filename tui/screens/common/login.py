"""Sign in: the user name has focus, tab moves to the password, enter signs in.

A wrong password or an unreachable backend is said on the screen, and what was
typed stays. ``again=True`` is the same screen over a lapsed session: signing in
takes the agent back to where they were.
"""

from __future__ import annotations

from types import EllipsisType

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from backend_client.client import BackendError, BackendUnavailable, TooManyRequests, Unauthorized, UntrustedServer
from tui.i18n import N_, _
from tui.screens.common.base import DeskScreen


class LoginScreen(DeskScreen):
    NOUN = N_("Sign-in")
    AUTO_FOCUS = "#username"
    BINDINGS = [
        Binding("enter", "sign_in", N_("Sign in"), tooltip=N_("Sign in with this user name and password"),
                id="login.sign_in", priority=True),
    ]

    def __init__(self, *, username: str = "", auto: tuple[str, str] | None = None, again: bool = False) -> None:
        super().__init__()
        self._username = username
        self._auto = auto
        self.again = again

    def place(self) -> EllipsisType:
        # Over a lapsed session the agent is still where they were; at the start, nowhere yet.
        return ...

    def compose(self) -> ComposeResult:
        with Vertical(id="login-box"):
            yield Static("collectdesk", id="login-brand")
            yield Static(_("Your session has ended; sign in again.") if self.again else _("Sign in to your desk"),
                         id="login-heading", markup=False)
            yield Label(_("Server: {url}").format(url=self.desk.server), id="login-server", markup=False)
            yield Label(_("User name"), classes="field-label")
            yield Input(self._username, placeholder=_("user name"), id="username", compact=True, max_length=200)
            yield Label(_("Password"), classes="field-label")
            yield Input(placeholder=_("password"), password=True, id="password", compact=True, max_length=1024)
            yield Static("", id="login-error", markup=False)
            yield Static(_("Tab: next field · Enter: sign in · Ctrl+Q: quit"), id="login-hint", markup=False)
        yield from self.status_and_footer()

    def on_mount(self) -> None:
        if self._username and not self._auto:
            self.set_focus(self.query_one("#password", Input))
        if self._auto:
            username, password = self._auto
            self.query_one("#username", Input).value = username
            self.query_one("#password", Input).value = password
            self.sign_in(username, password)

    def action_sign_in(self) -> None:
        # Enter is read at once (a priority key); what was typed before it may still be
        # on its way to its field, and what is typed after it waits for the worklist.
        self.desk.hold_keys()
        self.after_typing(self._sign_in_as_typed, name="sign-in-when-typed")

    def _sign_in_as_typed(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if username and not password and self.focused is self.query_one("#username", Input):
            self.set_focus(self.query_one("#password", Input))  # enter after the user name: on to the password
            self.desk.release_keys()
            return
        if not username:
            self._error(_("Type your user name."))
            self.set_focus(self.query_one("#username", Input))
            self.desk.release_keys()
            return
        if not password:
            self._error(_("Type your password."))
            self.set_focus(self.query_one("#password", Input))
            self.desk.release_keys()
            return
        self.sign_in(username, password)

    def _error(self, text: str) -> None:
        self.query_one("#login-error", Static).update(text)

    @work(name="sign-in", group="login", exclusive=True, exit_on_error=False)
    async def sign_in(self, username: str, password: str) -> None:
        self._error(_("Signing in…"))
        try:
            await self.desk.sign_in(username, password)
        except Unauthorized:
            self._error(_("Wrong user name or password."))
            self.set_focus(self.query_one("#password", Input))
            self.desk.release_keys()
            return
        except TooManyRequests as exc:
            self._error(_("Too many failed sign-ins: try again in {seconds} s.").format(seconds=exc.retry_after))
            self.set_focus(self.query_one("#password", Input))
            self.desk.release_keys()
            return
        except UntrustedServer as exc:
            self._error(_("No secure connection to {url}: {problem}. Check the desk's CA bundle (ca_bundle).").format(
                url=self.desk.server, problem=exc.problem))
            self.desk.release_keys()
            return
        except BackendUnavailable:
            self._error(_("The backend cannot be reached at {url}. Try again when it is up.").format(url=self.desk.server))
            self.desk.release_keys()
            return
        except BackendError as exc:
            self._error(_("Cannot sign in: {error}").format(error=str(exc)[:120]))
            self.desk.release_keys()
            return
        if self.again and self._username == username:
            self.dismiss()  # back to where the agent was, drafts and all
            self.desk.load_what_is_missing()
        else:
            # Someone else signed in over a lapsed session: their own worklist, nothing of the other's.
            self.desk.nav.start_over()
