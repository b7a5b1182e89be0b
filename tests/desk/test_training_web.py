"""The classroom view (issue 7, item 4): ``collectdesk train --web`` serves the
trainer desk through textual-serve on loopback, and headless Chromium shows the
scenario's dialogue.

textual-serve draws the terminal with xterm.js on a canvas, so the page has no
text in its DOM. The test reads what the terminal shows the way a screen reader
would get at it: through Chromium's DevTools protocol, it finds the page's
xterm.js ``Terminal`` among the page's objects and reads its buffer, polling
until the customer's line is there or the deadline passes.

Chromium is Debian's (``/usr/bin/chromium``). Without it the test is skipped,
unless ``COLLECTDESK_REQUIRE_BROWSER=1`` (``.ci/run`` sets it): then it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = "COLLECTDESK_REQUIRE_BROWSER"
START_S = 180.0
"""How long the served desk may take to show its first screen (it builds a sandbox first) on a busy machine."""


def _need(ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{why}, and {REQUIRE}=1 says this test must run")
    pytest.skip(why)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, deadline: float, process: subprocess.Popen) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server stopped (exit code {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def _stop_group(process: subprocess.Popen) -> None:
    """Stop a process we started in a session of its own, and what it started."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``collectdesk train job_loss --demo --web`` on a free loopback port: its URL and log."""
    _need(CHROMIUM.exists(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        _need(False, "textual-serve is not installed (pip install -e '.[web]')")
    port = _free_port()
    log = tmp_path / "web.log"
    env = dict(os.environ, PYTHONUNBUFFERED="1", TEXTUAL_ANIMATIONS="none")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "collectdesk", "train", "job_loss", "--demo", "--lang", "en", "--web",
             "--port", str(port), "--data-dir", str(tmp_path / "training")],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_for_port(port, time.monotonic() + 60, server)
        yield f"http://127.0.0.1:{port}", log
    finally:
        _stop_group(server)


class DevTools:
    """Just enough of Chromium's DevTools protocol, over aiohttp (textual-serve's own dependency)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.n = 0

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.n += 1
        mid = self.n
        await self.ws.send_json({"id": mid, "method": method, "params": params})
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == mid:
                if "error" in data:
                    raise AssertionError(f"{method}: {data['error']}")
                return data["result"]
        raise AssertionError("Chromium closed the DevTools connection")

    async def terminal_text(self) -> str | None:
        """What the page's xterm.js terminal shows, one line per row (None: no terminal yet)."""
        group = "collectdesk-test"
        proto = await self.send("Runtime.evaluate", expression="Object.prototype", objectGroup=group)
        found = await self.send("Runtime.queryObjects", prototypeObjectId=proto["result"]["objectId"],
                                objectGroup=group)
        try:
            result = await self.send("Runtime.callFunctionOn", objectId=found["objects"]["objectId"],
                                     returnByValue=True, functionDeclaration=READ_TERMINAL)
        finally:
            await self.send("Runtime.releaseObjectGroup", objectGroup=group)
        return result["result"].get("value")


READ_TERMINAL = """
function () {
  const terminal = this.find(o => {
    try { return typeof o.loadAddon === 'function' && o.buffer && o.buffer.active && o.rows > 0; }
    catch (e) { return false; }
  });
  if (!terminal) return null;
  const buffer = terminal.buffer.active, lines = [];
  for (let i = 0; i < buffer.length; i++) {
    const line = buffer.getLine(i);
    if (line) lines.push(line.translateToString(true));
  }
  return lines.join('\\n');
}
"""


def chromium_args(profile: str, *extra: str) -> list[str]:
    """Debian's Chromium as this machine needs it: headless, as root, and quiet on a closed network."""
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", f"--user-data-dir={profile}", *extra]


async def _read_until(url: str, wanted: list[str], deadline: float, screenshot: Path | None = None) -> str:
    """Open ``url`` in headless Chromium and wait until the terminal shows every ``wanted`` text
    (then, if asked, save a screenshot of the page as PNG)."""
    import aiohttp

    port = _free_port()
    profile = tempfile.mkdtemp(prefix="collectdesk-chromium-")
    browser = subprocess.Popen(
        chromium_args(profile, f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
                      "--window-size=1280,800", "about:blank"),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    text = ""
    try:
        async with aiohttp.ClientSession() as http:
            targets = None
            while targets is None:
                if time.monotonic() > deadline:
                    raise AssertionError("Chromium's DevTools did not answer")
                try:
                    async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                        targets = await response.json()
                except aiohttp.ClientError:
                    await asyncio.sleep(0.2)
            page = next(t for t in targets if t.get("type") == "page")
            async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                devtools = DevTools(ws)
                await devtools.send("Page.navigate", url=url)
                while time.monotonic() < deadline:
                    text = await devtools.terminal_text() or ""
                    if all(w in text for w in wanted):
                        if screenshot is not None:
                            import base64

                            shot = await devtools.send("Page.captureScreenshot", format="png")
                            screenshot.write_bytes(base64.b64decode(shot["data"]))
                        return text
                    await asyncio.sleep(0.5)
    finally:
        _stop_group(browser)
        shutil.rmtree(profile, ignore_errors=True)
    raise AssertionError(f"the page never showed {wanted!r}; the terminal showed:\n{text}")


def test_the_classroom_view_shows_the_scenarios_dialogue_in_chromium(classroom: tuple[str, Path]) -> None:
    """The job-loss demo in the browser: the customer's first line, then (the demo plays
    on at its pace) her answer to the agent's greeting, in the dialogue panel."""
    from tui.training.scenario import find

    url, log = classroom
    scenario = find("job_loss")
    first = scenario.nodes[scenario.start].customer
    second = scenario.nodes[scenario.nodes[scenario.start].choices[scenario.best_choice(scenario.start)].next].customer
    assert (first, second) == ("Hello?", "Speaking. Who is this?")
    try:
        text = asyncio.run(_read_until(url, ["Training · Job loss", f"Maria Lopez: {first}", f"Maria Lopez: {second}"],
                                       time.monotonic() + START_S, screenshot=log.with_name("classroom.png")))
    except AssertionError:
        print(log.read_text(errors="replace"))
        raise
    assert "Demo" in text and "╭─ Call" in text
    assert log.with_name("classroom.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Each browser session runs the trainer with a sandbox of its own, under the data dir.
    assert "--private-sandbox" in log.read_text(errors="replace")


def test_without_chromium_the_browser_test_skips_except_where_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception):
        _need(False, "no browser")
    monkeypatch.setenv(REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="must run"):
        _need(False, "no browser")
    _need(True, "a browser")
