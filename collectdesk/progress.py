"""A plain progress bar on stderr for imports and seeding (no dependency)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """``bar(done, total)`` redraws ``label [#####.....]  52%  5,200/10,000``.

    On a terminal the bar redraws in place (at most ten times a second); when
    stderr is a file or a pipe it writes a line at each tenth instead, so logs
    stay readable. :meth:`close` ends the line.
    """

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_tenth = -1
        self._drawn = False
        self._line = ""

    def render(self, done: int, total: int) -> str:
        fraction = 1.0 if total <= 0 else min(max(done / total, 0.0), 1.0)
        filled = round(self.width * fraction)
        return f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {fraction:4.0%}  {done:,}/{total:,}"

    def __call__(self, done: int, total: int) -> None:
        line = self.render(done, total)
        if self.tty:
            now = time.monotonic()
            if done < total and now - self._last_draw < 0.1 and self._drawn:
                return
            self._last_draw = now
            self.stream.write("\r" + line.ljust(len(self._line)))
            self._drawn = True
        else:
            tenth = 10 if total <= 0 else (done * 10) // total
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(line + "\n")
        self._line = line
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
