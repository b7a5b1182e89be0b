"""``Annotated`` dependencies: ``SessionDep``, ``CurrentUser``, ``SettingsDep``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from backend.api.errors import ProblemError
from backend.models import User
from backend.services.users import user_for_token
from config.settings import BackendSettings


def get_session(request: Request) -> Iterator[Session]:
    yield from request.app.state.db.session()


def get_settings(request: Request) -> BackendSettings:
    return request.app.state.settings


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[BackendSettings, Depends(get_settings)]

_bearer = HTTPBearer(auto_error=False)


def get_current_user(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> User:
    unauthorized = ProblemError(
        401, "Not authenticated", "A valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
    )
    if credentials is None or credentials.scheme.lower() != "bearer" or len(credentials.credentials) > 512:
        raise unauthorized
    user = user_for_token(session, credentials.credentials)
    if user is None:
        raise unauthorized
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: str):  # noqa: ANN201
    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise ProblemError(403, "Forbidden", f"This needs the role {' or '.join(roles)}")
        return user

    return Depends(check)
