"""The API's reference pages work with no network but the server's (issue 17 item 8): ``/docs``
(Swagger UI) and ``/redoc`` (ReDoc) load their JavaScript, CSS and favicon from this server,
never a CDN that a bank's network blocks.

Two tests: the pages' HTML names no URL outside the server; and headless Chromium, with every
host but the loopback unresolvable and every request that is not to the loopback sent to a proxy
that is not there, opens each page of a real ``collectdesk serve`` and renders the route list
(Swagger UI's operation blocks, ReDoc's operation sections), read from the DOM after a budget of
virtual time. FastAPI's own pages (assets on a CDN) rendered nothing that way.

Chromium is Debian's (``/usr/bin/chromium``); without it the browser test is skipped, unless
``COLLECTDESK_REQUIRE_BROWSER=1`` (CI): then it fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import httpx
import pytest

from backend.api.docs import ASSETS
from collectdesk.embedded import free_port
from tests.cli.cli_helpers import child_env, wait_healthy
from tests.desk.test_training_web import CHROMIUM, _need, chromium_args

PAGES = ("/docs", "/redoc")
URL_ATTRIBUTE = re.compile(r"""\b(?:src|href|url|spec-url)\s*[=:]\s*["']([^"']*)["']""", re.IGNORECASE)


@pytest.mark.parametrize("page", PAGES)
async def test_the_docs_pages_name_nothing_outside_the_server(http: httpx.AsyncClient, page: str) -> None:
    response = await http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert not re.search(r"(?i)\b(?:https?:)?//", html.replace("<!--", "").replace("-->", "")), \
        "the page names a URL of another host (or a protocol-relative one)"
    referenced = URL_ATTRIBUTE.findall(html)
    assert referenced, "no asset found in the page"
    for url in referenced:
        assert url.startswith("/"), url
        if url.startswith(ASSETS):
            asset = await http.get(url)
            assert asset.status_code == 200, url
            assert len(asset.content) > 1000, url
    if page == "/docs":
        assert f"{ASSETS}/swagger-ui-bundle.js" in referenced and f"{ASSETS}/swagger-ui.css" in referenced
        assert '"validatorUrl": null' in html  # no badge asking validator.swagger.io about our schema
    else:
        assert f"{ASSETS}/redoc.standalone.js" in referenced
        assert "fonts.googleapis" not in html


async def test_the_assets_have_their_types_and_stay_in_their_directory(http: httpx.AsyncClient) -> None:
    types = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
             "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
    for name, kind in types.items():
        response = await http.get(f"{ASSETS}/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind), name
    assert (await http.get(f"{ASSETS}/../app.py")).status_code == 404
    assert (await http.get(f"{ASSETS}/nothing.js")).status_code == 404
    schema = (await http.get("/openapi.json")).json()
    assert not [p for p in schema["paths"] if p in PAGES or p.startswith(ASSETS)]  # not operations of the API


# --------------------------------------------------------------------------
# In a browser with no network beyond the loopback


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``collectdesk serve`` on a loopback port, on a SQLite file of its own."""
    _need(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--db", url, "--port", str(port),
                             "--migrate", "--log-level", "warning"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_env())
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, timeout=60, proc=proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def rendered_offline(url: str, budget_ms: int = 20_000) -> str:
    """The page's DOM once Chromium has run it for ``budget_ms`` of virtual time, with no
    network beyond the loopback: every other host name unresolvable, and every request not
    to the loopback sent to a proxy that is not there (an address written as an IP too)."""
    profile = tempfile.mkdtemp(prefix="collectdesk-chromium-")
    try:
        done = subprocess.run(
            chromium_args(profile, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                          f"--proxy-server=127.0.0.1:{free_port()}", f"--virtual-time-budget={budget_ms}",
                          "--window-size=1280,800", "--dump-dom", url),
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _operations(base: str) -> list[tuple[str, str]]:
    schema = httpx.get(f"{base}/openapi.json", timeout=10).json()
    return [(method, path) for path, item in schema["paths"].items() for method in item
            if method in ("get", "post", "put", "patch", "delete")]


def test_swagger_ui_renders_the_route_list_with_the_network_off(served: str) -> None:
    dom = rendered_offline(f"{served}/docs")
    # Swagger UI's rendered operation blocks: one per operation, each with its method and path.
    rendered = set(re.findall(r'<div class="opblock opblock-(\w+)[^"]*" id="[^"]*">.*?'
                              r'<span class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert ("get", "/api/v1/worklist") in rendered, dom[:2000]
    assert set(_operations(served)) <= rendered


def test_redoc_renders_the_route_list_with_the_network_off(served: str) -> None:
    dom = rendered_offline(f"{served}/redoc")
    sections = set(re.findall(r'data-section-id="operation/([^"]+)"', dom))
    schema = httpx.get(f"{served}/openapi.json", timeout=10).json()
    ids = {op["operationId"] for item in schema["paths"].values() for op in item.values() if "operationId" in op}
    assert ids and ids <= sections, sorted(ids - sections)[:5]
    assert re.search(r'<span type="get" class="[^"]*http-verb get">get</span><span class="[^"]*">/api/v1/worklist</span>',
                     dom)
