"""What the small forms that change an account's details share (the time zone the
customer confirmed, the phones' kinds and do-not-call marks): the change goes as a
``PATCH`` with the account's version (``If-Match``); when someone changed the
account meanwhile (``412``) it is read again and the form keeps what was typed;
a refused field (``422``) is said in the form; the backend away is said by a toast
and the form stays. ``escape`` goes back without changing anything."""

from __future__ import annotations

from textual import work
from textual.widgets import Static

from backend_client.client import BackendError, Invalid, PreconditionFailed
from backend_client.models import AccountDetail, AccountPatch
from tui.i18n import _
from tui.labels import term
from tui.screens.common.base import DeskModal


class AccountEditModal(DeskModal):
    ERROR_LINE = "#account-edit-error"
    """The selector of the form's error line."""

    def __init__(self, account: AccountDetail) -> None:
        super().__init__()
        self.account = account
        self._saving = False
        self._reloaded = False
        """The account was read again (someone changed it): the account screen reloads it too."""

    # -- what a form fills in ---------------------------------------------------------

    def what(self) -> str:
        """The form's name (its ``NOUN``) in the desk's language: the title of its toasts."""
        return term(self.NOUN)

    def reloaded(self) -> None:
        """The account was read again (``self.account``): show what changed, keep what was typed."""

    def refused(self, fields: dict[str, str]) -> str:
        """The line that says which fields the backend refused (``field: why``)."""
        return "; ".join(f"{name}: {message}" for name, message in fields.items())

    def saved(self, detail: AccountDetail) -> None:
        """Saved: say so (the form closes after)."""

    # -- shared -----------------------------------------------------------------------

    def action_back(self) -> None:
        self.skip_if_menu_open()
        if not self._saving:
            self.dismiss(self._reloaded or None)

    def _error(self, text: str) -> None:
        self.query_one(self.ERROR_LINE, Static).update(text)
        if text:
            self.notify(text, severity="error", markup=False)

    def send(self, patch: AccountPatch) -> None:
        """PATCH the account with ``patch``; the form closes with the account as saved."""
        if self._saving:
            return
        self._saving = True
        self.query_one(self.ERROR_LINE, Static).update("")
        self._send(patch)

    @work(name="account-edit", group="account-edit", exit_on_error=False)
    async def _send(self, patch: AccountPatch) -> None:
        desk = self.desk
        try:
            detail = await desk.call(desk.api.patch_account(self.account.id, patch, self.account.version))
        except PreconditionFailed:
            # Changed meanwhile: read it again and let the agent look before saving again.
            self._saving = False
            self._reloaded = True
            try:
                self.account = await desk.call(desk.api.account(self.account.id))
            except BackendError as exc:
                desk.report(exc, self.what())
                return
            self.reloaded()
            self._error(_("Someone changed this account meanwhile; it has been reloaded."))
            return
        except Invalid as exc:
            self._saving = False
            self._error(self.refused(exc.field_errors()) or str(exc))
            return
        except BackendError as exc:
            self._saving = False
            desk.report(exc, self.what())
            return
        self.saved(detail)
        desk.worklist_stale = True
        self.dismiss(detail)
