"""Signing in, tokens and ``/me`` (SPEC §5): a wrong user name or password, and a
missing, unknown, expired or revoked token, are all 401 problems."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select, update

from backend.models import ApiToken, User


async def test_login_answers_a_bearer_token_and_the_user(http) -> None:  # noqa: ANN001
    before = dt.datetime.now(dt.UTC)
    response = await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert len(body["access_token"]) >= 32
    assert body["user"] == {"id": body["user"]["id"], "username": "agent1", "display_name": "agent1", "role": "agent",
                            "team": "A"}
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None and expires > before + dt.timedelta(hours=1)


async def test_tokens_are_stored_hashed_and_differ_per_login(http, session) -> None:  # noqa: ANN001
    tokens = [
        (await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})).json()["access_token"]
        for _ in range(2)
    ]
    assert tokens[0] != tokens[1]
    stored = set(session.scalars(select(ApiToken.token_hash)))
    for token in tokens:
        assert token not in stored
        assert hashlib.sha256(token.encode()).hexdigest() in stored


async def test_wrong_password_and_unknown_user_are_the_same_401(http, problem) -> None:  # noqa: ANN001
    wrong = await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "nope"})
    unknown = await http.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope"})
    for response in (wrong, unknown):
        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
    # Nothing tells a guesser which user names exist.
    assert wrong.json() == unknown.json()


async def test_inactive_user_cannot_sign_in(http, session, problem) -> None:  # noqa: ANN001
    session.execute(update(User).where(User.username == "agent2").values(active=False))
    session.commit()
    problem(await http.post("/api/v1/auth/login", json={"username": "agent2", "password": "agent2"}), 401)


async def test_login_needs_both_fields(http, problem) -> None:  # noqa: ANN001
    body = problem(await http.post("/api/v1/auth/login", json={"username": "agent1"}), 422)
    assert body["fields"] == {"password"}


async def test_me_answers_role_and_team(http, auth) -> None:  # noqa: ANN001
    for name, role, team in (("agent1", "agent", "A"), ("agent3", "agent", "B"), ("super1", "supervisor", "A"),
                             ("admin", "admin", None), ("legal1", "legal", None)):
        response = await http.get("/api/v1/me", headers=await auth(name))
        assert response.status_code == 200
        me = response.json()
        assert (me["username"], me["role"], me["team"]) == (name, role, team)


async def test_missing_or_bad_tokens_are_401(http, auth, problem) -> None:  # noqa: ANN001
    good = (await auth("agent1"))["Authorization"]
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": good.replace("Bearer", "Basic")}, {"Authorization": good + "x"},
                    {"Authorization": "Bearer " + "a" * 600}):
        response = await http.get("/api/v1/me", headers=headers)
        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_and_revoked_tokens_are_401(http, auth, session, problem) -> None:  # noqa: ANN001
    headers = await auth("agent1")
    assert (await http.get("/api/v1/me", headers=headers)).status_code == 200
    digest = hashlib.sha256(headers["Authorization"].removeprefix("Bearer ").encode()).hexdigest()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    session.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(expires_at=past))
    session.commit()
    problem(await http.get("/api/v1/me", headers=headers), 401)

    other = await auth("agent2")
    digest = hashlib.sha256(other["Authorization"].removeprefix("Bearer ").encode()).hexdigest()
    session.execute(update(ApiToken).where(ApiToken.token_hash == digest)
                    .values(revoked_at=dt.datetime.now(dt.UTC)))
    session.commit()
    problem(await http.get("/api/v1/me", headers=other), 401)


async def test_sign_in_is_audited(http, session, new_audit) -> None:  # noqa: ANN001
    user_id = session.scalar(select(User.id).where(User.username == "super1"))
    await http.post("/api/v1/auth/login", json={"username": "super1", "password": "super1"})
    assert [(r.action, r.entity, r.entity_id) for r in new_audit(user_id=user_id)] == [("login", "user", user_id)]
