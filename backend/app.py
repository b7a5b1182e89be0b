"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
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


log = logging.getLogger("collectdesk.backend")


def _recheck(db: Database) -> int:
    from backend.services.compliance import refresh_all_due

    with db.sessionmaker() as session:
        return refresh_all_due(session)


async def recheck_loop(db: Database, every: float) -> None:
    """Evaluate again, every ``every`` seconds, the accounts whose phone answer has
    lapsed: call windows open and close through the day in every zone, and the
    worklist's order (contactable first) must follow them."""
    while True:
        try:
            done = await run_in_threadpool(_recheck, db)
            if done:
                log.info("contactability evaluated again for %d accounts", done)
        except Exception:  # noqa: BLE001 - a failed round must not stop the loop; the next one retries
            log.exception("contactability round failed")
        await asyncio.sleep(every)


def create_app(settings: BackendSettings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or BackendSettings()
    db = db or Database(settings.db)
    redact.install()
    from backend.services import compliance

    compliance.configure(settings.policies)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(recheck_loop(db, settings.recheck_seconds)) if settings.recheck_seconds > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(title="collectdesk", version=VERSION, openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
                  lifespan=lifespan)
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
