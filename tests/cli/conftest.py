"""Fixtures for the console script: each test runs ``collectdesk`` against its
own SQLite file in ``tmp_path`` (never the shared test database, which other
tests expect to hold only what they create), in-process or as a child process.
Tests of the seed and import *services* use the shared ``session`` fixture,
so they also run on PostgreSQL under ``COLLECTDESK_TEST_DB``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cli_helpers import ENV_KEYS, Run

from collectdesk.cli.entry import main


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No collectdesk settings from the developer's environment, and the user's
    config and data directories inside the test's tmp_path."""
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def migrated_url(sqlite_url: str) -> str:
    from backend.db import upgrade

    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``cli("seed", "--accounts", "5")``: run the console script in this process."""

    def _run(*args: str) -> Run:
        capsys.readouterr()
        code = main(list(args))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return _run


@pytest.fixture
def fake_desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """Replace the desk by a stand-in that records how it was launched and signs
    in to the backend it was given (as the real desk would)."""
    import collectdesk.cli.runtime as cli_module

    calls: list[dict] = []

    def run_desk(settings, *, username=None, password=None) -> int:  # noqa: ANN001
        record: dict = {"settings": settings, "username": username, "password": password}
        record["health"] = httpx.get(f"{settings.server}/healthz", timeout=5).json()
        if username:
            login = httpx.post(f"{settings.server}/api/v1/auth/login", json={"username": username, "password": password},
                               timeout=10)
            record["login_status"] = login.status_code
            if login.status_code == 200:
                token = login.json()["access_token"]
                worklist = httpx.get(f"{settings.server}/api/v1/worklist", params={"limit": 5},
                                     headers={"Authorization": f"Bearer {token}"}, timeout=10)
                record["worklist"] = worklist.json()
        calls.append(record)
        return 0

    monkeypatch.setattr(cli_module, "desk_runner", lambda: run_desk)
    yield calls
