"""A flood of wrong logins against a real backend, while a signed-in agent reads the worklist.

    python bench/login_flood.py [--logins 200] [--concurrency 40] [--accounts 2000] [--from many|one]

Seeds a scratch SQLite database through the CLI (``collectdesk db upgrade``,
``collectdesk seed``), starts ``collectdesk serve`` (one worker; the desk's
embedded backend) on a free loopback port, signs agent1 in, and then:

1. **quiet**: agent1 reads the first worklist page (``GET /api/v1/worklist``,
   50 rows) one request after another for a few seconds: the baseline;
2. **flood**: another process fires ``--logins`` wrong logins, ``--concurrency``
   at a time, while agent1 keeps reading the worklist; only the reads that
   start during the flood count.

It prints the worklist's p50, p95 and max in each phase, how long the flood
took, and what the logins were answered (401 wrong password, 429 throttled,
503 busy).

``--from many`` (the default) is the worst case for the backend: every wrong
login names another user and comes from another address (an ``X-Forwarded-For``
header, which the backend believes because it is started with
``COLLECTDESK_TRUSTED_PROXIES='["127.0.0.1"]'``), so no per-name or per-address
throttle ever holds one back and every one of them is a password hash.
``--from one``: every login is ``agent2`` from one address, so the throttle
answers most of them ``429`` without hashing anything. A backend that does not
know ``COLLECTDESK_TRUSTED_PROXIES`` ignores the header: every login still
hashes.

Every request goes to 127.0.0.1 only; the flood is bounded by ``--logins`` and
every request by a time-out.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from collectdesk.embedded import EmbeddedBackend  # noqa: E402

QUIET_S = 5.0
"""How long the worklist is read before the flood (the baseline)."""
TIMEOUT_S = 120.0
"""The longest any one request is waited for."""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _flood(url: str, logins: int, concurrency: int, spread: bool, started: mp.Event, out: mp.Queue) -> None:
    """Run in its own process: ``logins`` wrong logins, ``concurrency`` at a time."""
    import httpx

    async def run() -> tuple[collections.Counter, list[float], float, float]:
        statuses: collections.Counter = collections.Counter()
        times: list[float] = []
        queue = list(range(logins))
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S, limits=limits) as client:

            async def one(n: int) -> None:
                if spread:
                    name = f"nobody{n:04d}"
                    headers = {"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"}
                else:
                    name, headers = "agent2", {}
                t0 = time.perf_counter()
                try:
                    response = await client.post("/api/v1/auth/login", json={"username": name, "password": "wrong"},
                                                 headers=headers)
                    statuses[response.status_code] += 1
                except httpx.HTTPError as exc:
                    statuses[type(exc).__name__] += 1
                times.append(time.perf_counter() - t0)

            async def worker() -> None:
                while queue:
                    await one(queue.pop())

            start = time.monotonic()
            started.set()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return statuses, times, start, time.monotonic()

    statuses, times, start, end = asyncio.run(run())
    out.put((dict(statuses), times, start, end))


def _read_worklist(client, headers: dict[str, str]) -> tuple[float, float, int]:  # noqa: ANN001
    t0 = time.monotonic()
    response = client.get("/api/v1/worklist", params={"limit": 50}, headers=headers)
    return t0, time.monotonic() - t0, response.status_code


def _line(label: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return (f"{label}: {len(ms)} reads, p50 {statistics.median(ms):.1f} ms, p95 {_pct(ms, 0.95):.1f} ms, "
            f"max {max(ms):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--from", dest="source", choices=("many", "one"), default="many",
                        help="many: each login another user from another address (default); one: agent2 from one")
    args = parser.parse_args()
    if not 1 <= args.logins <= 10_000 or not 1 <= args.concurrency <= 200:
        parser.error("--logins 1..10000, --concurrency 1..200")
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{tmp}/bench.db"
        cli = [sys.executable, "-m", "collectdesk"]
        subprocess.run([*cli, "db", "upgrade", "--db", db], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([*cli, "seed", "--accounts", str(args.accounts), "--seed", "1", "--db", db], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Believe X-Forwarded-For from the loopback (the flood's "many addresses"); the child reads it.
        os.environ["COLLECTDESK_TRUSTED_PROXIES"] = '["127.0.0.1"]'
        backend = EmbeddedBackend(db, migrate=False, log_path=Path(tmp) / "serve.log")
        url = backend.start()
        try:
            with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
                token = client.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})
                token.raise_for_status()
                headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
                for _ in range(5):  # warm-up
                    _read_worklist(client, headers)
                quiet: list[float] = []
                end = time.monotonic() + QUIET_S
                while time.monotonic() < end:
                    quiet.append(_read_worklist(client, headers)[1])
                ctx = mp.get_context("spawn")
                started, out = ctx.Event(), ctx.Queue()
                flood = ctx.Process(target=_flood, args=(url, args.logins, args.concurrency, args.source == "many",
                                                         started, out))
                flood.start()
                started.wait(60)
                reads: list[tuple[float, float, int]] = []
                while flood.is_alive() and out.empty():
                    reads.append(_read_worklist(client, headers))
                statuses, login_times, flood_start, flood_end = out.get(timeout=TIMEOUT_S)
                flood.join(10)
        finally:
            backend.stop()
    during = [took for t0, took, _status in reads if flood_start <= t0 < flood_end]
    refused = collections.Counter(status for _t0, _took, status in reads if status != 200)
    print(f"backend: collectdesk serve, one worker, SQLite, {args.accounts} accounts; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    print(_line("worklist, quiet", quiet))
    if during:
        print(_line(f"worklist during {args.logins} wrong logins at concurrency {args.concurrency} "
                    f"(from {args.source})", during))
    else:
        print("worklist during the flood: no read started while it lasted")
    if refused:
        print(f"  worklist reads not answered 200: {dict(refused)}")
    login_ms = [t * 1000 for t in login_times]
    print(f"flood: {flood_end - flood_start:.1f} s; logins answered {dict(sorted(statuses.items(), key=str))}; "
          f"login p50 {statistics.median(login_ms):.0f} ms, p95 {_pct(login_ms, 0.95):.0f} ms")


if __name__ == "__main__":
    main()
