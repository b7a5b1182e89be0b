"""``collectdesk train`` (issue 7): a sandbox made afresh for each run, the
scenarios' accounts for the trainee, an embedded backend, and the desk in
trainer mode (a stand-in here, which signs in as the real one would)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from collectdesk.cli import runtime


@pytest.fixture
def fake_training(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    import tui.training.desk as desk_module

    calls: list[dict] = []

    def run_training(settings, *, username, password, **kwargs) -> int:  # noqa: ANN001, ANN003
        record = {"settings": settings, "username": username, **kwargs}
        token = httpx.post(f"{settings.server}/api/v1/auth/login", json={"username": "trainee", "password": "trainee"},
                           timeout=10).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        record["accounts_seen"] = {
            sid: httpx.get(f"{settings.server}/api/v1/accounts/{aid}", headers=headers, timeout=10).json()
            for sid, aid in kwargs["accounts"].items()}
        record["trainer_login"] = httpx.post(f"{settings.server}/api/v1/auth/login",
                                             json={"username": username, "password": password}, timeout=10).status_code
        calls.append(record)
        return 0

    monkeypatch.setattr(desk_module, "run_training", run_training)
    monkeypatch.setattr(runtime, "need_terminal", lambda: None)  # the stand-in draws nothing, on no terminal
    return calls


def test_train_builds_a_fresh_sandbox_and_opens_the_scenario(cli, fake_training, tmp_path: Path) -> None:  # noqa: ANN001
    data_dir = tmp_path / "training"
    data_dir.mkdir()
    (data_dir / "sandbox.db").write_text("an old sandbox, to be replaced")
    run = cli("train", "third_party", "--practice", "--lang", "en", "--data-dir", str(data_dir))
    assert run.code == 0, run.err
    [call] = fake_training
    assert call["username"] == "trainee" and call["trainer_login"] == 200
    assert call["scenario"] == "third_party" and call["mode"] == "practice"
    assert call["results"] == data_dir.resolve() / "results"
    assert set(call["accounts"]) >= {"job_loss", "dispute", "third_party", "cease"}
    seen = call["accounts_seen"]["third_party"]
    assert seen["customer"]["name"] == "John Parker"
    assert (data_dir / "sandbox.db").stat().st_size > 10_000


def test_train_with_no_scenario_opens_the_trainers_screen_in_chinese(cli, fake_training, tmp_path: Path) -> None:  # noqa: ANN001
    run = cli("train", "--lang", "zh_CN", "--data-dir", str(tmp_path))
    assert run.code == 0, run.err
    [call] = fake_training
    assert call["username"] == "trainer1" and call["scenario"] is None
    assert call["accounts_seen"]["job_loss"]["customer"]["name"] == "王丽"


def test_an_unknown_scenario_is_one_line_naming_the_shipped_ones(cli, fake_training, tmp_path: Path) -> None:  # noqa: ANN001
    run = cli("train", "nope", "--data-dir", str(tmp_path))
    assert run.code == 1
    assert "no such scenario" in run.err and "job_loss" in run.err
    assert not fake_training


def test_the_sandbox_backend_judges_at_the_scenarios_instant_not_the_wall_clocks(cli, monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    """The sandbox backend is a child process whose clock is the sandbox's: a Shanghai
    customer's call logged at the scenario's instant (10:30 there) is a call now, within
    the lawful hours, whatever the time on this machine's clock."""
    import tui.training.desk as desk_module
    from tui.training.scenario import find

    seen: list[dict] = []

    def run_training(settings, *, username, password, accounts, sandbox_clock, **kwargs) -> int:  # noqa: ANN001, ANN003
        instant = find("job_loss", "zh_CN").instant
        sandbox_clock.pin(instant)  # as the desk does when the scenario opens
        token = httpx.post(f"{settings.server}/api/v1/auth/login", json={"username": "trainee", "password": "trainee"},
                           timeout=10).json()["access_token"]
        response = httpx.post(
            f"{settings.server}/api/v1/accounts/{accounts['job_loss']}/contacts",
            headers={"Authorization": f"Bearer {token}"}, timeout=10,
            json={"channel": "phone", "party": "debtor", "outcome": "RPC", "result": "PLAN", "reason": "job_loss",
                  "started_at": instant.isoformat(), "identity_verified": True, "disclosure_given": True})
        seen.append({"status": response.status_code, "body": response.json(), "user": username})
        return 0

    monkeypatch.setattr(desk_module, "run_training", run_training)
    monkeypatch.setattr(runtime, "need_terminal", lambda: None)
    run = cli("train", "job_loss", "--practice", "--lang", "zh_CN", "--data-dir", str(tmp_path))
    assert run.code == 0, run.err
    [answer] = seen
    assert answer["status"] == 201, answer
    assert answer["body"]["after_the_fact"] is False and answer["body"]["breach"] is False
    assert (tmp_path / "clock.json").exists()


def test_the_classroom_view_refuses_a_non_loopback_host_unless_asked(cli, fake_training, tmp_path: Path) -> None:  # noqa: ANN001
    run = cli("train", "--web", "--host", "0.0.0.0", "--data-dir", str(tmp_path))
    assert run.code == 1
    assert "0.0.0.0 is not a loopback address" in run.err and "--allow-remote" in run.err
    assert not fake_training and not (tmp_path / "sandbox.db").exists()


def test_the_classroom_view_serves_the_sandboxed_trainer_on_loopback(cli, fake_training, monkeypatch,  # noqa: ANN001
                                                                   tmp_path: Path) -> None:
    """What textual-serve is given: the same trainer command, with a sandbox of its own per browser session."""
    import shlex

    pytest.importorskip("textual_serve")
    import textual_serve.server

    served: list[dict] = []

    def serve(self, debug: bool = False) -> None:  # noqa: ANN001
        served.append({"command": self.command, "host": self.host, "port": self.port, "url": self.public_url})

    monkeypatch.setattr(textual_serve.server.Server, "serve", serve)
    run = cli("train", "dispute", "--practice", "--lang", "en", "--web", "--port", "8123", "--data-dir", str(tmp_path))
    assert run.code == 0, run.err
    [server] = served
    assert server["host"] == "127.0.0.1" and server["url"] == "http://127.0.0.1:8123"
    assert "http://127.0.0.1:8123" in run.err
    argv = shlex.split(server["command"])
    assert argv[1:4] == ["-m", "collectdesk", "train"]
    assert argv[4:] == ["dispute", "--practice", "--lang", "en", "--data-dir", str(tmp_path.resolve()),
                        "--private-sandbox"]
    assert not fake_training  # the parent builds no sandbox: each browser session does


def test_a_private_sandbox_is_a_fresh_directory_of_its_own_removed_at_the_end(cli, fake_training,  # noqa: ANN001
                                                                              tmp_path: Path) -> None:
    run = cli("train", "cease", "--demo", "--data-dir", str(tmp_path), "--private-sandbox")
    assert run.code == 0, run.err
    [call] = fake_training
    assert call["results"] == tmp_path.resolve() / "results"
    assert call["settings"].drafts_dir.parent.parent == tmp_path.resolve() / "sandboxes"
    assert list((tmp_path / "sandboxes").iterdir()) == []
    assert not (tmp_path / "sandbox.db").exists()
