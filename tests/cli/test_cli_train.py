"""``collectdesk train`` (issue 7): a sandbox made afresh for each run, the
scenarios' accounts for the trainee, an embedded backend, and the desk in
trainer mode (a stand-in here, which signs in as the real one would)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


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
