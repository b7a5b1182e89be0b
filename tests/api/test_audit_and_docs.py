"""The audit log (views and changes, append-only in the database itself), the
liveness and OpenAPI documents, and problem details for routes that do not exist."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from backend.models import AuditEntry, User


async def test_views_and_changes_are_audited_with_who_and_what(http, auth, session, make_account) -> None:  # noqa: ANN001
    account = make_account()
    headers = await auth("agent2")
    agent2 = session.scalar(select(User.id).where(User.username == "agent2"))
    start = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    await http.get("/api/v1/worklist", headers=await auth("agent1"))
    await http.get(f"/api/v1/accounts/{account.id}", headers=headers)
    await http.get(f"/api/v1/accounts/{account.id}/timeline", headers=headers)
    await http.post(f"/api/v1/accounts/{account.id}/notes", json={"text": "n"}, headers=headers)
    rows = session.scalars(select(AuditEntry).where(AuditEntry.id > start).order_by(AuditEntry.id)).all()
    seen = [(r.action, r.entity) for r in rows]
    assert seen == [("login", "user"), ("view", "worklist"), ("view", "account"), ("view", "timeline"),
                    ("create", "note")]
    mine = [r for r in rows if r.user_id == agent2 and r.action != "login"]
    assert [r.entity_id for r in mine[:2]] == [account.id, account.id]
    assert all(r.at.tzinfo is not None for r in rows)


def test_the_audit_log_refuses_update_and_delete(session, make_account) -> None:  # noqa: ANN001
    make_account()
    row_id = session.scalar(select(AuditEntry.id).limit(1))
    assert row_id is not None
    for statement in (update(AuditEntry).where(AuditEntry.id == row_id).values(action="tampered"),
                      delete(AuditEntry).where(AuditEntry.id == row_id),
                      text("DELETE FROM audit_log")):
        with pytest.raises(DBAPIError, match="append-only"):
            with session.begin_nested():  # the refusal aborts only this savepoint
                session.execute(statement)
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.id == row_id)) != "tampered"


async def test_healthz_needs_no_token(http, engine) -> None:  # noqa: ANN001
    from backend.services import configuration

    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": engine.dialect.name, "version": "0.1.0",
                               "config": configuration.current().digest}


async def test_healthz_answers_503_when_the_database_does_not(tmp_path) -> None:  # noqa: ANN001
    """What a load balancer's health check is told (README: behind a reverse proxy): a
    database that cannot be reached (here a SQLite file whose folder went away) is a 503 at
    once, with Retry-After, not a 500."""
    import httpx

    from backend.app import create_app
    from config.settings import BackendSettings

    gone = tmp_path / "gone"
    gone.mkdir()
    app = create_app(BackendSettings(db=f"sqlite:///{gone / 'x.db'}"))
    gone.rmdir()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as client:
        response = await client.get("/healthz")
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["detail"] == "The database does not answer"


async def test_openapi_documents_every_route_and_its_problems(http) -> None:  # noqa: ANN001
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    expected = {
        ("post", "/api/v1/auth/login"), ("get", "/api/v1/me"), ("get", "/api/v1/worklist"),
        ("post", "/api/v1/worklist/next"), ("get", "/api/v1/accounts/{account_id}"),
        ("get", "/api/v1/accounts/{account_id}/timeline"), ("post", "/api/v1/accounts"),
        ("patch", "/api/v1/accounts/{account_id}"), ("post", "/api/v1/accounts/{account_id}/contacts"),
        ("post", "/api/v1/accounts/{account_id}/notes"), ("post", "/api/v1/accounts/{account_id}/release"),
        ("get", "/healthz"),
    }
    documented = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert expected <= documented
    contacts = schema["paths"]["/api/v1/accounts/{account_id}/contacts"]["post"]
    assert {"201", "404", "409", "422"} <= set(contacts["responses"])
    assert "application/problem+json" in contacts["responses"]["409"]["content"]
    headers = {p["name"] for p in contacts["parameters"] if p["in"] == "header"}
    assert "Idempotency-Key" in headers
    patch = schema["paths"]["/api/v1/accounts/{account_id}"]["patch"]
    assert "If-Match" in {p["name"] for p in patch["parameters"] if p["in"] == "header"}
    assert {"412", "428"} <= set(patch["responses"])
    assert {"Problem", "WorklistPage", "AccountDetail", "ContactCreate"} <= set(schema["components"]["schemas"])


async def test_unknown_routes_and_methods_are_problems(http, auth, problem) -> None:  # noqa: ANN001
    problem(await http.get("/api/v1/nothing-here"), 404)
    problem(await http.delete("/api/v1/me", headers=await auth("agent1")), 405)
    headers = {**await auth("agent1"), "content-type": "application/json"}
    problem(await http.post("/api/v1/accounts/1/notes", content=b"x" * (1 << 21), headers=headers), 413)

    async def streamed():  # no Content-Length: the limit applies as the body arrives
        for _ in range(40):
            yield b"x" * 65536

    problem(await http.post("/api/v1/accounts/1/notes", content=streamed(), headers=headers), 413)
