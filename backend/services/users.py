"""Users, teams, log-in and tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.domain.errors import Invalid
from backend.models import ApiToken, Team, User, utcnow
from backend.security import hash_password, needs_rehash, token_digest, verify_password
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
    """Create a user, or update the role, team and password of an existing one (which ends
    every session they have: ``revoke_tokens``)."""
    if role not in ROLES:
        raise Invalid("Invalid request", f"role must be one of {', '.join(sorted(ROLES))}", errors=[("role", "unknown role")])
    if not username or len(username) > 64:
        raise Invalid("Invalid request", "user name must be 1 to 64 characters", errors=[("username", "bad length")])
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
        # A password set again (changed, or reset by an admin) ends every session of the user.
        revoked = revoke_tokens(session, user.id)
        audit.record(session, None, "password", "user", user.id, sessions_ended=revoked)
    user.team = team_row
    session.flush()
    return user


def login(session: Session, username: str, password: str, ttl_hours: float, *,
          address: str = "local") -> tuple[str, ApiToken]:
    """Sign in from this process (tools, tests), the password checked here and now: the same
    throttle and audit as the API's ``signin.sign_in``, which checks it in the hashing pool."""
    from backend.services import signin

    limits = signin.configured()
    attempt = signin.open_attempt(session, username, address, limits)
    ok = verify_password(attempt.password_hash, password)
    new_hash = hash_password(password) if ok and needs_rehash(attempt.password_hash) else None
    return signin.close_attempt(session, attempt, ok, limits, ttl_hours, new_hash=new_hash)


def revoke_tokens(session: Session, user_id: int, now: dt.datetime | None = None) -> int:
    """End every session of the user (their password was set again): how many tokens it revoked."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now or utcnow()))
    return result.rowcount or 0


def logout(session: Session, token: ApiToken) -> None:
    """End the session ``token`` signs (it is refused from now on)."""
    token.revoked_at = utcnow()
    audit.record(session, token.user_id, "logout", "user", token.user_id)


def token_in_use(session: Session, token: str, *, idle: dt.timedelta | None,
                 touch: dt.timedelta = dt.timedelta(minutes=1)) -> ApiToken | None:
    """The token's row if it may sign a request now: not revoked, not past its absolute
    expiry, its user active, and (``idle``) used within that long. Its last use is
    written again when older than ``touch`` (so not at every request)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token))
                         .execution_options(populate_existing=True))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user.active:
        return None
    last = row.last_used_at
    if idle is not None and last is not None and now - last >= idle:
        return None
    if last is None or now - last >= touch:
        # A token made before last uses were kept counts as used now.
        row.last_used_at = now  # committed by the caller (the token check ends its transaction)
    return row
