"""Logging in, and who the user is."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, StringConstraints

from backend_client.models.scalars import ONE_LINE, ShortText, Wire
from backend_client.vocabulary import Role

# --------------------------------------------------------------------------
# Auth and users


class LoginRequest(Wire):
    username: ShortText
    password: Annotated[str, StringConstraints(max_length=1024), ONE_LINE]


class UserOut(Wire):
    id: int
    username: str
    display_name: str
    role: Role
    team: str | None = None


class TokenResponse(Wire):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: AwareDatetime
    user: UserOut
