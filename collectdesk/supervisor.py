"""``collectdesk serve``'s parent process: uvicorn's worker supervisor, for one worker too.

uvicorn runs one worker in the process it was started in, and supervises only two or more
(``uvicorn.supervisors.Multiprocess``: a worker that dies, ``kill -9`` included, is replaced;
SIGTERM and SIGINT stop them all gracefully). ``collectdesk serve`` always supervises, so that
one worker or many behave alike: the same listening socket, bound by the parent
(``Config.bind_socket``), and the same path for every connection. That socket is created
with ``IPPROTO_TCP`` (uvicorn ≥ 0.55; it was 0 before, upstream issue 3149), so asyncio
sets ``TCP_NODELAY`` on every connection each worker accepts (``asyncio.base_events.
_set_nodelay`` only does it for sockets whose protocol is TCP): responses leave without
Nagle's delay, one worker or many. Keep-alive is uvicorn's ``timeout_keep_alive`` in every
worker alike (``serve --keep-alive``).

SIGHUP does not restart the workers here (uvicorn's own ``handle_hup``): it reloads the
configuration (``ConfigStore``), which every worker then takes without restarting.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from socket import socket

from uvicorn.config import Config
from uvicorn.supervisors.multiprocess import Multiprocess

log = logging.getLogger("uvicorn.error")

SUPERVISOR_ENV = "COLLECTDESK_SUPERVISOR_PID"
"""Set for the workers: their supervisor's process id (``backend.app`` stops a worker left without it)."""


class Supervisor(Multiprocess):
    """uvicorn's supervisor with SIGHUP calling ``on_hup`` (a reload of the configuration) and
    ``startup_failed`` telling whether it stopped because a worker could not start."""

    def __init__(self, config: Config, sockets: list[socket], on_hup: Callable[[], None] | None = None) -> None:
        super().__init__(config, sockets)
        self.on_hup = on_hup
        self.startup_failed = False
        os.environ[SUPERVISOR_ENV] = str(os.getpid())  # inherited by the workers it spawns

    def handle_hup(self) -> None:
        if self.on_hup is None:
            log.info("Received SIGHUP: nothing to reload")
            return
        log.info("Received SIGHUP, reloading the configuration")
        try:
            self.on_hup()
        except Exception:  # noqa: BLE001 - a failed reload must never stop the server
            log.exception("reloading the configuration failed; the old one stays")

    def keep_subprocess_alive(self) -> None:
        stopping = self.should_exit.is_set()
        super().keep_subprocess_alive()
        if not stopping and self.should_exit.is_set():
            self.startup_failed = True  # uvicorn stops when a replacement cannot start (STARTUP_FAILURE)
