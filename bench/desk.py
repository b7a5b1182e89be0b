"""The desk beside a bare Textual app: start-up, memory, bytes to the terminal, in a
real pty at 80×24 and over ``ssh -C``, and what an idle desk sends and asks.

    python bench/desk.py [--accounts 2000] [--runs 3] [--idle 65] [--no-ssh]

Seeds a scratch SQLite database, starts ``collectdesk serve`` on a free loopback
port (its access log counts the desk's requests), then runs, in the same run and
the same environment (TERM=xterm, 16 colours, no animation, no mouse tracking):

* the desk, signed in as agent1 in low-bandwidth mode, until its worklist shows;
* the anchor, ``bench/bare_app.py``: a bare Textual app showing a 50-row
  ``DataTable`` with the worklist's columns (``--low-bandwidth``: the same theme,
  colours and mouse setting as the desk).

For each it measures, in a pseudo-terminal at 80×24: start-up (from exec until
the first row is on the screen), resident memory then (VmRSS, VmHWM), bytes
written for the first screen, per cursor move (mean of ten ``down``), per screen
change (mean of ``enter``, which opens the account / pushes a screen, and
``escape`` back). Then the same bytes over ``ssh -C -tt`` to an unprivileged
``sshd`` on loopback (a throw-away host key and authorized key), counted on the
wire by a TCP relay between ssh and sshd; the ssh session's own set-up (key
exchange and authentication, measured with ``true``) is given apart and not
counted in the first screen. ``--idle`` seconds with both apps left alone: bytes
written to the terminal (and in how many bursts) and the requests the desk made.

Prints desk, bare and desk/bare for each figure, median of ``--runs``.
"""

from __future__ import annotations

import argparse
import os
import pty
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectdesk.embedded import free_port  # noqa: E402

DESK = """
import sys
from config.settings import DeskSettings
from tui.app import run_desk
sys.exit(run_desk(DeskSettings(server=sys.argv[1], drafts_dir=sys.argv[2], low_bandwidth=True, lang="en"),
                  username="agent1", password="agent1"))
"""
TRACED = """
import sys, threading, time, tracemalloc
tracemalloc.start(1)
from config.settings import DeskSettings
from tui.app import run_desk

def dump():
    time.sleep(float(sys.argv[4]))
    stats = tracemalloc.take_snapshot().statistics("filename")
    by = {}
    for stat in stats:
        name = stat.traceback[0].filename
        if "site-packages/" in name:
            name = name.split("site-packages/")[1].split("/")[0]
        elif "/python3" in name and "/lib/" in name:
            name = "stdlib:" + name.rsplit("/", 1)[1]
        else:
            name = name.split(sys.argv[5])[-1].lstrip("/").split("/")[0]
        by[name] = by.get(name, 0) + stat.size
    with open(sys.argv[3], "w") as out:
        out.write(f"total {sum(by.values()) / 1024:.0f} KiB traced at the worklist\\n")
        for name, size in sorted(by.items(), key=lambda kv: -kv[1])[:15]:
            out.write(f"  {name}: {size / 1024:.0f} KiB\\n")

threading.Thread(target=dump, daemon=True).start()
sys.exit(run_desk(DeskSettings(server=sys.argv[1], drafts_dir=sys.argv[2], low_bandwidth=True, lang="en"),
                  username="agent1", password="agent1"))
"""
ENV = {"TERM": "xterm", "TEXTUAL_COLOR_SYSTEM": "standard", "COLUMNS": "80", "LINES": "24",
       "TEXTUAL_ANIMATIONS": "none", "LANG": "C.UTF-8"}
DOWN, ENTER, ESCAPE, QUIT = b"\x1b[B", b"\r", b"\x1b", b"\x11"
MOVES = 10


@dataclass
class Subject:
    name: str
    argv: list[str]
    needle: bytes
    """Bytes that are on the screen once the first screen is (the first row's reference)."""
    settle: float = 0.4
    """How long the app must write nothing for a step to count as done."""
    painted: bytes = b""
    """Bytes on the app's own first screen (the desk's sign-in), when it is not the first row's screen."""


# -- reading a terminal ---------------------------------------------------------


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


def _chunks(fd: int, quiet: float, timeout: float, poll: float = 0.02) -> Iterator[tuple[float, bytes]]:
    """What the app writes, chunk by chunk with the instant it was read, until it has written
    nothing for ``quiet`` seconds (or ``timeout`` has passed, or the pty closed)."""
    end = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < end and time.monotonic() - last < quiet:
        ready, _, _ = select.select([fd], [], [], poll)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            last = time.monotonic()
            yield last, chunk


def _drain(fd: int, quiet: float = 0.4, timeout: float = 8.0) -> bytes:
    """Read until the app has written nothing for ``quiet`` seconds."""
    return b"".join(chunk for _at, chunk in _chunks(fd, quiet, timeout))


def _rss(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    kb = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
    return kb("VmRSS"), kb("VmHWM")


def _spawn(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """``argv`` in a new pseudo-terminal of 80×24; returns (pid, master fd)."""
    import fcntl
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def _stop(pid: int, fd: int) -> None:
    try:
        os.write(fd, QUIT)
    except OSError:
        pass
    _drain(fd, quiet=0.5, timeout=5)
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)


def _env() -> dict[str, str]:
    env = dict(os.environ, **ENV)
    env.pop("TEXTUAL", None)
    return env


def _steps(fd: int, subject: Subject, wire: Callable[[], int] | None = None) -> dict[str, float]:
    """Ten cursor moves and two screen changes: the bytes read from the pty, or, given
    ``wire()`` (bytes on the wire so far), the bytes on the wire."""
    def step(key: bytes, quiet: float) -> int:
        before = wire() if wire else 0
        got = len(_steady(fd, key, quiet))
        return wire() - before if wire else got

    moves = sum(step(DOWN, 0.3) for _ in range(MOVES))
    changes = step(ENTER, subject.settle + 0.4) + step(ESCAPE, subject.settle + 0.4)
    return {"move_bytes": moves / MOVES, "change_bytes": changes / 2}


def _steady(fd: int, key: bytes, quiet: float) -> bytes:
    os.write(fd, key)
    return _drain(fd, quiet=quiet)


def run_pty(subject: Subject) -> dict[str, float]:
    pid, fd = _spawn(subject.argv, _env())
    t0 = time.perf_counter()
    first, found = _read_until(fd, subject.painted or subject.needle, 30)
    painted = time.perf_counter() - t0
    if found and subject.painted and subject.needle not in first:
        more, found = _read_until(fd, subject.needle, 30)
        first += more
    startup = time.perf_counter() - t0
    if not found:
        os.kill(pid, signal.SIGKILL)
        raise SystemExit(f"{subject.name} never showed {subject.needle!r}; it wrote:\n{first[-2000:]!r}")
    first += _drain(fd, quiet=subject.settle)
    rss, hwm = _rss(pid)
    steps = _steps(fd, subject)
    _stop(pid, fd)
    return {"painted_s": painted, "startup_s": startup, "rss_mb": rss / 1024, "hwm_mb": hwm / 1024,
            "first_bytes": len(first), **steps}


def idle_both(subjects: list[Subject], seconds: float, access_log: Path) -> dict[str, dict[str, float]]:
    """Every subject started and left alone on its first screen for ``seconds``: the
    bytes each wrote (and in how many bursts), and the requests the backend served."""
    running = []
    for subject in subjects:
        pid, fd = _spawn(subject.argv, _env())
        out, found = _read_until(fd, subject.needle, 30)
        if not found:
            os.kill(pid, signal.SIGKILL)
            raise SystemExit(f"{subject.name} never showed {subject.needle!r}")
        _drain(fd, quiet=1.0)
        running.append((subject, pid, fd))
    time.sleep(1.0)
    for _, _, fd in running:
        _drain(fd, quiet=0.2, timeout=1)
    requests_before = _requests(access_log)
    got = {s.name: 0 for s, _, _ in running}
    bursts = {s.name: 0 for s, _, _ in running}
    last = {s.name: 0.0 for s, _, _ in running}
    by_fd = {fd: s.name for s, _, fd in running}
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select(list(by_fd), [], [], min(left, 0.5))
        for fd in ready:
            name = by_fd[fd]
            data = os.read(fd, 65536)
            now = time.monotonic()
            if now - last[name] > 0.2:
                bursts[name] += 1
            last[name] = now
            got[name] += len(data)
    requests = _requests(access_log) - requests_before
    for _, pid, fd in running:
        _stop(pid, fd)
    return {name: {"idle_bytes": got[name], "idle_bursts": bursts[name],
                   "idle_requests": requests if name == "desk" else 0} for name in got}


def _requests(access_log: Path) -> int:
    """Requests the backend has served (uvicorn's access log: one line each)."""
    return sum(1 for line in access_log.read_text(errors="replace").splitlines() if '" ' in line and "HTTP/" in line)


def _rows(out: bytes) -> dict[int, tuple[int, int]]:
    """Screen row (1 = top) → (bytes written to it, times it was painted) in ``out``."""
    import re

    moves = list(re.finditer(rb"\x1b\[(\d+);(\d+)H", out))
    rows: dict[int, tuple[int, int]] = {}
    for here, after in zip(moves, [*moves[1:], None], strict=False):
        end = after.start() if after else len(out)
        row = int(here.group(1))
        size, times = rows.get(row, (0, 0))
        rows[row] = (size + end - here.start(), times + 1)
    return rows


def _frames(fd: int, key: bytes, quiet: float, gap: float = 0.008) -> list[bytes]:
    """Press ``key`` and read until the app has written nothing for ``quiet`` seconds: what it
    wrote, in frames (writes less than ``gap`` seconds apart are one frame)."""
    os.write(fd, key)
    frames: list[bytes] = []
    last = 0.0
    for at, chunk in _chunks(fd, quiet, timeout=30.0, poll=0.002):
        if frames and at - last < gap:
            frames[-1] += chunk
        else:
            frames.append(chunk)
        last = at
    return frames


def byte_log(subject: Subject) -> str:
    """What one cursor move and one screen change (``enter``, then ``escape``) write: in
    frames (writes close together), each frame's size and the screen rows it paints
    (row: bytes, 1 = top)."""
    pid, fd = _spawn(subject.argv, _env())
    _read_until(fd, subject.needle, 30)
    _drain(fd, quiet=1.0)
    steps = [("one cursor move", _frames(fd, DOWN, 0.5))]
    _drain(fd, quiet=1.0)
    steps.append(("enter", _frames(fd, ENTER, 1.0)))
    steps.append(("escape", _frames(fd, ESCAPE, 1.0)))
    _stop(pid, fd)
    lines = []
    for what, frames in steps:
        lines.append(f"{subject.name}: {what} wrote {sum(map(len, frames)):,} B in {len(frames)} frame(s)")
        for frame in frames:
            rows = _rows(frame)
            lines.append(f"  {len(frame):,} B, {len(rows)} rows: "
                         + ", ".join(f"{row}: {n}" for row, (n, _times) in sorted(rows.items())))
    return "\n".join(lines)


# -- ssh -C ---------------------------------------------------------------------


class Relay:
    """A TCP relay on loopback that counts the bytes each way (``down``: server to client)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.down = 0
        self.up = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(server, client, "down"), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, "up"), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, way: str) -> None:
        try:
            while data := src.recv(65536):
                setattr(self, way, getattr(self, way) + len(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


class Sshd:
    """An sshd of the current user on loopback, with a throw-away host key and client key."""

    BINARY = "/usr/sbin/sshd"

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = free_port()
        user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        self.user = user
        for name in ("host", "client"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / name)], check=True)
        shutil.copy(directory / "client.pub", directory / "authorized_keys")
        os.chmod(directory / "authorized_keys", 0o600)
        (directory / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host'}\n"
            f"PidFile {directory / 'sshd.pid'}\nAuthorizedKeysFile {directory / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nCompression yes\nLogLevel ERROR\nPrintMotd no\n")
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # its privilege-separation directory
        self.proc = subprocess.Popen([self.BINARY, "-D", "-e", "-f", str(directory / "sshd_config")],
                                     stdout=subprocess.DEVNULL, stderr=open(directory / "sshd.log", "wb"))  # noqa: SIM115
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"sshd did not start: {(directory / 'sshd.log').read_text()}")
        self.relay = Relay(self.port)

    def argv(self, remote: list[str]) -> list[str]:
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in ENV.items())
        command = f"cd {shlex.quote(str(ROOT))} && exec env {env} {shlex.join(remote)}"
        return [shutil.which("ssh") or "/usr/bin/ssh", "-C", "-tt", "-F", "/dev/null", "-p", str(self.relay.port),
                "-i", str(self.dir / "client"), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                f"{self.user}@127.0.0.1", command]

    def stop(self) -> None:
        self.relay.close()
        self.proc.terminate()
        self.proc.wait(10)


def ssh_setup_bytes(sshd: Sshd) -> int:
    """Bytes from server to client for a session that runs ``true``: key exchange and authentication."""
    before = sshd.relay.down
    pid, fd = _spawn(sshd.argv(["true"]), _env())
    _drain(fd, quiet=1.0, timeout=10)
    os.waitpid(pid, 0)
    os.close(fd)
    time.sleep(0.3)
    return sshd.relay.down - before


def run_ssh(sshd: Sshd, subject: Subject, setup: int) -> dict[str, float]:
    remote = Subject(subject.name, sshd.argv(subject.argv), subject.needle, subject.settle + 0.2)
    relay = sshd.relay
    before = relay.down
    pid, fd = _spawn(remote.argv, _env())
    first, found = _read_until(fd, subject.needle, 40)
    if not found:
        os.kill(pid, signal.SIGKILL)
        raise SystemExit(f"{subject.name} over ssh never showed {subject.needle!r}; it wrote:\n{first[-2000:]!r}")
    _drain(fd, quiet=remote.settle)
    time.sleep(0.1)
    first_bytes = relay.down - before - setup
    steps = _steps(fd, remote, lambda: relay.down)
    up_before = relay.up
    os.write(fd, DOWN)
    _drain(fd, quiet=0.3)
    up = relay.up - up_before
    _stop(pid, fd)
    return {"ssh_first_bytes": first_bytes, "ssh_move_bytes": steps["move_bytes"],
            "ssh_change_bytes": steps["change_bytes"], "ssh_key_up_bytes": up}


# -- the run --------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    goal: str = ""
    fmt: str = "{:.0f}"
    values: dict[str, list[float]] = field(default_factory=dict)


FIGURES = [
    Figure("painted_s", "launch until its first screen (desk: sign-in)", "s", "", "{:.2f}"),
    Figure("startup_s", "start-up until the first row is shown", "s", "≤ 0.5 s, ≤ 1.3× bare", "{:.2f}"),
    Figure("rss_mb", "resident memory then (VmRSS)", "MB", "≤ 45 MB", "{:.1f}"),
    Figure("hwm_mb", "peak resident memory (VmHWM)", "MB", "", "{:.1f}"),
    Figure("first_bytes", "pty: first screen", "B"),
    Figure("move_bytes", "pty: per cursor move (mean of 10)", "B", "≤ bare"),
    Figure("change_bytes", "pty: per screen change (enter, escape)", "B", "≤ bare"),
    Figure("ssh_first_bytes", "ssh -C: first screen (beyond set-up)", "B", "≤ 5 KB"),
    Figure("ssh_move_bytes", "ssh -C: per cursor move (mean of 10)", "B", "≤ 100 B (10 moves ≤ 1 KB), ≤ bare"),
    Figure("ssh_change_bytes", "ssh -C: per screen change (enter, escape)", "B", "≤ bare"),
    Figure("idle_bytes", "idle: bytes written", "B", "clock's tick only"),
    Figure("idle_bursts", "idle: bursts of writing", "", "≤ 1 a minute"),
    Figure("idle_requests", "idle: requests to the backend", "", "≤ 1 a minute"),
]


def _seeded_backend(tmp: str, accounts: int) -> tuple[subprocess.Popen[bytes], str, Path]:
    db = f"sqlite:///{tmp}/bench.db"
    cli = [sys.executable, "-m", "collectdesk"]
    subprocess.run([*cli, "db", "upgrade", "--db", db], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*cli, "seed", "--accounts", str(accounts), "--seed", "1", "--db", db], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    log = Path(tmp) / "access.log"
    server = subprocess.Popen([*cli, "serve", "--db", db, "--port", str(port)], stdout=open(log, "wb"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}", log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=65.0, help="seconds left idle (0: not measured)")
    parser.add_argument("--no-ssh", action="store_true", help="skip the bytes over ssh -C")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="only say which packages hold the desk's Python memory at the worklist")
    parser.add_argument("--byte-log", action="store_true",
                        help="only say which rows one cursor move repaints, desk and bare")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        server, url, access_log = _seeded_backend(tmp, args.accounts)
        sshd = None
        try:
            import httpx

            for _ in range(400):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            sign_ins = []
            for _ in range(3):  # what signing in costs on its own (argon2id on the backend)
                t0 = time.perf_counter()
                token = httpx.post(f"{url}/api/v1/auth/login", timeout=60,
                                   json={"username": "agent1", "password": "agent1"}).json()
                sign_ins.append(time.perf_counter() - t0)
            page = httpx.get(f"{url}/api/v1/worklist", params={"limit": 1}, timeout=60,
                             headers={"Authorization": f"Bearer {token['access_token']}"}).json()
            desk = Subject("desk", [sys.executable, "-c", DESK, url, f"{tmp}/drafts"],
                           page["items"][0]["account_ref"].encode(), settle=0.5, painted=b"collectdesk")
            bare = Subject("bare", [sys.executable, str(ROOT / "bench" / "bare_app.py"), "--low-bandwidth"],
                           b"BENCH-00001")
            subjects = [desk, bare]
            if args.tracemalloc:
                report = Path(tmp) / "tracemalloc.txt"
                traced = Subject("desk", [sys.executable, "-c", TRACED, url, f"{tmp}/drafts", str(report), "6",
                                          str(ROOT)], desk.needle)
                pid, fd = _spawn(traced.argv, _env())
                _read_until(fd, traced.needle, 60)
                _drain(fd, quiet=8.0, timeout=12)
                _stop(pid, fd)
                print("desk: memory allocated by Python at the worklist (tracemalloc), by package")
                print(report.read_text())
                return
            if args.byte_log:
                print("\n".join(byte_log(subject) for subject in subjects))
                return
            results: dict[str, list[dict[str, float]]] = {"desk": [], "bare": []}
            ssh_note = ""
            setup = 0
            if args.no_ssh:
                ssh_note = "ssh -C: skipped (--no-ssh)"
            elif not (Path(Sshd.BINARY).exists() and shutil.which("ssh") and shutil.which("ssh-keygen")):
                ssh_note = f"ssh -C: skipped: no {Sshd.BINARY}, ssh or ssh-keygen here (apt-get install openssh-server " \
                           "openssh-client)"
            else:
                sshd = Sshd(Path(tmp))
                setup = ssh_setup_bytes(sshd)
                ssh_note = f"ssh -C: session set-up (key exchange, authentication) {setup:,} B server to client, " \
                           "not counted in the first screen"
            for _ in range(args.runs):
                for subject in subjects:  # side by side: the same minute, the same load
                    row = run_pty(subject)
                    if sshd is not None:
                        row.update(run_ssh(sshd, subject, setup))
                    results[subject.name].append(row)
            idle = idle_both(subjects, args.idle, access_log) if args.idle > 0 else None
        finally:
            if sshd is not None:
                sshd.stop()
            server.terminate()
            server.wait(10)
    load_after = os.getloadavg()

    def med(name: str, key: str) -> float | None:
        if idle is not None and key in idle[name]:
            return float(idle[name][key])
        values = [r[key] for r in results[name] if key in r]
        return statistics.median(values) if values else None

    print(f"desk (agent1, low-bandwidth, against collectdesk serve with {args.accounts:,} accounts) beside a bare "
          f"Textual app (bench/bare_app.py: a 50-row DataTable), 80x24, median of {args.runs} runs; "
          f"load average {load[0]:.2f} before, {load_after[0]:.2f} after, {os.cpu_count()} CPUs")
    print(f"{'':44} {'desk':>9} {'bare':>9} {'ratio':>6}  goal")
    for fig in FIGURES:
        d, b = med("desk", fig.key), med("bare", fig.key)
        if d is None or b is None:
            continue
        ratio = f"{d / b:.2f}" if b else ("—" if not d else "∞")
        unit = f" {fig.unit}" if fig.unit else ""
        print(f"  {fig.label:42} {fig.fmt.format(d) + unit:>9} {fig.fmt.format(b) + unit:>9} {ratio:>6}  {fig.goal}")
    if idle is not None:
        print(f"  idle window {args.idle:.0f} s (the status clock shows minutes: one tick falls in any window "
              "over 60 s)")
    print(f"  {ssh_note}")
    print(f"  of the desk's start-up, signing in alone (POST /api/v1/auth/login, argon2id on the backend): "
          f"{statistics.median(sign_ins):.2f} s")
    spread = {name: (min(r['startup_s'] for r in rows), max(r['startup_s'] for r in rows))
              for name, rows in results.items()}
    print("  start-up spread: " + ", ".join(f"{n} {lo:.2f}–{hi:.2f} s" for n, (lo, hi) in spread.items()))


if __name__ == "__main__":
    main()
