"""The desk ends when its terminal is gone (issue 18 item 5).

When an agent's SSH connection drops, sshd closes the desk's pseudo-terminal and the
kernel sends the desk ``SIGHUP``. Left to Python's default the process dies at once,
and if ``SIGHUP`` is ignored (``nohup``, some wrappers) it lives on: Textual's input
thread then reads a hung-up terminal in a loop and burns a CPU for nobody.

``watch_terminal`` handles both: ``SIGHUP``, and a thread that looks at the terminal
every ``every_s`` seconds (one ``isatty``, which a hung-up terminal answers no). Either
way ``on_gone`` runs once, in a thread of its own (a signal handler may interrupt the
desk in the middle of a write to its store; a thread waits for that write to end), then
the process exits with 129 (128 + SIGHUP) without touching the terminal, since there is
none to restore. A stuck ``on_gone`` cannot keep it alive longer than ``bound_s``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

EXIT_CODE = 128 + signal.SIGHUP


class TerminalWatch:
    """Started by ``watch_terminal``; ``gone`` runs the ending once."""

    def __init__(self, on_gone: Callable[[], None], *, fd: int, every_s: float, bound_s: float,
                 exit: Callable[[int], None] = os._exit) -> None:
        self.on_gone = on_gone
        self.fd = fd
        self.every_s = every_s
        self.bound_s = bound_s
        self._exit = exit
        self._once = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> TerminalWatch:
        signal.signal(signal.SIGHUP, self._hangup)
        threading.Thread(target=self._watch, name="terminal-watch", daemon=True).start()
        return self

    def stop(self) -> None:
        """The desk ended as asked: stop watching (the terminal is restored as it closes)."""
        self._stop.set()
        signal.signal(signal.SIGHUP, signal.SIG_DFL)

    def _hangup(self, signum: int, frame: object) -> None:
        self.gone()

    def _watch(self) -> None:
        while not self._stop.wait(self.every_s):
            if not os.isatty(self.fd):
                self.gone()
                return

    def gone(self) -> None:
        if self._stop.is_set() or not self._once.acquire(blocking=False):
            return
        threading.Thread(target=self._end, name="terminal-gone", daemon=True).start()

    def _end(self) -> None:
        timer = threading.Timer(self.bound_s, self._exit, args=(EXIT_CODE,))
        timer.daemon = True
        timer.start()
        try:
            self.on_gone()
        except BaseException:  # noqa: BLE001 - the process ends either way; nobody is there to tell
            pass
        finally:
            self._exit(EXIT_CODE)


def watch_terminal(on_gone: Callable[[], None], *, fd: int | None = None, every_s: float = 2.0,
                   bound_s: float = 8.0) -> TerminalWatch | None:
    """Watch the desk's terminal (standard input's, by default): None when there is none
    to watch (the desk is not on a terminal, or not on the main thread)."""
    if fd is None:
        stream = sys.__stdin__
        if stream is None:
            return None
        fd = stream.fileno()
    if not os.isatty(fd) or threading.current_thread() is not threading.main_thread():
        return None
    return TerminalWatch(on_gone, fd=fd, every_s=every_s, bound_s=bound_s).start()
