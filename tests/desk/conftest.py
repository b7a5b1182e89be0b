"""Fixtures for driving the desk with Pilot against the real backend, in-process.

Both clocks are frozen at the same instant: the desk's by injection, the
backend's by replacing ``utcnow`` where its modules imported it. So call
windows, "now" and every time shown on screen are the same on every run and
every database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from rich.console import Console
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from textual.notifications import Notification, Notifications

from backend.app import create_app
from backend.db import Database
from backend_client.client import BackendClient
from config.settings import BackendSettings, DeskSettings
from tests.conftest import on_test_session

NOW = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
"""Wednesday 11 March 2026, 15:00 UTC: 11:00 in New York (calling hours), 23:00 in Shanghai (not)."""
AGENT_TZ = ZoneInfo("America/Chicago")
SERVER = "http://backend"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """The backend's clock stands still at ``NOW``."""
    import backend.models

    original = backend.models.utcnow

    def fixed() -> dt.datetime:
        return NOW

    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", fixed)
    return NOW


class BackendClock:
    """The backend's clock, standing at ``NOW`` until the test moves it on (``later(minutes=31)``)."""

    def __init__(self) -> None:
        self.now = NOW

    def later(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def backend_clock(frozen: dt.datetime, monkeypatch: pytest.MonkeyPatch) -> BackendClock:
    """``frozen``, but the test may move the backend's clock on (the desk's stays at ``NOW``)."""
    from collectdesk.cli.sandbox import install_sandbox_clock

    clock = BackendClock()
    install_sandbox_clock(lambda: clock.now, setattr=monkeypatch.setattr)  # where ``frozen`` put its clock
    return clock


@pytest.fixture
def app(engine: Engine, db_url: str, session: Session, frozen: dt.datetime):  # noqa: ANN201
    """The backend, each request ending as in production: what it did not commit is rolled back."""
    app = create_app(BackendSettings(db=db_url), Database(db_url, engine=engine))
    return on_test_session(app, session)


class OneAtATime:
    """The in-process backend shares one database session, so it must serve one
    request at a time, each to its end. The desk cancels requests it no longer
    needs (a closed screen, a newer search); here the request still runs to its
    end, as it would in a server, while the desk stops waiting for it."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app
        self.lock = asyncio.Lock()

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        async def whole() -> None:
            async with self.lock:
                await self.app(scope, receive, send)

        await asyncio.shield(asyncio.ensure_future(whole()))


@pytest.fixture
def transport(app) -> httpx.ASGITransport:  # noqa: ANN001
    return httpx.ASGITransport(app=OneAtATime(app))


class Switch(httpx.AsyncBaseTransport):
    """A transport that can be cut like a network cable (``down``), or can lose
    the answer after the backend has acted (``lose_answers``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.lose_answers = 0
        self.requests: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.requests.append((request.method, request.url.path))
        response = await self.inner.handle_async_request(request)
        if self.lose_answers:
            self.lose_answers -= 1
            await response.aread()
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response


@pytest.fixture
def switch(transport: httpx.ASGITransport) -> Switch:
    return Switch(transport)


@pytest.fixture
def drafts(tmp_path: Path) -> Path:
    return tmp_path / "drafts"


@pytest.fixture
def make_desk(switch: Switch, drafts: Path) -> Callable:
    """``desk = make_desk(username="agent1")``: the app, signing in by itself when given a user.

    ``at`` stops the desk's clock at another instant than ``NOW`` (the backend's stays at
    ``NOW``: the desk asks its verdicts ``at`` its own clock); ``agent_tz`` seats the agent
    in another zone than Chicago."""
    from tui.app import CollectDesk

    def _make(username: str | None = "agent1", *, lang: str | None = "en", low_bandwidth: bool = False,
              keymap: dict[str, str] | None = None, drafts_dir: Path | None = None,
              transport: httpx.AsyncBaseTransport | None = None, at: dt.datetime = NOW,
              agent_tz: dt.tzinfo = AGENT_TZ) -> CollectDesk:
        settings = DeskSettings(server=SERVER, lang=lang, low_bandwidth=low_bandwidth, keymap=keymap or {},
                                drafts_dir=drafts_dir or drafts, timeout_s=5.0)
        client = BackendClient(SERVER, transport=transport or switch, timeout=5.0)
        desk = CollectDesk(settings, client, username=username, password=username, clock=lambda: at,
                           agent_tz=agent_tz)
        desk._notifications = Raised()
        return desk

    return _make


class Raised(Notifications):
    """The app's notifications, each also kept in ``raised`` until ``clear_notifications``.

    A toast lives five seconds of wall time: on a loaded CI machine a test's first
    ``settle`` can take longer than that, and the toast is gone before it is read. The
    screen still drops expired toasts as ever (snapshots unchanged); tests read
    ``notices(app)``, what was said, however long ago."""

    def __init__(self) -> None:
        super().__init__()
        self.raised: list[Notification] = []

    def add(self, notification: Notification) -> Raised:
        self.raised.append(notification)
        return super().add(notification)  # type: ignore[return-value]

    def clear(self) -> Raised:
        self.raised.clear()
        return super().clear()  # type: ignore[return-value]


def notices(app) -> list[Notification]:  # noqa: ANN001
    """Every notification the desk raised since it started (or its last
    ``clear_notifications``), expired or not."""
    return list(app._notifications.raised)


def screen_text(app) -> str:  # noqa: ANN001
    """What the terminal shows, as plain text (one line per row)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True,
                      legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def burst(app, *keys: str) -> None:  # noqa: ANN001
    """Send keys as one burst, the way they arrive in one packet over a slow SSH
    link: all queued at once, none waiting for the app to catch up (Pilot's
    ``press`` waits for the app after every key)."""
    import unicodedata

    from textual import events
    from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

    for key in keys:
        if len(key) == 1 and not key.isalnum():
            key = _character_to_key(key)
        original = REPLACED_KEYS.get(key, key)
        try:
            char = unicodedata.lookup(_get_unicode_name_from_key(original))
        except KeyError:
            char = key if len(key) == 1 else None
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


async def settle(pilot) -> None:  # noqa: ANN001
    """Let every worker finish (or be cancelled, as a screen's are when it closes)
    and the screen catch up."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()
    while any(w.is_running for w in pilot.app.workers):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass
        await pilot.pause()


@pytest.fixture
def accounts(make_account) -> Callable:  # noqa: ANN001
    """The standard small portfolio for agent1 (team A): three accounts in a known
    priority order, one in Shanghai (outside calling hours at ``NOW``)."""

    def _make() -> list:
        a = make_account(account_ref="A-0001", customer_name="Alice Moreno", dpd=95, overdue="950.00",
                         balance="4200.00", phones=["+12125550101"])
        b = make_account(account_ref="A-0002", customer_name="Bob Okafor", dpd=65, overdue="410.00",
                         balance="2300.00", phones=["+12125550102", "+13125550199"])
        c = make_account(account_ref="A-0003", customer_name="王小明", dpd=35, overdue="2600.00", balance="18000.00",
                         currency="CNY", country="CN", region=None, timezone="Asia/Shanghai",
                         phones=["+8613812345678"], address="上海市浦东新区世纪大道100号", email="wang@example.cn")
        return [a, b, c]

    return _make


@pytest.fixture
def referrals(make_account, session):  # noqa: ANN001, ANN201
    """Two of agent1's accounts 120 days past due with Chinese names, worked as the
    demo seed works them: the first ready for a legal referral (six attempts, a
    demand letter 20 days old), the second not (three attempts, no letter)."""
    from backend.seed import seed_legal_demo

    def _make() -> list:
        chinese = {"currency": "CNY", "country": "CN", "region": None, "timezone": "Asia/Shanghai",
                   "phones": ["+8613812345678"], "address": "上海市浦东新区世纪大道100号", "email": "w@example.cn",
                   "dpd": 120, "overdue": "2600.00", "balance": "18000.00"}
        ready = make_account(account_ref="L-0001", customer_name="王小明", **chinese)
        lacking = make_account(account_ref="L-0002", customer_name="李娜", **chinese)
        assert seed_legal_demo(session, "L-", NOW, ready=1, lacking=1) == 2
        session.commit()
        return [ready, lacking]

    return _make
