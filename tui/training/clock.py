"""The training sandbox's clock (issue 7): the scenario's instant, not the wall's.

A scenario happens at a pinned instant (its ``call_at``, on the customer's local
clock). When a scenario opens, the sandbox's clock is set there and runs on
with the wall clock, so a call's length is real while the lawful-hours check
(and everything else that reads the time) gives the same answer whatever the
time of day the class meets. The desk and the sandbox backend (a child
process) share the clock through a small JSON file in the sandbox directory.

Standard library only: the backend's process and the desk's both import it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

SANDBOX_EPOCH = dt.datetime(2026, 3, 11, 15, 0, tzinfo=dt.UTC)
"""Where the sandbox's clock stands before any scenario opens (a Wednesday)."""


def wall_time() -> float:
    """The wall clock the sandbox's clock runs on, in seconds since the epoch
    (the one thing tests replace to run a scenario at another time of day)."""
    return time.time()


class SandboxClock:
    """``clock()``: the sandbox's now (aware, UTC). ``pin(instant)`` sets it there."""

    def __init__(self, path: Path | None = None, instant: dt.datetime | None = None) -> None:
        self.path = path
        self._instant = SANDBOX_EPOCH
        self._wall = wall_time()
        self._seen: tuple[int, int] | None = None
        if instant is not None:
            self.pin(instant)
        else:
            self._load()

    def pin(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the sandbox's instant must be zone-aware")
        self._instant, self._wall = instant.astimezone(dt.UTC), wall_time()
        if self.path is not None:
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            temporary.write_text(json.dumps({"instant": self._instant.isoformat(), "wall": self._wall}),
                                 encoding="utf-8")
            os.replace(temporary, self.path)
            self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return None if stat is None else (stat.st_mtime_ns, stat.st_ino)

    def _load(self) -> None:
        """Take the instant another process pinned, if the file changed."""
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
            instant, wall = dt.datetime.fromisoformat(data["instant"]), float(data["wall"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if instant.tzinfo is not None:
            self._instant, self._wall, self._seen = instant.astimezone(dt.UTC), wall, stamp

    def now(self) -> dt.datetime:
        self._load()
        return self._instant + dt.timedelta(seconds=max(0.0, wall_time() - self._wall))

    __call__ = now
