"""Many desks on one host: N real desk processes in ptys against one backend, measured.

    python bench/many_desks.py [--desks 100] [--idle 60] [--active 60] [--press-every 3]
                               [--accounts 2000] [--launch-concurrency 4] [--db URL]
                               [--prefork [--no-freeze]]

Seeds a scratch SQLite database with the CLI (``collectdesk db upgrade``,
``collectdesk seed``: the demo users agent1 and agent2 of team A, agent3 of
team B, password = user name; ``--db URL`` seeds and serves that database
instead, e.g. a scratch PostgreSQL one), starts ``collectdesk serve`` (one
worker, access log on) on a free loopback port, then starts ``--desks`` desks,
each in its own pseudo-terminal at 80×24 (TERM=xterm, 16 colours, low-bandwidth
mode), signed in as agent1, agent2, agent3 in turn, each with a home, XDG
directories and drafts store of its own. Every pty is read all the time (one
selector thread), as a terminal would.

It prints:

* launch: from start until the desk shows its user's top account, for the first
  ``--solo`` desks started alone and for the rest started ``--launch-concurrency``
  at a time, and the wall time to have all N up;
* memory per desk once all are up and idle: PSS (``/proc/PID/smaps_rollup``,
  proportional: a page shared by k processes counts 1/k in each) and RSS;
* CPU of all the desks (utime+stime from ``/proc/PID/stat``) and of the backend,
  and the backend's requests a second (counted in its own access log), over an
  idle window and over an active one, in which every desk gets a ``down`` key
  every ``--press-every`` seconds, the desks staggered evenly;
* how many such desks one 24 GB host holds, from the mean PSS, leaving
  ``--reserve-gb`` (4) for the OS and the backend.

``--prefork``: the desks are not exec'd one by one. One parent process (the
"zygote") imports what a desk had imported by the time its worklist was shown
(found by a probe desk started first), freezes the garbage collector
(``gc.freeze()``, so collections do not write to the shared objects; ``--no-freeze``
to compare), and forks each desk session into a new pty (``os.forkpty``: the pty
becomes the child's controlling terminal), so the imported code and objects are
shared copy-on-write. The zygote's own PSS is reported, and added to the total.
This is a bench prototype: every desk runs as the zygote's Unix user.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

USERS = ("agent1", "agent2", "agent3")
COLS, ROWS = 80, 24
DOWN = b"\x1b[B"
ENTER = b"\r"
ESCAPE = b"\x1b"
CTRL_Q = b"\x11"
CLK_TCK = os.sysconf("SC_CLK_TCK")
FIRST_FRAME = 2048
"""Bytes written by when a desk has drawn its first screen (the terminal set-up alone is ~130)."""
NEEDLE_WINDOW = 4096
"""Bytes of a desk's output kept while its needle is looked for (the needle may span reads)."""

DESK = """
import os, sys, threading
from config.settings import DeskSettings
from tui.app import run_desk
server, user, drafts = sys.argv[1:4]
dump = os.environ.get("MANY_DESKS_MODULES")
if dump:  # the probe desk: write the modules it has once told to (after its worklist was shown)
    def _dump():
        import time
        while not os.path.exists(dump + ".go"):
            time.sleep(0.05)
        with open(dump + ".tmp", "w") as out:
            out.write("\\n".join(list(sys.modules)))  # in import order: replaying it imports as the desk did
        os.replace(dump + ".tmp", dump)
    threading.Thread(target=_dump, daemon=True).start()
sys.exit(run_desk(DeskSettings(server=server, low_bandwidth=True, lang="en", drafts_dir=drafts),
                  username=user, password=user))
"""


def desk_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, TERM="xterm", TEXTUAL_COLOR_SYSTEM="standard", COLUMNS=str(COLS), LINES=str(ROWS),
               TEXTUAL_ANIMATIONS="none", LANG="C.UTF-8", PYTHONIOENCODING="utf-8", HOME=str(home),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), XDG_STATE_HOME=str(home / "state"))
    for key in ("TEXTUAL", "COLLECTDESK_SERVER", "COLLECTDESK_DRAFTS_DIR"):
        env.pop(key, None)
    return env


def set_winsize(fd: int) -> None:
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))


# -- /proc ------------------------------------------------------------------------


def backend_ticks(pid: int) -> int:
    """CPU of ``collectdesk serve``: its supervisor and its workers (``agents.descendants``)."""
    from agents import cpu_ticks as ticks_of
    from agents import descendants

    return ticks_of(descendants(pid))


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` (all its threads), in clock ticks; 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def memory_kb(pid: int) -> tuple[int, int, int]:
    """(PSS, RSS, USS) of ``pid`` in kB, from ``/proc/PID/smaps_rollup``; USS (its private
    pages, clean and dirty) is what one more such process costs."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if value.strip().endswith("kB"):
            fields[key] = int(value.split()[0])
    return fields["Pss"], fields["Rss"], fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def mem_available_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


# -- the desks ----------------------------------------------------------------------


@dataclass
class Desk:
    index: int
    user: str
    needle: bytes
    home: Path
    pid: int = 0
    fd: int = -1
    started: float = 0.0
    shown: float = 0.0
    """When the needle (the user's top account) was first on the screen; 0 while not yet."""
    framed: float = 0.0
    """When it had written its first frame (FIRST_FRAME bytes: the sign-in screen, or the worklist)."""
    written: int = 0
    offline: int = 0
    """Times it drew "Offline: retrying" (its status line: a request to the backend failed)."""
    waiting: int = 0
    """Times it drew "Waiting for the backend…" (a request took over its slow mark)."""
    last: bytes = b""
    tail: bytearray = field(default_factory=bytearray)
    shown_event: threading.Event = field(default_factory=threading.Event)

    @property
    def frame_s(self) -> float:
        return self.framed - self.started

    @property
    def launch_s(self) -> float:
        return self.shown - self.started


class Drain:
    """Reads every desk's pty all the time (a desk whose pty is not read blocks on write)."""

    def __init__(self) -> None:
        self.selector = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.wake_r, self.wake_w = os.pipe()
        self.selector.register(self.wake_r, selectors.EVENT_READ, None)
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="drain", daemon=True)
        self.thread.start()

    def add(self, desk: Desk) -> None:
        with self.lock:
            self.selector.register(desk.fd, selectors.EVENT_READ, desk)
        os.write(self.wake_w, b"x")

    def _run(self) -> None:
        while not self.stopping:
            for key, _ in self.selector.select(timeout=0.2):
                desk = key.data
                if desk is None:
                    os.read(self.wake_r, 4096)
                    continue
                try:
                    chunk = os.read(desk.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    with self.lock:
                        self.selector.unregister(desk.fd)
                    continue
                desk.written += len(chunk)
                seen = desk.last + chunk
                desk.offline += seen.count(b"Offline: retrying") - desk.last.count(b"Offline: retrying")
                desk.waiting += seen.count(b"Waiting for the backend") - desk.last.count(b"Waiting for the backend")
                desk.last = chunk[-40:]
                if not desk.framed and desk.written >= FIRST_FRAME:
                    desk.framed = time.perf_counter()
                if not desk.shown:
                    desk.tail += chunk
                    if desk.needle in desk.tail:
                        desk.shown = time.perf_counter()
                        desk.tail = bytearray()
                        desk.shown_event.set()
                    else:
                        del desk.tail[:-NEEDLE_WINDOW]

    def stop(self) -> None:
        self.stopping = True
        os.write(self.wake_w, b"x")
        self.thread.join(5)


def spawn_plain(desk: Desk, server: str, extra_env: dict[str, str] | None = None) -> None:
    import pty

    env = desk_env(desk.home) | (extra_env or {})
    args = [sys.executable, "-c", DESK, server, desk.user, str(desk.home / "drafts")]
    desk.started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the desk: exec at once (this process has threads)
        try:
            os.chdir(ROOT)
            set_winsize(0)
            os.execve(sys.executable, args, env)
        finally:
            os._exit(127)
    set_winsize(fd)
    desk.pid, desk.fd = pid, fd


class Zygote:
    """The prefork prototype's parent: a process of its own (``_zygote`` below), asked over a
    Unix socket pair to fork desk sessions; it hands back each pty's master and the pid."""

    def __init__(self, modules_file: Path, freeze: bool, home: Path) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        env = desk_env(home)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "_zygote", str(theirs.fileno()), str(modules_file), "1" if freeze else "0"],
            pass_fds=[theirs.fileno()], env=env, cwd=ROOT, stdin=subprocess.DEVNULL)
        theirs.close()
        line = b""
        while not line.endswith(b"\n"):
            got = self.sock.recv(1)
            if not got:
                raise SystemExit("the zygote stopped before it was ready")
            line += got
        ready = json.loads(line)
        self.imported = ready["imported"]
        self.failed = ready["failed"]
        self.import_s = ready["seconds"]

    def spawn(self, desk: Desk, server: str) -> None:
        request = {"server": server, "user": desk.user, "home": str(desk.home)}
        desk.started = time.perf_counter()
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        msg, fds, _flags, _addr = socket.recv_fds(self.sock, 1024, 1)
        desk.pid = json.loads(msg)["pid"]
        desk.fd = fds[0]

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def zygote_main(sock_fd: int, modules_file: str, freeze: bool) -> None:
    """The prefork parent: import what a desk needs, then fork a desk per request."""
    import gc
    import importlib
    import pty

    t0 = time.perf_counter()
    failed = 0
    for name in Path(modules_file).read_text().split():
        if name == "__main__" or name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that only imports in some context: skip it
            failed += 1
    from config.settings import DeskSettings
    from tui.app import run_desk

    seconds = time.perf_counter() - t0
    gc.collect()
    if freeze:
        gc.freeze()
    sock = socket.socket(fileno=sock_fd)
    sock.sendall(json.dumps({"imported": len(sys.modules), "failed": failed, "seconds": seconds}).encode() + b"\n")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the desks
    buf = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            request = json.loads(line)
            sys.stdout.flush()
            sys.stderr.flush()
            pid, fd = pty.fork()
            if pid == 0:  # the desk session: the pty is its controlling terminal and fds 0-2
                code = 70
                try:
                    sock.close()
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    set_winsize(0)
                    home = Path(request["home"])
                    os.environ.update(desk_env(home))
                    code = run_desk(DeskSettings(server=request["server"], low_bandwidth=True, lang="en",
                                                 drafts_dir=home / "drafts"),
                                    username=request["user"], password=request["user"])
                except BaseException:
                    import traceback

                    (Path(request["home"]) / "error.txt").write_text(traceback.format_exc())
                    raise
                finally:
                    os._exit(code)
            set_winsize(fd)
            socket.send_fds(sock, [json.dumps({"pid": pid}).encode()], [fd])
            os.close(fd)


# -- the backend --------------------------------------------------------------------

REQUEST_LINE = re.compile(rb'"(GET|POST|PUT|PATCH|DELETE|HEAD) (\S+) HTTP/[\d.]+" (\d{3})')


class Backend:
    def __init__(self, db: str, log: Path, nice: int = 0) -> None:
        from collectdesk.embedded import free_port

        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "collectdesk", "serve", "--db", db, "--port", str(self.port),
                 "--log-level", "info", "--exit-with-parent", str(os.getpid())],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=ROOT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None)  # every thread inherits it
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit(f"the backend did not start:\n{log.read_text()[-2000:]}")

    def log_offset(self) -> int:
        return self.log.stat().st_size

    def requests_between(self, start: int, end: int) -> Counter:
        with self.log.open("rb") as f:
            f.seek(start)
            text = f.read(end - start)
        counts: Counter = Counter()
        for match in REQUEST_LINE.finditer(text):
            path = re.sub(rb"/\d+", b"/{id}", match.group(2).split(b"?")[0]).decode()
            counts[f"{match.group(1).decode()} {path} {match.group(3).decode()}"] += 1
        return counts

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def top_accounts(url: str) -> dict[str, bytes]:
    """Each user's top account reference: what shows that the user's worklist is on the screen."""
    import httpx

    needles = {}
    for user in USERS:
        token = httpx.post(f"{url}/api/v1/auth/login", json={"username": user, "password": user}, timeout=60)
        token.raise_for_status()
        page = httpx.get(f"{url}/api/v1/worklist", params={"limit": 1}, timeout=30,
                         headers={"Authorization": f"Bearer {token.json()['access_token']}"}).json()
        needles[user] = page["items"][0]["account_ref"].encode()
    return needles


# -- measuring ----------------------------------------------------------------------


def key_for(press: int, open_every: int) -> bytes:
    """A desk's ``press``-th key (from 0): ``down``; with ``open_every`` K, every Kth key is
    ``enter`` (open the highlighted account) and the one after it ``escape`` (back to the list).
    (An escape on the worklist, as a desk's first key may be, only clears a search: none.)"""
    if open_every:
        if press % open_every == open_every - 2:
            return ENTER
        if press % open_every == open_every - 1:
            return ESCAPE
    return DOWN


def window(label: str, seconds: float, desks: list[Desk], backend: Backend, press_every: float | None,
           open_every: int = 0) -> dict:
    """CPU of the desks and of the backend and the backend's requests over ``seconds``; with
    ``press_every``, each desk gets a key every that many seconds (``key_for``), staggered evenly."""
    pids = [d.pid for d in desks]
    bytes0 = sum(d.written for d in desks)
    desk0 = sum(cpu_ticks(p) for p in pids)
    back0 = backend_ticks(backend.proc.pid)
    log0 = backend.log_offset()
    offline0, waiting0 = [d.offline for d in desks], [d.waiting for d in desks]
    load = Load(pids + [backend.proc.pid])
    t0 = time.monotonic()
    presses = 0
    keys: Counter = Counter()
    # Each desk starts at another place of the K-key cycle, so that a tenth of them (K=10) open
    # an account in each round of keys: not all at once.
    sent = [i % open_every if open_every else 0 for i in range(len(desks))]
    if press_every:
        due = [t0 + press_every * (i + 0.5) / len(desks) for i in range(len(desks))]
        while True:
            now = time.monotonic()
            if now >= t0 + seconds:
                break
            i = min(range(len(desks)), key=due.__getitem__)
            if due[i] > now:
                time.sleep(min(due[i], t0 + seconds) - now)
                continue
            key = key_for(sent[i], open_every)
            sent[i] += 1
            try:
                os.write(desks[i].fd, key)
                presses += 1
                keys[{DOWN: "down", ENTER: "enter", ESCAPE: "escape"}[key]] += 1
            except OSError:
                pass
            due[i] += press_every
    else:
        time.sleep(seconds)
    elapsed = time.monotonic() - t0
    running = load.stop()
    time.sleep(0.3)  # the last requests' log lines
    requests = backend.requests_between(log0, backend.log_offset())
    return {"label": label, "seconds": elapsed, "presses": presses, "keys": keys,
            "desk_cpu_s": (sum(cpu_ticks(p) for p in pids) - desk0) / CLK_TCK,
            "backend_cpu_s": (backend_ticks(backend.proc.pid) - back0) / CLK_TCK,
            "requests": requests, "bytes": sum(d.written for d in desks) - bytes0, "load": running,
            "offline": sum(d.offline > o for d, o in zip(desks, offline0, strict=True)),
            "waiting": sum(d.waiting > w for d, w in zip(desks, waiting0, strict=True))}


class Load:
    """Samples, every second, the machine's runnable tasks (``procs_running`` in /proc/stat)
    and how many of them are the desks: whose load a window ran under."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.samples: list[tuple[int, int]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.wait(1.0):
            running = 0
            for line in Path("/proc/stat").read_text().splitlines():
                if line.startswith("procs_running"):
                    running = int(line.split()[1]) - 1  # less this sampler
            ours = 0
            for pid in self.pids:
                try:
                    state = Path(f"/proc/{pid}/stat").read_text()
                except OSError:
                    continue
                ours += state[state.rindex(")") + 2] == "R"
            self.samples.append((running, ours))

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join(3)
        if not self.samples:
            return {"running": 0.0, "running_max": 0, "desks": 0.0}
        return {"running": statistics.mean(r for r, _ in self.samples),
                "running_max": max(r for r, _ in self.samples),
                "desks": statistics.mean(o for _, o in self.samples)}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def probe_modules(server: str, needle: bytes, work: Path, drain: Drain) -> Path:
    """Start one desk that writes the modules it has once its worklist was shown and it has
    opened an account and come back (what the desks do in the windows)."""
    modules = work / "modules.txt"
    desk = Desk(-1, USERS[0], needle, work / "probe")
    desk.home.mkdir(parents=True)
    spawn_plain(desk, server, {"MANY_DESKS_MODULES": str(modules)})
    drain.add(desk)
    if not desk.shown_event.wait(60):
        raise SystemExit("the probe desk never showed its worklist")
    for key in (ENTER, ESCAPE):
        time.sleep(1.5)
        os.write(desk.fd, key)
    time.sleep(1.5)
    Path(str(modules) + ".go").touch()
    deadline = time.monotonic() + 10
    while not modules.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop_desks([desk])
    if os.environ.get("MANY_DESKS_KEEP_MODULES"):
        Path(os.environ["MANY_DESKS_KEEP_MODULES"]).write_text(modules.read_text())
    return modules


def stop_desks(desks: list[Desk]) -> None:
    for d in desks:
        try:
            os.write(d.fd, CTRL_Q)
        except OSError:
            pass
    deadline = time.monotonic() + 10
    alive = [d for d in desks if d.pid]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [d for d in alive if _alive(d.pid)]
    for d in alive:
        try:
            os.kill(d.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for d in desks:
        _alive(d.pid)
        try:
            os.close(d.fd)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    """Reaps ``pid`` if it is our child and has ended; whether it still runs."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return False
    except ChildProcessError:  # a zygote's child: the zygote reaps it
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def launch(desks: list[Desk], start, drain: Drain, solo: int, concurrency: int) -> float:  # noqa: ANN001
    """Start every desk (the first ``solo`` alone, the rest ``concurrency`` at a time), each
    counted as up once its worklist shows; returns the wall time of it all."""
    t0 = time.perf_counter()
    pending = list(desks)
    running: list[Desk] = []
    while pending or running:
        limit = 1 if pending and pending[0].index < solo else concurrency  # the first ``solo``: one at a time
        while pending and len(running) < limit:
            desk = pending.pop(0)
            start(desk)
            drain.add(desk)
            running.append(desk)
        time.sleep(0.01)
        for desk in list(running):
            if desk.shown:
                running.remove(desk)
            elif time.perf_counter() - desk.started > 120 or not _alive(desk.pid):
                error = desk.home / "error.txt"
                if error.exists():
                    print(error.read_text(), file=sys.stderr)
                raise SystemExit(f"desk {desk.index} ({desk.user}) never showed its worklist; it wrote "
                                 f"{desk.written} bytes, the last: {bytes(desk.tail[-600:])!r}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--desks", type=int, default=100)
    parser.add_argument("--idle", type=float, default=60.0, help="idle window, seconds (default 60)")
    parser.add_argument("--active", type=float, default=60.0, help="active window, seconds (default 60)")
    parser.add_argument("--press-every", type=float, default=3.0, help="a down key per desk every S s (default 3)")
    parser.add_argument("--open-every", type=int, default=10, metavar="K",
                        help="a third window, as long as the active one, where every Kth key is enter (open the "
                             "account) and the next escape (default 10; 0: no such window)")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--solo", type=int, default=3, help="desks launched alone first (default 3)")
    parser.add_argument("--launch-concurrency", type=int, default=4)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds between launch and measuring")
    parser.add_argument("--reserve-gb", type=float, default=4.0, help="memory left for the OS and backend")
    parser.add_argument("--host-gb", type=float, default=24.0)
    parser.add_argument("--db", help="seed and serve this database instead of a scratch SQLite one")
    parser.add_argument("--backend-nice", type=int, default=0, metavar="N",
                        help="start the backend at this nice value (negative: before the desks; needs root)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="copy the backend's log here at the end")
    parser.add_argument("--prefork", action="store_true", help="fork the desks from one parent (prototype)")
    parser.add_argument("--no-freeze", action="store_true", help="with --prefork: no gc.freeze() before forking")
    args = parser.parse_args()
    if not 1 <= args.desks <= 500:
        parser.error("--desks 1..500")
    if args.open_every and args.open_every < 3:
        parser.error("--open-every: 3 or more (a down, then enter and escape)")

    with tempfile.TemporaryDirectory(prefix="many-desks-") as tmp:
        work = Path(tmp)
        db = args.db or f"sqlite:///{work}/bench.db"
        cli = [sys.executable, "-m", "collectdesk"]
        subprocess.run([*cli, "db", "upgrade", "--db", db], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        subprocess.run([*cli, "seed", "--accounts", str(args.accounts), "--seed", "1", "--db", db], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        backend = Backend(db, work / "serve.log", args.backend_nice)
        drain = Drain()
        zygote: Zygote | None = None
        desks: list[Desk] = []
        try:
            needles = top_accounts(backend.url)
            if args.prefork:
                modules = probe_modules(backend.url, needles[USERS[0]], work, drain)
                (work / "zygote").mkdir()
                zygote = Zygote(modules, not args.no_freeze, work / "zygote")
                start = lambda d: zygote.spawn(d, backend.url)  # noqa: E731
            else:
                start = lambda d: spawn_plain(d, backend.url)  # noqa: E731
            for i in range(args.desks):
                user = USERS[i % len(USERS)]
                desk = Desk(i, user, needles[user], work / f"desk{i:03d}")
                desk.home.mkdir()
                desks.append(desk)
            avail0 = mem_available_kb()
            load0 = os.getloadavg()
            wall = launch(desks, start, drain, args.solo, args.launch_concurrency)
            time.sleep(args.settle)
            mem = [memory_kb(d.pid) for d in desks]
            zygote_mem = memory_kb(zygote.proc.pid) if zygote else (0, 0, 0)
            avail1 = mem_available_kb()
            idle = window("idle", args.idle, desks, backend, None)
            active = window("active", args.active, desks, backend, args.press_every)
            windows = [idle, active]
            if args.open_every:
                windows.append(window("opening", args.active, desks, backend, args.press_every, args.open_every))
            mem_after = [memory_kb(d.pid) for d in desks]
            load1 = os.getloadavg()
        finally:
            stop_desks(desks)
            drain.stop()
            if zygote:
                zygote.close()
            backend.stop()
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / "serve.log").write_bytes((work / "serve.log").read_bytes())
    report(args, desks, wall, mem, mem_after, zygote, zygote_mem, avail0 - avail1, windows, load0, load1)


def report(args, desks, wall, mem, mem_after, zygote, zygote_mem, avail_drop_kb, windows,  # noqa: ANN001
           load0, load1) -> None:
    n = len(desks)
    mode = "prefork (zygote" + (", gc.freeze()" if not args.no_freeze else ", no gc.freeze()") + ")" \
        if args.prefork else "plain (one exec'd python per desk)"
    print(f"{n} desks, {mode}; backend: collectdesk serve, one worker, "
          f"{'SQLite' if not args.db else args.db.split(':')[0]}, {args.accounts} accounts; 80x24, low-bandwidth")
    if args.backend_nice:
        print(f"backend started at nice {args.backend_nice} (the desks at 0)")
    print(f"machine: {os.cpu_count()} CPUs, load average {load0[0]:.2f} before launch, {load1[0]:.2f} at the end")
    if zygote:
        print(f"zygote: holds {zygote.imported} modules (a probe desk's, back at its worklist after opening an "
              f"account; {zygote.failed} would not import), imported in "
              f"{zygote.import_s:.2f} s; its own PSS {zygote_mem[0] / 1024:.1f} MB, RSS {zygote_mem[1] / 1024:.1f} MB")
    solo = [d.launch_s for d in desks[:args.solo]]
    rest = [d.launch_s for d in desks[args.solo:]]
    print()
    print("| what | figure |")
    print("| --- | ---: |")
    frames = [d.frame_s for d in desks[:args.solo]]
    if frames:
        print(f"| first screen drawn, a desk started alone, median (max) | "
              f"{statistics.median(frames):.2f} s ({max(frames):.2f}) |")
    if solo:
        print(f"| launch, a desk started alone (first {len(solo)}), median (max) | "
              f"{statistics.median(solo):.2f} s ({max(solo):.2f}) |")
    if rest:
        print(f"| launch, {args.launch_concurrency} at a time (the other {len(rest)}), median / p95 / max | "
              f"{statistics.median(rest):.2f} / {pct(rest, 0.95):.2f} / {max(rest):.2f} s |")
    print(f"| launch, all {n}, wall | {wall:.1f} s |")
    pss = [m[0] / 1024 for m in mem]
    rss = [m[1] / 1024 for m in mem]
    print(f"| PSS per desk, idle after launch, mean / median / max | "
          f"{statistics.mean(pss):.1f} / {statistics.median(pss):.1f} / {max(pss):.1f} MB |")
    print(f"| RSS per desk, mean / median / max | "
          f"{statistics.mean(rss):.1f} / {statistics.median(rss):.1f} / {max(rss):.1f} MB |")
    total = sum(pss) + zygote_mem[0] / 1024
    print(f"| PSS of all {n} desks{' + the zygote' if zygote else ''} | {total / 1024:.2f} GB |")
    uss = [m[2] / 1024 for m in mem]
    print(f"| USS (private) per desk, mean / max | {statistics.mean(uss):.1f} / {max(uss):.1f} MB |")
    pss2 = [m[0] / 1024 for m in mem_after]
    print(f"| PSS per desk after the active windows, mean / max | "
          f"{statistics.mean(pss2):.1f} / {max(pss2):.1f} MB (total {(sum(pss2) + zygote_mem[0] / 1024) / 1024:.2f} GB) |")
    print(f"| MemAvailable fell during launch (machine-wide, others' work included) | "
          f"{avail_drop_kb / 1024 / 1024:.2f} GB |")
    for w in windows:
        reqs = sum(w["requests"].values())
        keys = ", ".join(f"{v} {k}" for k, v in w["keys"].most_common())
        what = "idle" if not w["presses"] else f"{w['label']} ({keys}; a key per desk every {args.press_every:g} s)"
        print(f"| {what}, {w['seconds']:.0f} s: CPU of all desks | {w['desk_cpu_s'] / w['seconds'] * 100:.1f} % "
              f"of one CPU ({w['desk_cpu_s'] / w['seconds'] / n * 1000:.2f} ms/s a desk) |")
        print(f"| {what}: backend CPU, requests a second | {w['backend_cpu_s'] / w['seconds'] * 100:.1f} % of one CPU,"
              f" {reqs / w['seconds']:.2f} req/s |")
        print(f"| {what}: bytes the desks wrote to their ptys | {w['bytes'] / w['seconds'] / 1024:.1f} KB/s "
              f"({w['bytes'] / max(1, w['presses']):.0f} a key) |" if w["presses"] else
              f"| {what}: bytes the desks wrote to their ptys | {w['bytes'] / w['seconds'] / 1024:.2f} KB/s |")
    for w in windows:
        print(f"{w['label']}: the machine's runnable tasks {w['load']['running']:.1f} on average "
              f"(max {w['load']['running_max']}), {w['load']['desks']:.1f} of them desks or the backend; desks that "
              f"said the backend was slow {w['waiting']}, offline {w['offline']}")
    for w in windows:
        if w["requests"]:
            print(f"backend requests, {w['label']}: " + ", ".join(f"{k} ×{v}" for k, v in w["requests"].most_common()))
    per_desk = statistics.mean(pss2 if statistics.mean(pss2) > statistics.mean(pss) else pss)
    fits = int((args.host_gb - args.reserve_gb) * 1024 / per_desk)
    share = zygote_mem[0] / 1024 / n
    print(f"\none {args.host_gb:g} GB host, {args.reserve_gb:g} GB left for the OS and the backend: "
          f"{(args.host_gb - args.reserve_gb):g} GB / {per_desk:.1f} MB a desk (the larger mean PSS of the two "
          f"readings{'; the zygote adds ' + format(share, '.1f') + ' MB a desk at this N' if zygote else ''}) "
          f"≈ {fits} desks by memory")
    for w in windows[1:]:
        if w["desk_cpu_s"]:
            cpu_each = w["desk_cpu_s"] / w["seconds"] / n
            print(f"by CPU, {w['label']}: {os.cpu_count()} CPUs / {cpu_each * 1000:.1f} ms/s a desk "
                  f"≈ {int(os.cpu_count() / cpu_each)} desks (no headroom; the backend's CPU not counted)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_zygote":
        zygote_main(int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1")
    else:
        main()
