"""The embedded backend: a child ``collectdesk serve`` on a free loopback port.

Used by ``collectdesk desk`` when no server is configured and by
``collectdesk demo``. Only the standard library and httpx are imported here:
the desk's process never imports the backend.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ATTEMPTS = 3  # a free port can be taken between choosing it and the child binding it


class EmbeddedBackendError(Exception):
    """The embedded backend did not start; the message says why (with its log's end)."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class EmbeddedBackend:
    """``with EmbeddedBackend(db_url) as backend: use(backend.url)``.

    The child gets the database URL in its environment (never on its command
    line, where ``ps`` would show a password), writes its log to ``log_path``
    (a temporary file when none is given), and exits by itself if this process
    dies without stopping it.
    """

    def __init__(
        self,
        db_url: str,
        *,
        migrate: bool = True,
        log_path: Path | None = None,
        host: str = "127.0.0.1",
        timeout: float = 60.0,
        python: str = sys.executable,
    ) -> None:
        self.db_url = db_url
        self.migrate = migrate
        self.log_path = log_path
        self.host = host
        self.timeout = timeout
        self.python = python
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise EmbeddedBackendError("the embedded backend is not running")
        return f"http://{self.host}:{self.port}"

    def command(self, port: int) -> list[str]:
        cmd = [self.python, "-m", "collectdesk", "serve", "--host", self.host, "--port", str(port),
               "--exit-with-parent", str(os.getpid()), "--log-level", "warning"]
        if self.migrate:
            cmd.append("--migrate")
        return cmd

    def _open_log(self) -> IO[bytes]:
        if self.log_path is None:
            return tempfile.TemporaryFile()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return self.log_path.open("ab+")

    def _log_tail(self, limit: int = 1500) -> str:
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0, os.SEEK_END)
        size = self._log.tell()
        self._log.seek(max(0, size - limit))
        return self._log.read().decode("utf-8", "replace").strip()

    def start(self) -> str:
        """Start the child and wait until ``/healthz`` answers; returns the base URL."""
        import httpx

        env = dict(os.environ, COLLECTDESK_DB=self.db_url, PYTHONUNBUFFERED="1")
        for key in ("COLLECTDESK_TLS_CERTFILE", "COLLECTDESK_TLS_KEYFILE", "COLLECTDESK_TLS_KEYFILE_PASSWORD"):
            env.pop(key, None)  # a server's certificate set on this host: the embedded one is plain HTTP on loopback
        self._log = self._open_log()
        popen_extra: dict[str, object] = {}
        if os.name == "posix":
            # Its own session: a Ctrl-C at the terminal reaches only us, and we stop it in order.
            popen_extra["start_new_session"] = True
        else:  # pragma: no cover - Windows
            popen_extra["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        for attempt in range(1, ATTEMPTS + 1):
            port = free_port(self.host)
            self._log.write(f"--- collectdesk: starting the embedded backend on port {port}\n".encode())
            self._log.flush()
            mark = self._log.tell()
            self.process = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL, stdout=self._log,
                                            stderr=subprocess.STDOUT, env=env, **popen_extra)  # type: ignore[arg-type]
            deadline = time.monotonic() + self.timeout
            while True:
                code = self.process.poll()
                if code is not None:
                    self._log.seek(mark)
                    said = self._log.read().decode("utf-8", "replace")
                    if "address already in use" in said.lower() and attempt < ATTEMPTS:
                        break
                    tail = self._log_tail()
                    self.stop()
                    raise EmbeddedBackendError(f"the embedded backend stopped (exit code {code}):\n{tail}")
                try:
                    if httpx.get(f"http://{self.host}:{port}/healthz", timeout=2.0).status_code == 200:
                        self.port = port
                        return self.url
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    tail = self._log_tail()
                    self.stop()
                    raise EmbeddedBackendError(
                        f"the embedded backend did not answer within {self.timeout:.0f} s:\n{tail}")
                time.sleep(0.1)
        raise EmbeddedBackendError("no free loopback port for the embedded backend")  # pragma: no cover

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> int | None:
        """Stop the child (SIGTERM, then SIGKILL after ``timeout``); returns its exit code."""
        code = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            code = self.process.returncode
            self.process = None
        self.port = None
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> EmbeddedBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
