"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import text

from backend.api import errors, redact
from backend.api.deps import SessionDep
from backend.api.routes import router
from backend.db import Database
from backend_client.models import Health
from config.settings import BackendSettings

VERSION = "0.1.0"
MAX_BODY_BYTES = 1 << 20
"""No request of this API needs more than a megabyte; larger bodies are refused 413."""


def create_app(settings: BackendSettings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or BackendSettings()
    db = db or Database(settings.db)
    redact.install()
    app = FastAPI(title="collectdesk", version=VERSION, openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.add_middleware(errors.BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.state.settings = settings
    app.state.db = db
    errors.install(app)
    app.include_router(router)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz(session: SessionDep) -> Health:
        session.execute(text("SELECT 1"))
        return Health(database=db.dialect, version=VERSION)

    return app
