"""Helpers for the console-script tests: running ``collectdesk`` as a child
process and waiting for servers to answer or go away."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ENV_KEYS = ("COLLECTDESK_DB", "COLLECTDESK_SERVER", "COLLECTDESK_UCI_CSV", "COLLECTDESK_LANG",
            "COLLECTDESK_LOW_BANDWIDTH", "COLLECTDESK_DEBUG")


@dataclass
class Run:
    code: int
    out: str
    err: str


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env.update(extra)
    return env


def run_child(*args: str, input: str | None = None, timeout: float = 60, **env: str) -> Run:
    """``python -m collectdesk ARGS`` in a child process."""
    done = subprocess.run([sys.executable, "-m", "collectdesk", *args], input=input, capture_output=True, text=True,
                          timeout=timeout, env=child_env(**env))
    return Run(done.returncode, done.stdout, done.stderr)


def wait_healthy(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}")
        try:
            response = httpx.get(f"{url}/healthz", timeout=2.0)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}/healthz did not answer within {timeout} s")
        time.sleep(0.1)


def refuses_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=2.0)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        return False
    return False


def wait_gone(pid: int, timeout: float = 15.0) -> bool:
    """True once no process ``pid`` is running (a zombie left by a dead parent counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        stat = Path(f"/proc/{pid}/stat")
        try:
            if stat.read_text().split(") ", 1)[1].startswith("Z"):
                return True
        except (OSError, IndexError):
            pass
        time.sleep(0.1)
    return False
