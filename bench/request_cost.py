"""What one request of a fast agent's cycle costs the backend, in-process (issue 19 item 4).

    python bench/request_cost.py [--db URL] [--accounts 2000] [--cycles 100] [--profile]

Seeds a scratch SQLite database (or uses ``--db``, a database ``collectdesk seed`` filled,
signed in as agent1), then runs ``--cycles`` times the cycle of ``bench/agents.py`` (next
account, the account, its timeline, the compliance verdict, an inbound call) through the app
in this process (httpx's ASGI transport: no network, one request at a time) and prints, per
route: the mean wall time, and the SQL statements it sent, by kind and table. ``--profile``
adds the ten functions that took the most time in the server's worker threads (cProfile in
each thread), which is where the routes' database work runs.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

CONTACT = {"channel": "phone", "direction": "inbound", "party": "debtor", "outcome": "RPC", "result": "RTP",
           "note": "bench: the customer rang in", "identity_verified": True, "disclosure_given": True}
ROUTES = ("next", "account", "timeline", "compliance", "contact")


class Statements:
    """SQL statements sent, counted under the route being asked (``route``)."""

    def __init__(self) -> None:
        self.route = ""
        self.counting = False
        self.by_route: collections.Counter[str] = collections.Counter()
        self.by_kind: collections.Counter[tuple[str, str]] = collections.Counter()
        event.listen(Engine, "before_cursor_execute", self._sent)

    def _sent(self, _conn, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        if not self.counting:
            return
        words = statement.split()
        verb = words[0].upper()
        upper = [w.upper() for w in words]
        if "FROM" in upper and verb == "SELECT":
            what = f"SELECT {words[upper.index('FROM') + 1]}"
        else:
            what = " ".join(words[:3]) if verb in ("INSERT", "UPDATE", "DELETE") else " ".join(words[:2])
        self.by_route[self.route] += 1
        self.by_kind[(self.route, what)] += 1


async def run(url: str, cycles: int, statements: Statements, profile: bool) -> dict[str, list[float]]:
    from backend.app import create_app
    from config.settings import BackendSettings

    profiles: list[cProfile.Profile] = []

    def start_profile(*_args: object) -> None:
        prof = cProfile.Profile()
        profiles.append(prof)
        sys.setprofile(None)
        prof.enable()

    if profile:
        threading.setprofile(start_profile)  # the worker threads started from now on
    app = create_app(BackendSettings(db=url, recheck_seconds=0, sweep_hours=0))
    times: dict[str, list[float]] = {route: [] for route in ROUTES}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://backend") as http:
        token = (await http.post("/api/v1/auth/login", json={"username": "agent1", "password": "agent1"})).json()
        http.headers["Authorization"] = f"Bearer {token['access_token']}"

        async def timed(route: str, request: asyncio.Future) -> httpx.Response:  # type: ignore[type-arg]
            statements.route = route
            started = time.perf_counter()
            response = await request
            times[route].append(time.perf_counter() - started)
            if response.status_code >= 400:
                raise SystemExit(f"{route}: {response.status_code} {response.text[:200]}")
            return response

        for n in range(cycles + 10):
            if n == 10:  # a warm-up of ten cycles, not counted
                statements.counting = True
                for route in ROUTES:
                    times[route].clear()
                for prof in profiles:
                    prof.clear()
            lease = await timed("next", http.post("/api/v1/worklist/next", json={}))
            account = lease.json()["account"]["id"]
            await timed("account", http.get(f"/api/v1/accounts/{account}"))
            await timed("timeline", http.get(f"/api/v1/accounts/{account}/timeline"))
            await timed("compliance", http.get(f"/api/v1/accounts/{account}/compliance"))
            await timed("contact", http.post(f"/api/v1/accounts/{account}/contacts", json=CONTACT,
                                             headers={"Idempotency-Key": uuid.uuid4().hex}))
    threading.setprofile(None)
    stats = None
    for prof in profiles:
        prof.create_stats()
        if prof.stats:  # a thread that ran nothing after the warm-up has none
            stats = pstats.Stats(prof) if stats is None else stats.add(prof)
    if stats is not None:
        print("\nthe server's worker threads, the ten functions with the most time of their own:")
        stats.sort_stats("tottime").print_stats(10)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="a seeded database (default: a scratch SQLite one)")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db
        if url is None:
            url = f"sqlite:///{tmp}/cost.db"
            cli = [sys.executable, "-m", "collectdesk"]
            subprocess.run([*cli, "db", "upgrade", "--db", url], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([*cli, "seed", "--accounts", str(args.accounts), "--seed", "1", "--db", url], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        statements = Statements()
        times = asyncio.run(run(url, args.cycles, statements, args.profile))
    print(f"{url.split(':')[0]}, {args.cycles} cycles, one request at a time, in-process")
    print(f"  {'route':<12}{'mean ms':>9}{'statements':>12}   by kind")
    for route in ROUTES:
        kinds = sorted(((what, n) for (r, what), n in statements.by_kind.items() if r == route), key=lambda x: -x[1])
        mean = sum(times[route]) / len(times[route]) * 1000
        print(f"  {route:<12}{mean:>9.1f}{statements.by_route[route] / args.cycles:>12.1f}   "
              + ", ".join(f"{what} ×{n / args.cycles:g}" for what, n in kinds))


if __name__ == "__main__":
    main()
