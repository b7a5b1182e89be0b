"""The async httpx client of the HTTP API. One long-lived ``httpx.AsyncClient``;
problem details, time-outs and refused connections become typed exceptions."""

from __future__ import annotations

import datetime as dt
import math
import ssl
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if "httpx" not in sys.modules:
    # httpx imports its own command line (``httpx._main``: click, pygments' lexers, rich's
    # syntax, progress and tables) whenever click is installed, as it is beside the backend:
    # 3.3 MB and 50–90 ms of every desk's start for a command nobody here runs. A module set
    # to None is one that cannot be imported; httpx then defines a ``main`` that says so.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402
from pydantic import BaseModel, ValidationError  # noqa: E402

from backend_client import models as wire  # noqa: E402
from backend_client.tls import certificate_problem, verify_context  # noqa: E402
from backend_client.vocabulary import NoteVisibility  # noqa: E402

if TYPE_CHECKING:
    from backend_client.models import (
        AccountCreate,
        AccountDetail,
        AccountFilter,
        AccountPatch,
        AgentReport,
        AssignPreview,
        AssignRequest,
        AssignResult,
        BreachPage,
        CasesReport,
        ComplianceVerdict,
        ContactCreate,
        ContactOut,
        DocumentCreate,
        DocumentOut,
        DocumentPage,
        EscalationCheck,
        EscalationCreate,
        EscalationOut,
        EscalationPage,
        HandoffCreate,
        HandoffOut,
        Health,
        Lease,
        LetterRunOut,
        LetterSend,
        MessagePreview,
        MessageTemplates,
        NoteOut,
        PaymentCreate,
        PaymentOut,
        PlanCreate,
        PlanOut,
        PlanPage,
        PlanPreview,
        PortfolioReport,
        Problem,
        SegmentCreate,
        SegmentOut,
        SegmentPage,
        SegmentPatch,
        SharedNotes,
        TeamOverview,
        TeamReport,
        Timeline,
        TokenResponse,
        TreatmentDay,
        TreatmentPauseCreate,
        TreatmentPauseOut,
        UserOut,
        WorklistPage,
    )

M = TypeVar("M", bound=BaseModel)

REPORT_MODELS: dict[str, str] = {"agent": "AgentReport", "team": "TeamReport", "portfolio": "PortfolioReport",
                                 "cases": "CasesReport"}
"""Each report's shape, by name: imported when a report is first asked for."""


class BackendError(Exception):
    """Anything that kept a request from getting a good answer."""


class BackendUnavailable(BackendError):
    """The backend could not be reached (refused, reset, DNS)."""


class BackendTimeout(BackendUnavailable):
    """The backend did not answer in time."""


class UntrustedServer(BackendUnavailable):
    """No secure connection: the server's certificate is not trusted (not signed by a CA of the
    configured bundle, expired, for another host name) or the TLS handshake failed. ``problem``
    says which, in one line. Nothing was sent, and nothing is then sent in clear."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"no secure connection to the backend: {problem}")
        self.problem = problem


class BackendBusy(BackendUnavailable):
    """503: the backend is handling all it can (or could not get a database connection in time)
    and said when to try again: ``retry_after`` seconds (its ``Retry-After``; 1 if it named none).
    Nothing was done; what was sent may be sent again then."""

    RETRY_AFTER_AT_MOST_S = 300

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> int:
    """``Retry-After`` in whole seconds (1 to ``BackendBusy.RETRY_AFTER_AT_MOST_S``): a number of
    seconds or an HTTP date; 1 when it is missing or unreadable."""
    if not value:
        return 1
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        import email.utils

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 1
        if when.tzinfo is None:
            return 1
        seconds = math.ceil((when - dt.datetime.now(dt.UTC)).total_seconds())
    return min(max(seconds, 1), BackendBusy.RETRY_AFTER_AT_MOST_S)


class BadResponse(BackendError):
    """The backend answered something that is not the contract."""


class ProblemResponse(BackendError):
    """The backend answered a problem (RFC 9457)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem

    @property
    def status(self) -> int:
        return self.problem.status

    def field_errors(self) -> dict[str, str]:
        return {e.field: e.message for e in self.problem.errors or []}


class Unauthorized(ProblemResponse):
    """401: wrong credentials, or a missing or expired token."""


class Forbidden(ProblemResponse):
    """403."""


class TooManyRequests(ProblemResponse):
    """429: too many failed sign-ins of this user name or from this address; ``retry_after``
    says in how many seconds the next attempt is let in."""

    @property
    def retry_after(self) -> int:
        value = (self.problem.model_extra or {}).get("retry_after")
        return value if isinstance(value, int) and value > 0 else 1


class NotFound(ProblemResponse):
    """404: unknown, or another team's."""


class Conflict(ProblemResponse):
    """409: refused by a rule (``problem.rule``) or a conflicting state."""


class PreconditionFailed(ProblemResponse):
    """412: the record changed since it was read."""


class Invalid(ProblemResponse):
    """422: a field is wrong (``field_errors()``)."""


class ChannelFailed(ProblemResponse):
    """502 from a message sent by hand: the bank's mail relay or SMS gateway did not take it
    (the backend itself answered). Nothing was sent or recorded; ``temporary`` says whether
    the same request may go later."""

    @property
    def temporary(self) -> bool:
        return bool((self.problem.model_extra or {}).get("temporary"))


_BY_STATUS: dict[int, type[ProblemResponse]] = {
    401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 412: PreconditionFailed, 422: Invalid,
    429: TooManyRequests,
}


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class BackendClient:
    """``async with BackendClient(url) as api: await api.login(…)``.

    ``transport`` lets tests run the backend in-process (``httpx.ASGITransport``).
    ``ca_bundle``: an ``https://`` server's certificate is verified against these CA certificates
    (PEM) only; unset, against httpx's default trust store. Verification is never turned off
    (``CABundleError`` when the bundle cannot be read).
    """

    def __init__(
        self, base_url: str, *, token: str | None = None, timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None, ca_bundle: str | Path | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ca_bundle = ca_bundle
        verify = verify_context(ca_bundle)
        if verify is True and self.base_url.startswith("http://"):
            # Plain HTTP speaks no TLS: certifi's public CAs are not loaded for it (36 ms and their
            # memory at every start of the desk). Should TLS ever be spoken, this context still
            # verifies the certificate and the host name; it trusts no CA, so it refuses.
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport,
                                       verify=verify, headers={"Accept": "application/json"})

    async def __aenter__(self) -> BackendClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ------------------------------------------------------------

    async def _request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                       headers: dict[str, str] | None = None) -> httpx.Response:
        hdrs = dict(headers or {})
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        if params:
            params = {k: v for k, v in params.items() if v is not None}
        try:
            response = await self._http.request(method, path, json=json, params=params, headers=hdrs)
        except httpx.TimeoutException as exc:
            raise BackendTimeout(f"the backend did not answer in time ({exc.__class__.__name__})") from exc
        except httpx.TransportError as exc:
            if (tls_problem := certificate_problem(exc)) is not None:
                raise UntrustedServer(tls_problem) from exc
            raise BackendUnavailable(f"the backend cannot be reached ({exc.__class__.__name__})") from exc
        if response.status_code >= 400:
            try:
                problem = wire.Problem.model_validate(response.json())
            except (ValueError, ValidationError):
                problem = wire.Problem(title=response.reason_phrase or "Error", status=response.status_code,
                                  detail=response.text[:200] or None)
            if response.status_code == 503:
                raise BackendBusy(problem.detail or problem.title,
                                  retry_after_seconds(response.headers.get("Retry-After")))
            if response.status_code == 502 and (problem.model_extra or {}).get("channel"):
                raise ChannelFailed(problem)  # the relay's answer, not the backend down
            if response.status_code >= 500:
                raise BackendUnavailable(problem.detail or problem.title)
            raise _BY_STATUS.get(response.status_code, ProblemResponse)(problem)
        return response

    async def _get(self, path: str, model: type[M], **params: Any) -> M:
        return _parse(await self._request("GET", path, params=params), model)

    @staticmethod
    def _body(model: BaseModel) -> Any:
        return model.model_dump(mode="json", exclude_unset=True)

    # -- the API -------------------------------------------------------------

    async def health(self) -> Health:
        return await self._get("/healthz", wire.Health)

    async def login(self, username: str, password: str) -> TokenResponse:
        body = wire.LoginRequest(username=username, password=password).model_dump()
        token = _parse(await self._request("POST", "/api/v1/auth/login", json=body), wire.TokenResponse)
        self.token = token.access_token
        return token

    async def logout(self) -> None:
        """End this session on the backend (its token is refused from then on) and forget the token,
        even when the backend could not be told (the token then ends when it has been idle long enough)."""
        try:
            if self.token:
                await self._request("POST", "/api/v1/auth/logout")
        finally:
            self.token = None

    async def me(self) -> UserOut:
        return await self._get("/api/v1/me", wire.UserOut)

    async def worklist(self, *, limit: int = 50, cursor: str | None = None, bucket: str | None = None,
                       q: str | None = None) -> WorklistPage:
        return await self._get("/api/v1/worklist", wire.WorklistPage, limit=limit, cursor=cursor, bucket=bucket, q=q)

    async def next_account(self, skip: int | None = None) -> Lease:
        response = await self._request("POST", "/api/v1/worklist/next", params={"skip": skip})
        return _parse(response, wire.Lease)

    async def release(self, account_id: int) -> None:
        await self._request("POST", f"/api/v1/accounts/{account_id}/release")

    async def account(self, account_id: int) -> AccountDetail:
        return await self._get(f"/api/v1/accounts/{account_id}", wire.AccountDetail)

    async def timeline(self, account_id: int, limit: int = 200) -> Timeline:
        return await self._get(f"/api/v1/accounts/{account_id}/timeline", wire.Timeline, limit=limit)

    async def log_contact(self, account_id: int, contact: ContactCreate, idempotency_key: str | None = None) -> ContactOut:
        response = await self._request(
            "POST", f"/api/v1/accounts/{account_id}/contacts", json=self._body(contact),
            headers={"Idempotency-Key": idempotency_key or new_idempotency_key()},
        )
        return _parse(response, wire.ContactOut)

    async def add_note(self, account_id: int, text: str, idempotency_key: str | None = None, *,
                       visibility: NoteVisibility | str = "team") -> NoteOut:
        """``visibility="shared"``: other teams (customer service, sales) may read it."""
        response = await self._request(
            "POST", f"/api/v1/accounts/{account_id}/notes",
            json=wire.NoteCreate(text=text, visibility=NoteVisibility(visibility)).model_dump(mode="json"),
            headers={"Idempotency-Key": idempotency_key or new_idempotency_key()},
        )
        return _parse(response, wire.NoteOut)

    async def patch_account(self, account_id: int, patch: AccountPatch, version: int) -> AccountDetail:
        response = await self._request("PATCH", f"/api/v1/accounts/{account_id}", json=self._body(patch),
                                       headers={"If-Match": str(version)})
        return _parse(response, wire.AccountDetail)

    async def compliance(self, account_id: int, *, channel: str = "phone", party: str = "debtor",
                         used: str | None = None, at: dt.datetime | None = None) -> ComplianceVerdict:
        """The backend's verdict on a contact with the account now (or at ``at``)."""
        return await self._get(f"/api/v1/accounts/{account_id}/compliance", wire.ComplianceVerdict, channel=channel,
                               party=party, used=used, at=at.isoformat() if at else None)

    async def breaches(self, *, limit: int = 100, before: int | None = None, team: str | None = None) -> BreachPage:
        return await self._get("/api/v1/breaches", wire.BreachPage, limit=limit, before=before, team=team)

    # -- the supervisor desk and reports (issue 5) ----------------------------------

    async def assign(self, request: AssignRequest) -> AssignResult:
        """Move accounts (ids, or every account matching a filter) to an agent or a team, in one action."""
        response = await self._request("POST", "/api/v1/accounts/assign", json=self._body(request))
        return _parse(response, wire.AssignResult)

    async def assign_preview(self, account_filter: AccountFilter) -> AssignPreview:
        """How many accounts a filter matches, whose they are, and the first of them."""
        response = await self._request("POST", "/api/v1/accounts/assign/preview", json=self._body(account_filter))
        return _parse(response, wire.AssignPreview)

    async def overview(self, *, day: dt.date | None = None, team: str | None = None) -> TeamOverview:
        """The team overview now; ``day`` is "today" for promises due (the caller's calendar)."""
        return await self._get("/api/v1/reports/overview", wire.TeamOverview, day=day.isoformat() if day else None,
                               team=team)

    async def report(self, kind: str, *, days: int = 30, since: dt.date | None = None,
                     until: dt.date | None = None, team: str | None = None,
                     limit: int | None = None) -> AgentReport | TeamReport | PortfolioReport | CasesReport:
        """``kind`` is agent, team, portfolio or cases; the last ``days`` days, or ``since``…``until`` (days, both included)."""
        model: type[AgentReport | TeamReport | PortfolioReport | CasesReport] = getattr(wire, REPORT_MODELS[kind])
        return await self._get(f"/api/v1/reports/{kind}", model, days=days, team=team, limit=limit,
                               **{"from": since.isoformat() if since else None, "to": until.isoformat() if until else None})

    # -- plans and payments ------------------------------------------------------

    async def draft_plan(self, account_id: int, plan: PlanCreate, idempotency_key: str | None = None) -> PlanOut:
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/plans", json=self._body(plan),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.PlanOut)

    async def preview_plan(self, account_id: int, plan: PlanCreate) -> PlanPreview:
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/plans/preview", json=self._body(plan))
        return _parse(response, wire.PlanPreview)

    async def plan(self, plan_id: int) -> PlanOut:
        return await self._get(f"/api/v1/plans/{plan_id}", wire.PlanOut)

    async def plans(self, *, status: str | None = None, account_id: int | None = None, limit: int = 100) -> PlanPage:
        """Plans the caller may see: ``status="pending"`` is a supervisor's approval queue."""
        return await self._get("/api/v1/plans", wire.PlanPage, status=status, account_id=account_id, limit=limit)

    async def plan_action(self, plan_id: int, action: str, note: str = "") -> PlanOut:
        """``submit``, ``approve``, ``reject`` or ``cancel``."""
        response = await self._request("POST", f"/api/v1/plans/{plan_id}/{action}", json={"note": note})
        return _parse(response, wire.PlanOut)

    async def plan_letter(self, plan_id: int, fmt: str = "md", lang: str | None = None) -> bytes:
        response = await self._request("GET", f"/api/v1/plans/{plan_id}/letter", params={"format": fmt, "lang": lang})
        return response.content

    async def post_payment(self, payment: PaymentCreate) -> PaymentOut:
        response = await self._request("POST", "/api/v1/payments", json=self._body(payment))
        return _parse(response, wire.PaymentOut)

    async def create_account(self, row: AccountCreate, idempotency_key: str | None = None) -> AccountDetail:
        response = await self._request("POST", "/api/v1/accounts", json=self._body(row),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.AccountDetail)

    # -- escalations and documents (issue 5) ---------------------------------------

    async def escalate(self, account_id: int, escalation: EscalationCreate,
                       idempotency_key: str | None = None) -> EscalationOut:
        """Escalate an account; a legal referral that lacks a precondition raises
        ``Conflict`` whose ``problem.missing`` lists what is missing, in words."""
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/escalations",
                                       json=self._body(escalation),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.EscalationOut)

    async def escalation_check(self, account_id: int, kind: str = "legal") -> EscalationCheck:
        """What an escalation of ``kind`` would lack now, in words (empty ``missing``: ready)."""
        return await self._get(f"/api/v1/accounts/{account_id}/escalations/check", wire.EscalationCheck, kind=kind)

    async def escalations(self, *, status: str | None = None, kind: str | None = None,
                          account_id: int | None = None, limit: int = 100) -> EscalationPage:
        """The caller's queue (or one account's escalations)."""
        return await self._get("/api/v1/escalations", wire.EscalationPage, status=status, kind=kind, account_id=account_id,
                               limit=limit)

    async def escalation(self, escalation_id: int) -> EscalationOut:
        return await self._get(f"/api/v1/escalations/{escalation_id}", wire.EscalationOut)

    async def escalation_action(self, escalation_id: int, action: str, note: str = "") -> EscalationOut:
        """``review``, ``accept``, ``return`` (with a note) or ``close``."""
        response = await self._request("POST", f"/api/v1/escalations/{escalation_id}/{action}", json={"note": note})
        return _parse(response, wire.EscalationOut)

    async def documents(self, account_id: int) -> DocumentPage:
        return await self._get(f"/api/v1/accounts/{account_id}/documents", wire.DocumentPage)

    async def make_document(self, account_id: int, document: DocumentCreate,
                            idempotency_key: str | None = None) -> DocumentOut:
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/documents", json=self._body(document),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.DocumentOut)

    async def document_bytes(self, document: DocumentOut | str | int, name: str | None = None) -> bytes:
        """A stored document's bytes: from a ``DocumentOut`` or its ``url``, or
        ``(escalation_id, name)`` for a document of a legal pack (``demand_letter.pdf``)."""
        if isinstance(document, wire.DocumentOut):
            path = document.url
        elif isinstance(document, int):
            if name is None:
                raise ValueError("a pack document is named: document_bytes(escalation_id, 'demand_letter.pdf')")
            path = f"/api/v1/escalations/{document}/documents/{name}"
        else:
            path = document
        response = await self._request("GET", path)
        return response.content

    async def send_letter(self, account_id: int, letter: LetterSend | None = None,
                          idempotency_key: str | None = None) -> ContactOut:
        """Send a demand letter now: a ``letter`` contact whose ``document_id`` is the PDF sent."""
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/letters",
                                       json=self._body(letter or wire.LetterSend()),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.ContactOut)

    async def segment_letters(self, segment_id: int, letter: LetterSend | None = None,
                              idempotency_key: str | None = None) -> LetterRunOut:
        """A demand letter to every account the segment matches now; the run names its print file."""
        response = await self._request("POST", f"/api/v1/segments/{segment_id}/letters",
                                       json=self._body(letter or wire.LetterSend()),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.LetterRunOut)

    # -- messages by hand (issue 20 item 6) ----------------------------------------

    async def message_templates(self) -> MessageTemplates:
        """The e-mail and SMS templates, and whether each channel is configured."""
        return await self._get("/api/v1/message-templates", wire.MessageTemplates)

    async def preview_message(self, account_id: int, channel: str, template: str) -> MessagePreview:
        """What the message would say in the customer's language, where it would go, and
        whether it may go now. Nothing is sent."""
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/messages/preview",
                                       json={"channel": channel, "template": template})
        return _parse(response, wire.MessagePreview)

    async def send_message(self, account_id: int, channel: str, template: str,
                           idempotency_key: str | None = None) -> ContactOut:
        """Send it now: the contact that records it. ``Conflict`` naming the rule (``until`` in
        ``problem.model_extra``), ``Invalid`` naming the field, ``ChannelFailed`` from the relay."""
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/messages",
                                       json={"channel": channel, "template": template},
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.ContactOut)

    # -- segments (issue 6 item 4) ------------------------------------------------

    async def segments(self) -> SegmentPage:
        """The caller's segments, each with the count of accounts it matches now (supervisor, admin)."""
        return await self._get("/api/v1/segments", wire.SegmentPage)

    async def segment(self, segment_id: int) -> SegmentOut:
        return await self._get(f"/api/v1/segments/{segment_id}", wire.SegmentOut)

    async def create_segment(self, segment: SegmentCreate, idempotency_key: str | None = None) -> SegmentOut:
        response = await self._request("POST", "/api/v1/segments", json=self._body(segment),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.SegmentOut)

    async def patch_segment(self, segment_id: int, patch: SegmentPatch) -> SegmentOut:
        response = await self._request("PATCH", f"/api/v1/segments/{segment_id}", json=self._body(patch))
        return _parse(response, wire.SegmentOut)

    async def delete_segment(self, segment_id: int) -> None:
        await self._request("DELETE", f"/api/v1/segments/{segment_id}")

    async def assign_segment(self, segment_id: int) -> AssignResult:
        """Move every account the segment matches now to its agent or team."""
        response = await self._request("POST", f"/api/v1/segments/{segment_id}/assign")
        return _parse(response, wire.AssignResult)

    # -- collaboration (issue 5 item 4) ---------------------------------------------

    async def shared_notes(self, account_id: int | None = None, *, account_ref: str | None = None) -> SharedNotes:
        """An account's notes shared with other teams, by id or by the bank's reference."""
        if account_id is not None:
            return await self._get(f"/api/v1/accounts/{account_id}/shared-notes", wire.SharedNotes)
        return await self._get("/api/v1/shared-notes", wire.SharedNotes, account_ref=account_ref)

    async def hand_off(self, account_id: int, handoff: HandoffCreate, idempotency_key: str | None = None) -> HandoffOut:
        """Hand the account to another agent or team with a note."""
        response = await self._request("POST", f"/api/v1/accounts/{account_id}/handoff", json=self._body(handoff),
                                       headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        return _parse(response, wire.HandoffOut)


    # -- treatments (issue 20) -------------------------------------------------------

    async def treatments(self, as_of: dt.date | None = None) -> TreatmentDay:
        """A day of treatments (default today, UTC): each step with its rows by status, the day's
        messages and every one still open, the last run (supervisor, legal, admin)."""
        return await self._get("/api/v1/treatments", wire.TreatmentDay,
                               as_of=as_of.isoformat() if as_of is not None else None)

    async def pause_treatment(self, pause: TreatmentPauseCreate) -> TreatmentPauseOut:
        """Stop sending one step until it is resumed (supervisor, admin); a paused step stays paused."""
        response = await self._request("POST", "/api/v1/treatments/pauses", json=self._body(pause))
        return _parse(response, wire.TreatmentPauseOut)

    async def resume_treatment(self, strategy: str, step_id: str) -> None:
        """Send the step again from the next run (supervisor, admin)."""
        await self._request("DELETE", f"/api/v1/treatments/pauses/{strategy}/{step_id}")

def _parse(response: httpx.Response, model: type[M]) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise BadResponse(f"unexpected answer from {response.request.url.path}: {exc.error_count()} problems") from exc



