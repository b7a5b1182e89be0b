"""The service's own answers: problems (RFC 9457), the shape of every error, and
the health check's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from backend_client.models.scalars import Wire

# --------------------------------------------------------------------------
# Problems (RFC 9457)


class FieldError(Wire):
    field: str
    message: str


class Problem(BaseModel):
    """An error answer. ``rule`` names a compliance rule, ``errors`` the fields at fault."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    rule: str | None = None
    errors: list[FieldError] | None = None


# --------------------------------------------------------------------------
# Health (GET /healthz)


class Health(Wire):
    status: Literal["ok"] = "ok"
    database: str
    version: str
    config: str | None = None
    """The digest of the configuration (policies, strategies, authority) the answering worker
    serves: the same in every worker and host once a reload has reached them."""
