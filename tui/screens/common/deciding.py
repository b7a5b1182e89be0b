"""What the approvals queue and the escalations inbox share: sending the decision
their ``DecisionRow`` holds, and what a refusal or a lost backend does to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from backend_client.client import BackendError, Conflict, Invalid, ProblemResponse
from tui.i18n import _
from tui.widgets.decision import DecisionRow

T = TypeVar("T")


class DecisionQueue:
    """For a ``DeskScreen`` with a ``DecisionRow``, a ``table``, a ``load`` worker and
    a ``_busy`` flag (one decision in flight at a time)."""

    _busy: bool
    desk: Any
    table: Any

    @property
    def decision_row(self) -> DecisionRow:
        return self.query_one(DecisionRow)  # type: ignore[attr-defined]

    def _close_note(self) -> None:
        self.decision_row.close()
        self.set_focus(self.table)  # type: ignore[attr-defined]

    async def send_decision(self, request: Awaitable[T], refused: Callable[[str], str], where: str) -> T | None:
        """The backend's answer, the row closed; None when it was refused (said with
        ``refused(reason)``, the queue reloaded, the note kept) or not sent."""
        try:
            out = await self.desk.call(request)
        except (Conflict, Invalid) as exc:
            self._busy = False
            self.notify(refused(exc.problem.detail or exc.problem.title), title=_("Not decided"),  # type: ignore[attr-defined]
                        severity="error", markup=False)
            self.load()  # type: ignore[attr-defined]
            return None
        except (ProblemResponse, BackendError) as exc:
            self._busy = False
            self.desk.report(exc, where)
            return None
        self._busy = False
        self._close_note()
        return out
