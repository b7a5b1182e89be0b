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
from backend_client.models import text_problem
from config.settings import BackendSettings


def refuse_hostile_url(request: Request) -> None:
    """Every query parameter (its name and each of its values, whether the route
    knows it or not) and every path string is one line of text (SPEC §5): a control
    character, a line break or a lone surrogate is refused 422 naming the parameter,
    before anything else is looked at. The app runs this for every route; the body's
    fields are the wire models' to check (``backend_client.models.Line``)."""
    errors: list[tuple[str, str]] = []
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        problem = text_problem(name) or text_problem(str(value))
        # A name that is itself hostile is named escaped (``a\\x00b``), never echoed raw.
        field = (name if text_problem(name) is None else name.encode("unicode_escape").decode("ascii")) or "query"
        if problem and not any(f == field for f, _ in errors):
            errors.append((field, problem))
    if errors:
        raise ProblemError(422, "Invalid request", "; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


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
