"""Simulated agents against one backend (issue 19 item 4): how many it serves, and how it
fails past that.

    python bench/agents.py [--db URL] [--accounts 20000] [--agents 100] [--think 30] [--duration 60]
                           [--workers 1] [--ramp [--step 100] [--max 1000]] [--reuse] [--processes 1]

Each simulated agent works as a fast agent does, on a keep-alive connection of its
own (a lean HTTP/1.1 client on asyncio's streams, ``Wire``: httpx cost the bench as much
CPU as a fifth of the server's, on the same two CPUs), signed in as a user of its own: *next account* (``POST /worklist/next``), the
account, its timeline and the compliance verdict (``GET``), then ``--think`` seconds
of thought (0.5 to 1.5 times it, at random), then a contact (``POST .../contacts``
with an ``Idempotency-Key``: an inbound call, lawful at any hour, so the figures do not
depend on when the bench runs), and again. Agents start at random moments over the
first think time, so the load is steady from the start, not a wave.

For each level (number of agents) it runs ``--duration`` seconds after a warm-up of one
think time and prints, per route and in all: requests, p50 / p95 / p99 / max as the
client saw them, answers by status (a ``503`` is counted and its ``Retry-After`` obeyed,
as the desk does), requests a second; and the CPU used in the window by the server (its
process and every worker), by PostgreSQL (every ``postgres`` process of the machine)
and by this script (all its processes), in CPU-seconds a second (1.00 = one core busy);
then the answered requests (every route) apart from the refused ones (429 and 503).
``--processes P`` deals the agents over P processes of the bench, each with its own event
loop, so that 1,000 agents are not bounded by one Python process. ``--ramp`` starts at
``--agents`` and adds ``--step`` until the p95 of all requests passes 100 ms (or
``--max``), and prints the level where it crossed.

The database is built as ``bench/next_account.py`` builds it (the accounts of
``bench/worklist.py``, dealt round the bench's agents of team A): a SQLite file under
bench/out/ by default; for PostgreSQL name a scratch database that may be wiped, e.g.
``--db postgresql://postgres@127.0.0.1:55438/collectdesk_agents``. ``--reuse`` measures the
database an earlier run built (with at least as many agents). The server's log goes to
bench/out/agents_server.log. Every figure comes with the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import next_account  # noqa: E402

from backend.db import normalize_url  # noqa: E402

ROUTES = ("next", "account", "timeline", "compliance", "contact")
CONTACT = {"channel": "phone", "direction": "inbound", "party": "debtor", "outcome": "RPC", "result": "RTP",
           "note": "bench: the customer rang in", "identity_verified": True, "disclosure_given": True}


CONTACT_BODY = json.dumps(CONTACT).encode()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


class Wire:
    """One agent's keep-alive HTTP/1.1 connection, as little as the bench needs (a request with a
    JSON body or none; an answer with Content-Length or chunked), opened again when the server
    closes it. Each request costs the bench a fraction of what httpx's does, so the CPU of this
    machine goes to the server being measured."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, authorization: str, body: bytes = b"", key: str = "") -> Answer:
        if self.reader is not None and self.reader.at_eof():  # the server closed it while the agent thought
            self.close()
        reused = self.writer is not None
        try:
            return await self._request(method, path, authorization, body, key)
        except (asyncio.IncompleteReadError, ConnectionResetError, BrokenPipeError) as exc:
            # Closed by the server as the request went out (its keep-alive timeout): once more on
            # a new connection, as any HTTP client does; anything else is the server's failure.
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
            self.close()
            return await self._request(method, path, authorization, body, key)

    async def _request(self, method: str, path: str, authorization: str, body: bytes, key: str) -> Answer:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            sock = self.writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        assert self.reader is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Authorization: {authorization}"]
        if key:
            head.append(f"Idempotency-Key: {key}")
        if body or method == "POST":
            head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            await self.reader.readuntil(b"\r\n")
            data = b"".join(chunks)
        else:
            raise ValueError(f"an answer without a length: {status_line!r}")
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, headers, data)


@dataclass
class Level:
    """What one level of load saw, from its window's start to its end."""

    agents: int
    samples: dict[str, list[float]] = field(default_factory=lambda: {r: [] for r in ROUTES})
    statuses: dict[str, dict[str, int]] = field(default_factory=lambda: {r: {} for r in ROUTES})
    first_failure: dict[str, str] = field(default_factory=dict)
    answered: list[float] = field(default_factory=list)  # every route: answers other than 429/503
    refused: list[float] = field(default_factory=list)  # every route: 429 and 503 (busy, retried)
    counting: bool = False

    def record(self, route: str, ms: float, status: int | str, body: str = "") -> None:
        if not self.counting:
            return
        self.samples[route].append(ms)
        key = str(status)
        self.statuses[route][key] = self.statuses[route].get(key, 0) + 1
        if status in (429, 503):
            self.refused.append(ms)
        elif isinstance(status, int):
            self.answered.append(ms)
        if not (isinstance(status, int) and status < 400):
            self.first_failure.setdefault(key, f"{route}: {body[:160]}")


def cpu_ticks(pids: list[int], *, reaped: bool = False) -> int:
    """utime + stime of ``pids``; with ``reaped``, also the CPU of their children that have
    ended (cutime + cstime): PostgreSQL's connections come and go, and the postmaster holds
    the time of those gone, so the sum over every ``postgres`` process never goes back."""
    total = 0
    for pid in pids:
        try:
            parts = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(parts[11]) + int(parts[12])  # utime, stime
        if reaped:
            total += int(parts[13]) + int(parts[14])  # cutime, cstime
    return total


def descendants(root: int) -> list[int]:
    """``root`` and every process below it (uvicorn's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def quantiles(values: list[float]) -> tuple[float, float, float, float]:
    if not values:
        return (0.0, 0.0, 0.0, 0.0)
    if len(values) == 1:
        return (values[0],) * 4  # type: ignore[return-value]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return statistics.median(values), cuts[94], cuts[98], max(values)


async def sign_in(http: httpx.AsyncClient, names: list[str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for name in names:
        for _ in range(50):
            r = await http.post("/api/v1/auth/login", json={"username": name, "password": next_account.PASSWORD})
            if r.status_code == 200:
                tokens[name] = r.json()["access_token"]
                break
            if r.status_code == 401:  # no such agent: --reuse of a database dealt to fewer
                raise SystemExit(f"{name} could not sign in (401): the database has fewer agents than asked; "
                                 "run without --reuse to deal to them")
            await asyncio.sleep(float(r.headers.get("retry-after", "0.2") or 0.2))
        else:
            raise SystemExit(f"{name} could not sign in: {r.status_code} {r.text[:200]}")
    return tokens


async def run_level(base: str, names: list[str], tokens: dict[str, str], think: float, duration: float,
                    server_pid: int | None) -> tuple[Level, dict[str, float]]:
    """One level in this process; ``server_pid`` None: the server's and PostgreSQL's CPU are
    measured by the parent (``--processes``), this process's own only."""
    level = Level(agents=len(names))
    stop = asyncio.Event()

    async def agent(name: str) -> None:
        # A connection of its own, through the lean client below: httpx cost the bench 1.7 ms of
        # CPU a request (and in one shared pool of a thousand, 8 ms), CPU the server's machine lacks.
        host, _, port = base.removeprefix("http://").partition(":")
        http = Wire(host, int(port or 80))
        try:
            await work(name, http)
        finally:
            http.close()

    async def work(name: str, http: Wire) -> None:
        authorization = f"Bearer {tokens[name]}"
        rng = random.Random(f"{name}-{len(names)}")
        await asyncio.sleep(rng.uniform(0, think))

        async def ask(route: str, method: str, url: str, body: bytes = b"", key: str = "") -> Answer | None:
            while not stop.is_set():
                t0 = time.perf_counter()
                try:
                    r = await asyncio.wait_for(http.request(method, url, authorization, body, key), 30)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                    level.record(route, (time.perf_counter() - t0) * 1000, type(exc).__name__, repr(exc))
                    http.close()
                    await asyncio.sleep(1)
                    return None
                level.record(route, (time.perf_counter() - t0) * 1000, r.status, r.text)
                if r.status in (429, 503):  # busy: wait as told, and ask again (as the desk does)
                    await asyncio.sleep(float(r.headers.get("retry-after", "1") or 1))
                    continue
                return r
            return None

        while not stop.is_set():
            r = await ask("next", "POST", "/api/v1/worklist/next")
            if r is None or r.status != 200:
                await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
                continue
            account = r.json()["account"]["id"]
            for route, url in (("account", f"/api/v1/accounts/{account}"),
                               ("timeline", f"/api/v1/accounts/{account}/timeline"),
                               ("compliance", f"/api/v1/accounts/{account}/compliance")):
                await ask(route, "GET", url)
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 1.5) * think)
            except TimeoutError:
                pass
            key = uuid.uuid4().hex
            await ask("contact", "POST", f"/api/v1/accounts/{account}/contacts", CONTACT_BODY, key)

    tasks = [asyncio.create_task(agent(n)) for n in names]
    await asyncio.sleep(think)  # warm-up: every agent has started
    server = descendants(server_pid) if server_pid is not None else []
    ticks = os.sysconf("SC_CLK_TCK")
    before = (cpu_ticks(server), cpu_ticks(postgres_pids(), reaped=True) if server_pid else 0, os.times())
    load_before = os.getloadavg()
    level.counting = True
    t0 = time.perf_counter()
    await asyncio.sleep(duration)
    level.counting = False
    elapsed = time.perf_counter() - t0
    after = (cpu_ticks(server), cpu_ticks(postgres_pids(), reaped=True) if server_pid else 0, os.times())
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    me = (after[2].user + after[2].system - before[2].user - before[2].system) / elapsed
    cpu = {"server": (after[0] - before[0]) / ticks / elapsed, "postgres": (after[1] - before[1]) / ticks / elapsed,
           "bench": me, "elapsed": elapsed, "load": "/".join(f"{x:.1f}" for x in load_before)}
    return level, cpu


def _child(job: tuple[str, list[str], dict[str, str], float, float]) -> tuple[Level, dict[str, float]]:
    base, names, tokens, think, duration = job
    return asyncio.run(run_level(base, names, tokens, think, duration, None))


def run_spread(base: str, names: list[str], tokens: dict[str, str], think: float, duration: float,
               server_pid: int, processes: int) -> tuple[Level, dict[str, float]]:
    """One level with its agents dealt over ``processes`` processes (each its own event loop
    and connections), so that the load generator is not itself the bound. The server's and
    PostgreSQL's CPU are measured here over the same window as the children's (each starts
    its window after one think time; they start within a second of each other)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    slices = [names[i::processes] for i in range(processes)]
    # An executor, not a Pool: a child that dies fails the run (BrokenProcessPool), not hangs it.
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        pending = [pool.submit(_child, (base, part, tokens, think, duration)) for part in slices if part]
        time.sleep(think)
        server = descendants(server_pid)
        ticks = os.sysconf("SC_CLK_TCK")
        load_before = os.getloadavg()
        before = (cpu_ticks(server), cpu_ticks(postgres_pids(), reaped=True))
        t0 = time.perf_counter()
        time.sleep(duration)
        elapsed = time.perf_counter() - t0
        after = (cpu_ticks(server), cpu_ticks(postgres_pids(), reaped=True))
        parts = [job.result() for job in pending]
    level = Level(agents=len(names))
    for part, _cpu in parts:
        for route in ROUTES:
            level.samples[route] += part.samples[route]
            for key, n in part.statuses[route].items():
                level.statuses[route][key] = level.statuses[route].get(key, 0) + n
        level.answered += part.answered
        level.refused += part.refused
        for key, body in part.first_failure.items():
            level.first_failure.setdefault(key, body)
    cpu = {"server": (after[0] - before[0]) / ticks / elapsed, "postgres": (after[1] - before[1]) / ticks / elapsed,
           "bench": sum(c["bench"] for _, c in parts), "elapsed": elapsed,
           "load": "/".join(f"{x:.1f}" for x in load_before)}
    return level, cpu


def report(level: Level, cpu: dict[str, float]) -> float:
    print(f"\n{level.agents} agents, {cpu['elapsed']:.0f} s window (load average before {cpu['load']}); "
          f"CPU-s a second: server {cpu['server']:.2f}, postgres {cpu['postgres']:.2f}, bench {cpu['bench']:.2f}")
    print(f"  {'route':<11} {'requests':>8} {'per s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>8}  answers")
    everything: list[float] = []
    for route in ROUTES:
        values = level.samples[route]
        everything += values
        p50, p95, p99, top = quantiles(values)
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(level.statuses[route].items()))
        print(f"  {route:<11} {len(values):>8} {len(values) / cpu['elapsed']:7.1f} {p50:7.1f} {p95:7.1f} "
              f"{p99:7.1f} {top:8.1f}  {answers}")
    p50, p95, p99, top = quantiles(everything)
    errors = sum(v for r in ROUTES for k, v in level.statuses[r].items() if not (k.isdigit() and int(k) < 400))
    print(f"  {'all':<11} {len(everything):>8} {len(everything) / cpu['elapsed']:7.1f} {p50:7.1f} {p95:7.1f} "
          f"{p99:7.1f} {top:8.1f}  errors {errors}")
    for name, values in (("answered", level.answered), ("refused", level.refused)):
        if values and len(values) != len(everything):
            p50, p95_, p99, top = quantiles(values)
            print(f"  {name:<11} {len(values):>8} {len(values) / cpu['elapsed']:7.1f} {p50:7.1f} {p95_:7.1f} "
                  f"{p99:7.1f} {top:8.1f}  {'(429 and 503, each retried after its Retry-After)' if name == 'refused' else ''}")
    for status, body in level.first_failure.items():
        print(f"  first {status}: {body}")
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'agents.db'}")
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=100, help="agents at once (the first level with --ramp)")
    parser.add_argument("--think", type=float, default=30.0, help="about how long an agent thinks (s)")
    parser.add_argument("--duration", type=float, default=60.0, help="the measured window of each level (s)")
    parser.add_argument("--workers", type=int, default=1, help="collectdesk serve --workers")
    parser.add_argument("--ramp", action="store_true", help="add --step agents until the p95 passes 100 ms")
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--max", type=int, default=1000, help="the most agents --ramp tries")
    parser.add_argument("--reuse", action="store_true", help="measure the database an earlier run built")
    parser.add_argument("--processes", type=int, default=1,
                        help="deal the agents over this many processes of the bench (default 1)")
    args = parser.parse_args()
    url = normalize_url(args.db)
    most = args.max if args.ramp else args.agents
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    if not args.reuse:
        next_account.prepare(url, args.accounts, most)
    names, _supervisors = next_account.people(most)

    with next_account.served(url, ROOT / "bench" / "out" / "agents_server.log", args.workers) as (base, server):
        async def signed_in() -> dict[str, str]:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                return await sign_in(http, names)

        tokens = asyncio.run(signed_in())
        print(f"{url.split('://')[0]}, one backend (collectdesk serve, {args.workers} worker(s)) on loopback; "
              f"think {args.think:.0f} s; {os.cpu_count()} CPUs; times in ms")
        agents = args.agents
        crossed = None
        while True:
            if args.processes > 1:
                level, cpu = run_spread(base, names[:agents], tokens, args.think, args.duration, server,
                                        args.processes)
            else:
                level, cpu = asyncio.run(run_level(base, names[:agents], tokens, args.think, args.duration, server))
            p95 = report(level, cpu)
            if not args.ramp:
                break
            if p95 > 100:
                crossed = agents
                break
            if agents + args.step > args.max:
                break
            agents += args.step
        if args.ramp:
            print(f"\np95 of all requests passed 100 ms at {crossed} agents" if crossed
                  else f"\np95 stayed under 100 ms up to {agents} agents")


if __name__ == "__main__":
    main()
