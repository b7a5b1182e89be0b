"""Thin routers: parse, call a service, shape the answer."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from backend.api.deps import ClientAddress, CurrentToken, CurrentUser, SessionDep, SettingsDep, require_role
from backend.api.errors import ProblemError, problems
from backend.api.idempotent import answer_once as _idempotent
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.models import utcnow
from backend.services import accounts as accounts_svc
from backend.services import assign as assign_svc
from backend.services import audit
from backend.services import compliance as compliance_svc
from backend.services import contacts as contacts_svc
from backend.services import plans as plans_svc
from backend.services import reports as reports_svc
from backend.services import signin as signin_svc
from backend.services import timeline as timeline_svc
from backend.services import users as users_svc
from backend_client.models import (
    AccountCreate,
    AccountDetail,
    AccountFilter,
    AccountPatch,
    AssignPreview,
    AssignRequest,
    AssignResult,
    Breach,
    BreachPage,
    Bucket,
    Channel,
    ComplianceVerdict,
    ContactCreate,
    ContactOut,
    DocumentFormat,
    DocumentLang,
    IsoDateTime,
    Lease,
    LoginRequest,
    NoteCreate,
    NoteOut,
    Party,
    PaymentCreate,
    PaymentOut,
    PlanCreate,
    PlanDecision,
    PlanOut,
    PlanPage,
    PlanPreview,
    PlanStatus,
    StrategyReport,
    Timeline,
    TokenResponse,
    UserOut,
    WorklistPage,
    instant_problem,
)

AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
ROUTER_PROBLEMS = problems(401, 422, 503)
"""Every route here answers 401 (each needs a bearer token; signing in answers 401 for a
wrong password), 422 (the URL is checked for every route, ``deps.refuse_hostile_url``)
and 503 (a busy database, ``errors.install``)."""

router = APIRouter(prefix="/api/v1", route_class=UnitOfWorkRoute, responses=ROUTER_PROBLEMS)

WITH_ETAG = {200: {"headers": {"ETag": {
    "description": "the account's version, quoted: send it back as If-Match to change the account",
    "required": True, "schema": {"type": "string", "pattern": '^"[0-9]+"$'}}}}}


@router.post("/auth/login", response_model=TokenResponse, tags=["auth"], responses=problems(413, 429))
async def login(body: LoginRequest, request: Request, session: SessionDep, settings: SettingsDep,
                address: ClientAddress) -> TokenResponse:
    """A token for the user. Failed sign-ins of a user name or from an address slow the next
    ones down and then lock them for a while (``429`` with ``Retry-After``); the password is
    checked off the event loop, in a pool of its own (``503`` with ``Retry-After`` when full)."""
    state = request.app.state
    token, row = await signin_svc.sign_in(session, state.hash_pool, state.login_turns, state.login_limits,
                                          body.username, body.password, address, settings.token_ttl_hours,
                                          state.login_bell)
    return TokenResponse(access_token=token, expires_at=row.expires_at, user=users_svc.user_out(row.user))


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(token: CurrentToken, session: SessionDep) -> Response:
    """End this session: the token that signs the request is refused from now on."""
    users_svc.logout(session, token)
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, tags=["auth"])
def me(user: CurrentUser) -> UserOut:
    return users_svc.user_out(user)


@router.get("/worklist", response_model=WorklistPage, tags=["worklist"])
def worklist(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    bucket: Bucket | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> WorklistPage:
    return accounts_svc.worklist(session, user, limit=limit, cursor=cursor, bucket=bucket, q=q or None)


@router.post("/worklist/next", response_model=Lease, tags=["worklist"], responses=problems(404))
def worklist_next(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    skip: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Lease:
    account, expires = accounts_svc.next_account(session, user, settings.lease_minutes, skip=skip)
    accounts_svc.fresh(session, account)
    audit.record(session, user.id, "view", "account", account.id)
    return Lease(account=accounts_svc.detail(account), lease_expires_at=expires)


@router.post("/accounts/{account_id}/release", status_code=204, tags=["worklist"], responses=problems(404))
def release(account_id: AccountId, user: CurrentUser, session: SessionDep) -> Response:
    accounts_svc.get_visible(session, user, account_id)
    accounts_svc.release_leases(session, user, account_id)
    return Response(status_code=204)


@router.get("/accounts/{account_id}", response_model=AccountDetail, tags=["accounts"],
            responses={**WITH_ETAG, **problems(404)})
def get_account(account_id: AccountId, user: CurrentUser, session: SessionDep, response: Response) -> AccountDetail:
    account = accounts_svc.fresh(session, accounts_svc.get_visible(session, user, account_id))
    audit.record(session, user.id, "view", "account", account.id)
    response.headers["ETag"] = f'"{account.version}"'
    return accounts_svc.detail(account)


@router.get("/accounts/{account_id}/timeline", response_model=Timeline, tags=["accounts"], responses=problems(404))
def get_timeline(
    account_id: AccountId, user: CurrentUser, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 200
) -> Timeline:
    return timeline_svc.timeline(session, user, account_id, limit)


@router.post("/accounts", status_code=201, response_model=AccountDetail, tags=["accounts"],
             dependencies=[require_role("admin")], responses=problems(403, 409, 413))
def create_account(
    body: AccountCreate, user: CurrentUser, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    return _idempotent(
        session, user, "POST /accounts", idempotency_key, 201,
        lambda: accounts_svc.detail(accounts_svc.create_account(session, body, user)), request=body,
    )


@router.patch("/accounts/{account_id}", response_model=AccountDetail, tags=["accounts"],
              responses={**WITH_ETAG, **problems(403, 404, 412, 413, 428)})
def patch_account(
    account_id: AccountId,
    body: AccountPatch,
    user: CurrentUser,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> AccountDetail:
    account = accounts_svc.patch_account(session, user, account_id, body, if_match)
    response.headers["ETag"] = f'"{account.version}"'
    return accounts_svc.detail(account)


@router.post("/accounts/{account_id}/contacts", status_code=201, response_model=ContactOut, tags=["contacts"],
             responses=problems(403, 404, 409, 413))
def log_contact(
    account_id: AccountId,
    body: ContactCreate,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    def create() -> ContactOut:
        contact = contacts_svc.log_contact(session, user, account_id, body)
        return contacts_svc.contact_out(contact, accounts_svc.get_visible(session, user, account_id).currency)

    return _idempotent(session, user, f"POST /accounts/{account_id}/contacts", idempotency_key, 201, create,
                       request=body)


@router.post("/accounts/{account_id}/notes", status_code=201, response_model=NoteOut, tags=["contacts"],
             responses=problems(404, 413))
def add_note(
    account_id: AccountId,
    body: NoteCreate,
    user: CurrentUser,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return _idempotent(
        session, user, f"POST /accounts/{account_id}/notes", idempotency_key, 201,
        lambda: contacts_svc.note_out(contacts_svc.add_note(session, user, account_id, body)), request=body,
    )




@router.get("/accounts/{account_id}/compliance", response_model=ComplianceVerdict, tags=["compliance"],
            responses=problems(404))
def get_compliance(
    account_id: AccountId,
    user: CurrentUser,
    session: SessionDep,
    channel: Channel = Channel.phone,
    at: Annotated[IsoDateTime | None, Query(description="ISO 8601 with an offset; default now")] = None,
    party: Party = Party.debtor,
    used: Annotated[str | None, Query(max_length=40, description="the number or address to be used")] = None,
) -> ComplianceVerdict:
    if at is not None and at.tzinfo is None:
        raise ProblemError(422, "Invalid request", "at: needs a time zone offset (say 2026-12-01T09:00:00-05:00)",
                           errors=[("at", "needs a time zone offset")])
    try:
        when = (at or utcnow()).astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ProblemError(422, "Invalid request", "at: out of range", errors=[("at", "out of range")]) from None
    if problem := instant_problem(when):
        raise ProblemError(422, "Invalid request", f"at: {problem}", errors=[("at", problem)])
    account = accounts_svc.get_visible(session, user, account_id)
    audit.record(session, user.id, "view", "compliance", account.id, channel=channel.value)
    return compliance_svc.verdict(session, account, channel.value, when, party=party.value, used=used,
                                  role=user.role)


@router.get("/breaches", response_model=BreachPage, tags=["compliance"], responses=problems(403))
def get_breaches(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the id of the last breach seen")] = None,
    team: Annotated[str | None, Query(max_length=64)] = None,
) -> BreachPage:
    found = compliance_svc.breaches(session, user, limit=limit, before_id=before, team=team)
    audit.record(session, user.id, "view", "breaches", None, contacts=[c.id for c, _ in found])
    return BreachPage(items=[
        Breach(contact=contacts_svc.contact_out(c, a.currency), account_ref=a.account_ref, customer_name=a.customer.name,
               team=a.team.name if a.team else None)
        for c, a in found
    ])


# -- plans and payments ----------------------------------------------------------

PlanId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post("/accounts/{account_id}/plans/preview", response_model=PlanPreview, tags=["plans"],
             responses=problems(403, 404, 413))
def preview_plan(account_id: AccountId, body: PlanCreate, user: CurrentUser, session: SessionDep) -> PlanPreview:
    """What the draft would be (schedule, the limits it breaks), without saving it."""
    answer = plans_svc.preview(session, user, account_id, body)
    session.rollback()
    return answer


@router.post("/accounts/{account_id}/plans", status_code=201, response_model=PlanOut, tags=["plans"],
             responses=problems(403, 404, 409, 413))
def draft_plan(
    account_id: AccountId, body: PlanCreate, user: CurrentUser, session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    return _idempotent(session, user, f"POST /accounts/{account_id}/plans", idempotency_key, 201,
                       lambda: plans_svc.plan_out(plans_svc.draft(session, user, account_id, body)), request=body)


@router.get("/plans", response_model=PlanPage, tags=["plans"])
def list_plans(
    user: CurrentUser, session: SessionDep, status: PlanStatus | None = None,
    account_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PlanPage:
    """Plans the caller may see; ``status=pending`` is a supervisor's approval queue."""
    found = plans_svc.list_plans(session, user, status=status.value if status else None, account_id=account_id,
                                 limit=limit)
    audit.record(session, user.id, "view", "plans", None, plans=[p.id for p in found])
    return PlanPage(items=[plans_svc.plan_out(p) for p in found])


@router.get("/plans/{plan_id}", response_model=PlanOut, tags=["plans"], responses=problems(404))
def get_plan(plan_id: PlanId, user: CurrentUser, session: SessionDep) -> PlanOut:
    plan = plans_svc.get_plan(session, user, plan_id)
    audit.record(session, user.id, "view", "plan", plan.id)
    return plans_svc.plan_out(plan)


def _plan_action(action: str):  # noqa: ANN202
    def act(plan_id: PlanId, user: CurrentUser, session: SessionDep, body: PlanDecision | None = None) -> PlanOut:
        plan = plans_svc.act(session, user, plan_id, action, (body.note if body else ""))
        return plans_svc.plan_out(plan)

    act.__name__ = f"{action}_plan"
    return act


for _action in ("submit", "approve", "reject", "cancel"):
    router.add_api_route(f"/plans/{{plan_id}}/{_action}", _plan_action(_action), methods=["POST"],
                         response_model=PlanOut, tags=["plans"], name=f"{_action}_plan",
                         responses=problems(403, 404, 409, 413))


@router.get("/plans/{plan_id}/letter", tags=["plans"], response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "text/markdown": {}}}, **problems(404)})
def plan_letter(
    plan_id: PlanId, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    format: DocumentFormat = DocumentFormat.md,  # noqa: A002
    lang: DocumentLang | None = None,
) -> Response:
    """The plan's confirmation letter with its schedule, in Markdown or PDF."""
    body, media = plans_svc.letter(session, user, plan_id, format, lang, settings.bank_name, settings.bank_contact)
    name = f"plan-{plan_id}.{format}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.post("/payments", status_code=201, response_model=PaymentOut, tags=["payments"],
             dependencies=[require_role("admin")],
             responses={200: {"model": PaymentOut, "description": "this bank_ref was recorded already"},
                        **problems(403, 409, 413)})
def post_payment(body: PaymentCreate, user: CurrentUser, session: SessionDep) -> JSONResponse:
    """A payment from the bank's feed, idempotent on ``bank_ref``: the same payment
    again answers 200 with the first record and writes nothing."""
    payment, created = plans_svc.record_payment(session, user, body)
    return JSONResponse(jsonable_encoder(plans_svc.payment_out(payment)), status_code=201 if created else 200)


@router.get("/reports/strategies", response_model=StrategyReport, tags=["reports"], responses=problems(403))
def report_strategies(
    user: CurrentUser, session: SessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30,
) -> StrategyReport:
    """Champion against challenger: accounts, attempts, right-party rate, promises,
    plans kept and broken, money collected, per strategy over the last ``days``."""
    report = reports_svc.strategies(session, user, days)
    audit.record(session, user.id, "view", "report", None, report="strategies", days=days)
    return report


@router.post("/accounts/assign", response_model=AssignResult, tags=["accounts"], responses=problems(403, 404, 413))
def assign_accounts(body: AssignRequest, user: CurrentUser, session: SessionDep) -> AssignResult:
    """Move a set of accounts (ids, or a filter: bucket, balance band, score band,
    team, agent) to an agent or a team in one action (supervisor within their team, admin)."""
    result = assign_svc.assign(session, user, body)
    return result


@router.post("/accounts/assign/preview", response_model=AssignPreview, tags=["accounts"],
             responses=problems(403, 413))
def preview_assign(body: AccountFilter, user: CurrentUser, session: SessionDep) -> AssignPreview:
    """What a filter matches before it is moved: the count, per current agent, and the
    first accounts (highest DPD first), for a supervisor (their team) or an admin."""
    found = assign_svc.preview(session, user, body)
    audit.record(session, user.id, "view", "accounts", None, via="assign-preview",
                 accounts=[a.id for a in found.items])
    return found
