"""The API's reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), whole from this
server (issue 17 item 8). FastAPI's own pages load their JavaScript and CSS from a CDN, which
a bank's network blocks: here they come from the files the ``fastapi-offline`` package ships
(the released ``swagger-ui-bundle.js``, ``swagger-ui.css`` and ``redoc.standalone.js``; a
dependency of the ``server`` extra, so an upgrade of it is a ``pip`` away), under ``/docs-assets``.
Nothing else leaves the server either: no Google fonts for ReDoc, our favicon, and Swagger
UI's validator badge (which asks validator.swagger.io about the schema) off."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
"""Where the pages' JavaScript, CSS and favicon are served."""

SWAGGER_PARAMETERS = {"validatorUrl": None}
"""Swagger UI's settings beside FastAPI's defaults: no validator badge (an outside request)."""


def assets_dir() -> Path:
    """The released Swagger UI and ReDoc files, as the installed ``fastapi-offline`` ships them."""
    return Path(str(files("fastapi_offline") / "static"))


def install(app: FastAPI, *, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """``docs_url`` and ``redoc_url`` on ``app`` (made with ``docs_url=None, redoc_url=None``),
    with their assets from ``assets_dir()``."""
    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    def _root(request: Request) -> str:
        return str(request.scope.get("root_path") or "")  # behind a proxy that mounts the API under a prefix

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png", swagger_ui_parameters=SWAGGER_PARAMETERS)

    @app.get(redoc_url, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS}/redoc.standalone.js", redoc_favicon_url=f"{root}{ASSETS}/favicon.png",
            with_google_fonts=False)
