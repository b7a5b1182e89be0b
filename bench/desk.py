"""The desk's start-up, memory and bytes on the wire, in a real pty at 80×24.

    python bench/desk.py [--accounts 2000] [--runs 5]

Seeds a scratch SQLite database, starts ``collectdesk serve`` on a free
loopback port, then runs the desk (signed in as agent1, low-bandwidth mode,
TERM=xterm, 16 colours) in a pseudo-terminal and prints:

* start-up: from exec until the first worklist row is on the screen;
* resident memory (VmRSS, VmHWM) of the desk process once the worklist is shown;
* bytes the desk wrote to the pty: the first screen, one cursor move (``down``),
  one scroll (``pagedown``).
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectdesk.embedded import free_port  # noqa: E402

DESK = """
import sys
from config.settings import DeskSettings
from tui.app import run_desk
sys.exit(run_desk(DeskSettings(server=sys.argv[1], low_bandwidth=True, lang="en"), username="agent1", password="agent1"))
"""


def _read_until(fd: int, needle: bytes, timeout: float) -> tuple[bytes, bool]:
    out = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if needle in out:
                return out, True
    return out, False


def _drain(fd: int, quiet: float = 0.4, timeout: float = 5.0) -> bytes:
    """Read until the desk has written nothing for ``quiet`` seconds."""
    out = b""
    end = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < end and time.monotonic() - last < quiet:
        ready, _, _ = select.select([fd], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            last = time.monotonic()
    return out


def _rss(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


def run_once(server: str, needle: bytes) -> dict[str, float]:
    env = dict(os.environ, TERM="xterm", TEXTUAL_COLOR_SYSTEM="standard", COLUMNS="80", LINES="24",
               TEXTUAL_ANIMATIONS="none", LANG="C.UTF-8")
    env.pop("TEXTUAL", None)
    pid, fd = pty.fork()
    if pid == 0:  # the desk
        import fcntl
        import struct
        import termios

        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(sys.executable, [sys.executable, "-c", DESK, server], env)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    t0 = time.perf_counter()
    first, found = _read_until(fd, needle, 30)
    startup = time.perf_counter() - t0
    if not found:
        os.kill(pid, signal.SIGKILL)
        raise SystemExit(f"the worklist never showed {needle!r}; the desk wrote:\n{first[-2000:]!r}")
    first += _drain(fd)
    rss, hwm = _rss(pid)
    os.write(fd, b"\x1b[B")  # down
    move = _drain(fd)
    os.write(fd, b"\x1b[6~")  # page down
    scroll = _drain(fd)
    os.write(fd, b"\x11")  # ctrl+q
    _drain(fd, quiet=0.5, timeout=5)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)
    return {"startup_s": startup, "rss_mb": rss / 1024, "hwm_mb": hwm / 1024, "first_bytes": len(first),
            "move_bytes": len(move), "scroll_bytes": len(scroll)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        cli = [sys.executable, "-m", "collectdesk"]
        subprocess.run([*cli, "db", "upgrade", "--db", db], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "seed", "--accounts", str(args.accounts), "--seed", "1", "--db", db], check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        server = subprocess.Popen([*cli, "serve", "--db", db, "--port", str(port)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            import httpx

            url = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            token = httpx.post(f"{url}/api/v1/auth/login", json={"username": "agent1", "password": "agent1"}).json()
            page = httpx.get(f"{url}/api/v1/worklist", params={"limit": 1},
                             headers={"Authorization": f"Bearer {token['access_token']}"}).json()
            needle = page["items"][0]["account_ref"].encode()
            results = [run_once(url, needle) for _ in range(args.runs)]
        finally:
            server.terminate()
            server.wait(10)
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(f"desk against a running backend, {args.accounts} accounts, {args.runs} runs (median), 80x24, low-bandwidth")
    print(f"  start-up until the worklist is shown: {med['startup_s']:.2f} s "
          f"(min {min(r['startup_s'] for r in results):.2f}, max {max(r['startup_s'] for r in results):.2f})")
    print(f"  resident memory with the worklist shown: {med['rss_mb']:.1f} MB (peak {med['hwm_mb']:.1f} MB)")
    print(f"  bytes written to the pty: first screen {med['first_bytes']:.0f}, one cursor move {med['move_bytes']:.0f}, "
          f"one scroll {med['scroll_bytes']:.0f}")


if __name__ == "__main__":
    main()
