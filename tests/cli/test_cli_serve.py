"""``serve``, the embedded backend the desk starts and stops, and ``demo`` up to
the moment the desk opens. Servers run as child processes on free loopback
ports, and every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest
from cli_helpers import child_env, refuses_connections, run_child, wait_gone, wait_healthy

from collectdesk.embedded import EmbeddedBackend, EmbeddedBackendError, free_port

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.terminate()
        try:
            return proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait(15)


def test_serve_answers_healthz_and_stops_on_sigterm(migrated_url: str, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--db", migrated_url, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env())
    try:
        health = wait_healthy(f"http://127.0.0.1:{port}", proc=proc).json()
        assert health["status"] == "ok" and health["database"] == "sqlite"
    finally:
        code = _stop(proc)
    # A graceful shutdown; uvicorn then re-raises the signal, so the status may say SIGTERM.
    assert code in (0, -signal.SIGTERM)
    assert "Finished server process" in proc.stdout.read().decode()
    assert refuses_connections(f"http://127.0.0.1:{port}")


def test_serve_takes_the_database_from_the_environment_and_can_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--port", str(port), "--migrate"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env(COLLECTDESK_DB=url))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc=proc)
        # Migrated: a login is refused with a 401, not a missing table.
        login = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login", json={"username": "x", "password": "y"})
        assert login.status_code == 401
    finally:
        _stop(proc)


def test_serve_with_several_workers(migrated_url: str) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "serve", "--db", migrated_url, "--port", str(port),
                             "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env())
    try:
        wait_healthy(f"http://127.0.0.1:{port}", timeout=60, proc=proc)
    finally:
        assert _stop(proc) in (0, -signal.SIGTERM)


def test_serve_refuses_an_unmigrated_database_with_a_hint(sqlite_url: str) -> None:
    run = run_child("serve", "--db", sqlite_url, "--port", str(free_port()), timeout=60)
    assert run.code == 1
    assert "has no collectdesk tables yet (there is no file" in run.err
    assert f"; run: collectdesk db upgrade --db {sqlite_url}" in run.err
    assert "Traceback" not in run.err


# --------------------------------------------------------------------------
# The embedded backend


def test_embedded_backend_starts_migrates_and_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'embedded.db'}"
    log = tmp_path / "logs" / "backend.log"
    backend = EmbeddedBackend(url, log_path=log)
    base = backend.start()
    try:
        assert base.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base}/healthz").json()["database"] == "sqlite"
        assert backend.alive()
        pid = backend.process.pid
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"--migrate" in cmdline and b"serve" in cmdline
        assert url.encode() not in b" ".join(cmdline)  # the URL travels in the environment
    finally:
        code = backend.stop()
    assert code in (0, -signal.SIGTERM)
    assert not backend.alive() and wait_gone(pid)
    assert refuses_connections(base)
    assert "starting the embedded backend on port" in log.read_text()
    assert (tmp_path / "embedded.db").is_file()


def test_embedded_backend_as_a_context_manager(migrated_url: str) -> None:
    with EmbeddedBackend(migrated_url, migrate=False) as backend:
        base = backend.url
        wait_healthy(base, timeout=5)
    assert refuses_connections(base)
    with pytest.raises(EmbeddedBackendError):
        backend.url  # noqa: B018 - stopped: no URL


def test_embedded_backend_that_cannot_start_says_why(tmp_path: Path) -> None:
    backend = EmbeddedBackend("postgresql://nobody@127.0.0.1:1/nothing", timeout=30)
    with pytest.raises(EmbeddedBackendError) as info:
        backend.start()
    assert "stopped (exit code 1)" in str(info.value)
    assert "cannot reach the database" in str(info.value)
    assert not backend.alive()


def test_embedded_backend_exits_when_its_parent_dies(tmp_path: Path) -> None:
    """A desk killed outright (SIGKILL) leaves no server behind."""
    script = textwrap.dedent(f"""
        import sys, time
        from collectdesk.embedded import EmbeddedBackend
        backend = EmbeddedBackend({f"sqlite:///{tmp_path / 'orphan.db'}"!r})
        backend.start()
        print(backend.process.pid, backend.url, flush=True)
        time.sleep(120)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=child_env())
    try:
        line = parent.stdout.readline().split()
        assert len(line) == 2, "the parent did not start its backend"
        child_pid, base = int(line[0]), line[1]
        wait_healthy(base, timeout=10)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    assert wait_gone(child_pid, timeout=15), "the embedded backend outlived the desk"
    assert refuses_connections(base)


# --------------------------------------------------------------------------
# desk and demo, up to the desk


def test_desk_without_a_server_runs_on_an_embedded_backend(cli, fake_desk, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'local.db'}"
    monkeypatch.setenv("COLLECTDESK_DB", url)
    run = cli("desk", "--lang", "zh_CN", "--low-bandwidth")
    assert run.code == 0, run.err
    assert "no server configured; starting an embedded backend" in run.err
    assert "a new database has no users yet" in run.err
    [call] = fake_desk
    settings = call["settings"]
    assert settings.server.startswith("http://127.0.0.1:")
    assert (settings.lang, settings.low_bandwidth, call["username"]) == ("zh_CN", True, None)
    assert call["health"]["status"] == "ok"
    assert refuses_connections(settings.server)  # stopped when the desk closed
    assert (tmp_path / "xdg-data" / "collectdesk" / "embedded-backend.log").is_file()


def test_desk_stops_the_embedded_backend_when_the_desk_fails(cli, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import collectdesk.cli.runtime as cli_module

    seen = []

    def broken_desk(settings, **kw) -> int:  # noqa: ANN001
        seen.append(settings.server)
        raise RuntimeError("the desk fell over on 4539 8273 6150 4820")

    monkeypatch.setenv("COLLECTDESK_DB", f"sqlite:///{tmp_path / 'local.db'}")
    monkeypatch.setattr(cli_module, "desk_runner", lambda: broken_desk)
    run = cli("desk")
    assert run.code == 1
    assert "RuntimeError: the desk fell over on 453982******4820" in run.err and "Traceback" not in run.err
    assert refuses_connections(seen[0])


def test_demo_seeds_serves_and_opens_the_desk_as_agent1(cli, fake_desk, tmp_path: Path) -> None:  # noqa: ANN001
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    (data_dir / "demo.db").write_text("an old demo database, to be replaced")
    run = cli("demo", "--accounts", "120", "--lang", "zh_CN", "--data-dir", str(data_dir))
    assert run.code == 0, run.err
    [call] = fake_desk
    assert (call["username"], call["password"], call["login_status"]) == ("agent1", "agent1", 200)
    assert call["settings"].lang == "zh_CN"
    assert call["settings"].drafts_dir == data_dir.resolve() / "drafts"
    items = call["worklist"]["items"]
    assert items and all(item["agent"] == "agent1" for item in items)
    assert refuses_connections(call["settings"].server)
    assert "120 accounts on" in run.err
    assert (data_dir / "demo.db").stat().st_size > 100_000  # made afresh, and kept


def test_demo_in_a_temporary_directory_cleans_up(cli, fake_desk, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert cli("demo", "--accounts", "30").code == 0
    assert fake_desk[0]["login_status"] == 200
    assert not list(tmp_path.glob("collectdesk-demo-*"))


def test_demo_without_the_desk_serves_until_stopped(tmp_path: Path) -> None:
    """``collectdesk demo --no-desk`` end to end, as a user would run it, and as CI does: with no
    terminal at all (standard input /dev/null, output and error pipes), which only the desk needs."""
    proc = subprocess.Popen([sys.executable, "-m", "collectdesk", "demo", "--no-desk", "--accounts", "150"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(TMPDIR=str(tmp_path)))
    try:
        deadline = time.monotonic() + 120
        line = ""
        while not line.startswith("backend: "):
            assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else "slow"
            line = proc.stdout.readline()
        base = line.split()[1]
        token = httpx.post(f"{base}/api/v1/auth/login", json={"username": "agent1", "password": "agent1"}).json()
        worklist = httpx.get(f"{base}/api/v1/worklist", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert worklist.status_code == 200 and worklist.json()["items"]
        other = httpx.post(f"{base}/api/v1/auth/login", json={"username": "agent3", "password": "agent3"})
        assert other.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
    err = proc.stderr.read()
    assert code == 0, err
    assert "stopping the demo backend" in err
    assert refuses_connections(base)
    assert not list(tmp_path.glob("collectdesk-demo-*")), "the temporary demo directory was left behind"
