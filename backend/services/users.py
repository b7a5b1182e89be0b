"""Users, teams, log-in and tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.models import ApiToken, Team, User, utcnow
from backend.security import hash_password, new_token, token_digest, verify_password
from backend.services import audit
from backend_client.models import Role, UserOut

ROLES = {r.value for r in Role}


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id, username=user.username, display_name=user.display_name, role=Role(user.role),
        team=user.team.name if user.team else None,
    )


def get_or_create_team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def add_user(
    session: Session, username: str, password: str, role: str, team: str | None = None, display_name: str | None = None
) -> User:
    """Create a user, or update the role, team and password of an existing one."""
    if role not in ROLES:
        raise ProblemError(422, "Invalid request", f"role must be one of {', '.join(sorted(ROLES))}", errors=[("role", "unknown role")])
    if not username or len(username) > 64:
        raise ProblemError(422, "Invalid request", "user name must be 1 to 64 characters", errors=[("username", "bad length")])
    team_row = get_or_create_team(session, team) if team else None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username, role=role, password_hash=hash_password(password))
        session.add(user)
    else:
        user.role = role
        user.password_hash = hash_password(password)
        if display_name:
            user.display_name = display_name
    user.team = team_row
    session.flush()
    return user


def login(session: Session, username: str, password: str, ttl_hours: float) -> tuple[str, ApiToken]:
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise ProblemError(401, "Not authenticated", "Wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    token = new_token()
    row = ApiToken(user_id=user.id, token_hash=token_digest(token), expires_at=utcnow() + dt.timedelta(hours=ttl_hours))
    session.add(row)
    audit.record(session, user.id, "login", "user", user.id)
    session.commit()
    return token, row


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user
