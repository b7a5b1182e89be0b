"""One unit of work per request (issue 16 item 2): the route commits the request's session
when its endpoint returns and rolls it back when it raises; services never commit.
See ``backend/api/unit_of_work.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from backend.api.deps import SessionDep
from backend.api.unit_of_work import UnitOfWorkRoute
from backend.domain.errors import Conflict
from backend.models import AuditEntry
from backend.services import audit

REPO = Path(__file__).resolve().parents[2]

# Where a commit may be written, and why (the module docstring of unit_of_work says it whole).
COMMITS_ALLOWED = {
    ("backend/api/unit_of_work.py", "_end"): "the unit of work itself",
    ("backend/api/deps.py", "get_current_token"): "the token check ends its read before the route's thread turn",
    ("backend/api/idempotent.py", "answer_once"): "the commit decides whether a concurrent retry won the key",
    ("backend/services/signin.py", "_refused"): "a refused sign-in is recorded although it answers an error",
    ("backend/services/signin.py", "open_attempt"): "a sign-in's steps around the password check in its own threads",
    ("backend/services/signin.py", "close_attempt"): "a sign-in's steps around the password check in its own threads",
    ("backend/services/ranking.py", "refresh_all_due"): "the background re-check, a batch per transaction",
    ("backend/services/rescore.py", "_write"): "the portfolio rescore (CLI), a batch per transaction",
    ("backend/services/treatments.py", "run"): "the treatments (scheduler, CLI): the day's plan, then the run's record",
    ("backend/services/treatments.py", "send_one"): "a message marked sending before its channel is called, "
                                                     "and its outcome after: never sent twice",
    ("backend/services/treatments.py", "_send_letter"): "a treatment letter, one transaction per letter",
}


def _commits(path: Path) -> set[tuple[str, str]]:
    """(file, innermost function) of every ``….commit()`` call in ``path``."""
    found: set[tuple[str, str]] = set()
    rel = path.relative_to(REPO).as_posix()

    def walk(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr == "commit" and not child.args):
                found.add((rel, where))
            walk(child, name)

    walk(ast.parse(path.read_text(encoding="utf-8")), "<module>")
    return found


def test_requests_commit_only_in_the_unit_of_work_and_its_named_boundaries() -> None:
    found = set()
    for folder in ("backend/api", "backend/services"):
        for path in sorted((REPO / folder).glob("*.py")):
            found |= _commits(path)
    unexpected = sorted(found - set(COMMITS_ALLOWED))
    assert not unexpected, f"commit outside the unit of work (say why in COMMITS_ALLOWED, or drop it): {unexpected}"
    stale = sorted(set(COMMITS_ALLOWED) - found)
    assert not stale, f"COMMITS_ALLOWED names places that no longer commit: {stale}"


def test_every_route_of_the_app_is_one_unit_of_work(app) -> None:  # noqa: ANN001
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI copied included routes into app.routes
        routes = [r for r in app.routes if isinstance(r, APIRoute)]
    else:
        routes = [c.original_route for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    assert len(routes) > 50
    assert [r.path for r in routes if not isinstance(r, UnitOfWorkRoute)] == []


def _audited(session, action: str) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


async def test_a_request_that_writes_and_then_is_refused_leaves_nothing(app, session) -> None:  # noqa: ANN001
    @app.post("/uow/refused")
    def refused(session: SessionDep) -> None:
        audit.record(session, None, "uow-refused", "test", None)
        session.flush()
        raise Conflict("Conflict", "refused after writing")

    @app.post("/uow/done", status_code=204)
    def done(session: SessionDep) -> None:
        audit.record(session, None, "uow-done", "test", None)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        assert (await http.post("/uow/refused")).status_code == 409
        assert (await http.post("/uow/done")).status_code == 204
    assert not session.in_transaction()
    assert (_audited(session, "uow-refused"), _audited(session, "uow-done")) == (0, 1)


async def test_each_request_is_committed_before_its_answer_is_sent(app, session, make_account) -> None:  # noqa: ANN001
    """At the moment each answer starts, the request's transaction is over: what the
    client is told was done (and the audit of what it was shown) is already committed."""
    seen: list[tuple[str, bool]] = []

    async def watching(scope, receive, send):  # noqa: ANN001, ANN202
        async def watch(message):  # noqa: ANN001, ANN202
            if message["type"] == "http.response.start":
                seen.append((f"{scope['method']} {scope['path']} {message['status']}",
                             session.in_transaction() or bool(session.new or session.dirty)))
            await send(message)

        await app(scope, receive, watch)

    views_before = _audited(session, "view")
    make_account(dpd=35, overdue="300.00")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=watching), base_url="http://backend") as http:
        token = (await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"
        assert (await http.get("/api/v1/worklist")).status_code == 200
        lease = (await http.post("/api/v1/worklist/next")).json()
        account = lease["account"]["id"]
        for path in (f"/api/v1/accounts/{account}", f"/api/v1/accounts/{account}/timeline", "/api/v1/plans",
                     "/api/v1/accounts/999999999", "/healthz"):
            await http.get(path)
        await http.post(f"/api/v1/accounts/{account}/release")
        await http.post("/api/v1/auth/logout")
    assert [s for s in seen if s[1]] == []
    assert [s[0].rsplit(" ", 1)[1] for s in seen] == ["200", "200", "200", "200", "200", "200", "404", "200", "204",
                                                      "204"]
    assert _audited(session, "view") >= views_before + 4  # the worklist, the lease, the account, the timeline…
