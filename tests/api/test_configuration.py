"""The reloadable configuration (``backend.services.configuration``): policies, strategies
and authority read and checked as one whole, a bad file refused whole with its name, and
the supervisor's checked copies (``Snapshots``) that every worker reads. The processes
themselves: ``tests/cli/test_serve_supervised.py``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.services import configuration
from backend.services.configuration import ConfigurationError, Snapshots
from config import CONFIG_DIR


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "config"
    target.mkdir()
    shutil.copytree(CONFIG_DIR / "policies", target / "policies")
    shutil.copytree(CONFIG_DIR / "strategies", target / "strategies")
    shutil.copy(CONFIG_DIR / "authority.toml", target / "authority.toml")
    yield target
    configuration.configure(None)  # the package's own again, for the tests after


def _narrow_window(folder: Path) -> None:
    default = folder / "policies" / "default.toml"
    default.write_text(default.read_text().replace('start = "08:00"', 'start = "09:00"'))


def test_the_configuration_is_read_whole_and_its_digest_is_its_files(folder: Path) -> None:
    conf = configuration.read(folder)
    assert "default" in conf.policies and conf.authority.limits_for("agent") is not None
    assert conf.digest == configuration.read(CONFIG_DIR).digest  # the same files, the same digest
    _narrow_window(folder)
    assert configuration.read(folder).digest != conf.digest


@pytest.mark.parametrize(("break_it", "said"), [
    (lambda f: (f / "policies" / "us-ma.toml").write_text("id = 'us-ma'\n[hours\n"), "us-ma.toml"),
    (lambda f: (f / "strategies" / "champion.toml").write_text("contactable_now = 1\n"), "champion.toml"),
    (lambda f: (f / "authority.toml").write_text("[roles.agent]\nmax_term_months = 6\n"),
     "authority.toml: max_discount_percent is missing"),
    (lambda f: (f / "authority.toml").write_text("grace_days = 3\n"), "authority.toml: roles.agent is missing"),
    (lambda f: shutil.rmtree(f / "strategies"), "strategies: missing"),
])
def test_a_file_that_cannot_be_used_is_refused_naming_it(folder: Path, break_it, said: str) -> None:  # noqa: ANN001
    break_it(folder)
    with pytest.raises(ConfigurationError, match=said):
        configuration.read(folder)


def test_refresh_takes_a_good_change_whole_and_refuses_a_bad_one(folder: Path) -> None:
    before = configuration.configure(folder)
    assert configuration.refresh() is None  # nothing changed
    (folder / "policies" / "default.toml").write_text("id = 'default'\n[hours]\nstart = 'late'\n")
    assert configuration.refresh() is None
    assert configuration.current() is before  # the old one stays, whole
    shutil.copy(CONFIG_DIR / "policies" / "default.toml", folder / "policies" / "default.toml")
    _narrow_window(folder)
    after = configuration.refresh()
    assert after is not None and configuration.current() is after and after.digest != before.digest
    assert after.policies["default"].hours != before.policies["default"].hours


def test_snapshots_point_current_at_a_checked_copy_and_keep_it_when_the_next_is_bad(folder: Path,
                                                                                    tmp_path: Path) -> None:
    snapshots = Snapshots(folder, tmp_path / "snapshots")
    snapshots.root.mkdir()
    first = snapshots.install()
    assert first is not None and snapshots.current.resolve() == (snapshots.root / "gen-1").resolve()
    assert snapshots.install() is None  # unchanged: no new generation
    (folder / "authority.toml").write_text("not toml [")
    with pytest.raises(ConfigurationError) as refused:
        snapshots.install()
    assert str(folder / "authority.toml") in str(refused.value)  # the operator's file, not the copy
    assert snapshots.current.resolve() == (snapshots.root / "gen-1").resolve()
    assert configuration.read(snapshots.current.resolve()).digest == first.digest
    shutil.copy(CONFIG_DIR / "authority.toml", folder / "authority.toml")
    _narrow_window(folder)
    second = snapshots.install()
    assert second is not None and second.digest != first.digest
    assert configuration.read(snapshots.current.resolve()).digest == second.digest
