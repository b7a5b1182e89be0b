"""The configuration that may change while the backend runs: the compliance policies
(``policies/*.toml``), the worklist strategies (``strategies/*.toml``) and the authority to
agree plans (``authority.toml``), read together from one folder (``COLLECTDESK_CONFIG_DIR``,
default the package's ``config/``) and used as one whole.

How it is reloaded (issue 19 item 3: the same way in every worker). ``collectdesk serve``'s
supervisor reads the folder, checks every file, and copies what it checked into a folder of
its own (``Snapshots``: ``gen-N``, and ``current`` a symbolic link to the newest); the workers
read that copy, never the operator's files. On SIGHUP the supervisor reads the folder again:
a file that cannot be used is refused whole (the old configuration stays, the error is
logged, nothing changes in any worker); a good one becomes the next ``gen-N`` and ``current``
is pointed at it at once. Each worker looks at ``current`` every ``config_check_seconds``
(``refresh``) and takes the new generation as one object. A worker started later (a
replacement for one killed) reads the same last good copy, never a half-edited file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from backend.compliance.policy import Policy, PolicyError, load_policies
from backend.domain.strategy import Split, StrategyError, load_split
from backend.services.authority import Authority, load_authority

log = logging.getLogger("collectdesk.config")

PARTS = ("policies", "strategies", "authority.toml")
"""What is read from the folder, and copied: two folders of TOML files and one file."""


class ConfigurationError(ValueError):
    """A configuration that cannot be used; ``str()`` names the file and what is wrong."""


@dataclass(frozen=True)
class Configuration:
    policies: dict[str, Policy]
    split: Split
    authority: Authority
    digest: str
    """A short hash of the files' names and bytes: the same in every worker serving them."""
    path: Path
    """The folder it was read from (for a snapshot, the generation's own folder)."""


def files_of(directory: Path) -> list[Path]:
    """The files that make up the configuration in ``directory`` (missing parts are refused on reading)."""
    found = []
    for part in PARTS:
        path = directory / part
        if part.endswith(".toml"):
            found.append(path)
        else:
            found.extend(sorted(path.glob("*.toml")))
    return found


def digest_of(directory: Path) -> str:
    sha = hashlib.sha256()
    for path in files_of(directory):
        sha.update(path.relative_to(directory).as_posix().encode() + b"\0")
        try:
            sha.update(path.read_bytes())
        except OSError:
            sha.update(b"\0missing")
        sha.update(b"\0")
    return sha.hexdigest()[:12]


def read(directory: Path) -> Configuration:
    """Every part read and checked, or ``ConfigurationError`` naming the first bad file."""
    directory = Path(directory)
    for part in PARTS:
        path = directory / part
        if not (path.is_file() if part.endswith(".toml") else path.is_dir()):
            raise ConfigurationError(f"{path}: missing (a configuration folder holds policies/, strategies/ "
                                     "and authority.toml)")
    try:
        policies = load_policies(directory / "policies")
    except (PolicyError, OSError) as exc:
        raise ConfigurationError(f"{directory / 'policies'}: {exc}") from None
    if not policies:
        raise ConfigurationError(f"{directory / 'policies'}: no policy files")
    try:
        split = load_split.__wrapped__(directory / "strategies")  # not the cache: read the files again
    except (StrategyError, OSError) as exc:
        raise ConfigurationError(str(exc)) from None
    authority_file = directory / "authority.toml"
    try:
        authority = load_authority.__wrapped__(authority_file)
    except Exception as exc:  # noqa: BLE001 - any unreadable value is the file's fault
        raise ConfigurationError(f"{authority_file}: {_why(exc)}") from None
    if authority.limits_for("agent") is None:
        raise ConfigurationError(f"{authority_file}: roles.agent is missing")
    return Configuration(policies, split, authority, digest_of(directory), directory)


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{exc.args[0]} is missing"
    return str(exc) or type(exc).__name__


# -- in each process: the configuration in use ------------------------------------------

_lock = threading.Lock()
_directory: Path | None = None
_current: Configuration | None = None
_refused: tuple[Path, str] | None = None


def configure(directory: Path | None) -> Configuration:
    """Read the configuration from ``directory`` (None: the package's ``config/``) and use it;
    ``ConfigurationError`` when it cannot be used (a process cannot start without one)."""
    global _directory, _current, _refused
    from config import CONFIG_DIR

    chosen = Path(directory).expanduser() if directory else CONFIG_DIR
    loaded = read(chosen.resolve())
    with _lock:
        _directory, _current, _refused = chosen, loaded, None
    return loaded


def current() -> Configuration:
    """The configuration in use (read at first use: ``COLLECTDESK_CONFIG_DIR``, else the package's)."""
    conf = _current
    if conf is None:
        from config.settings import BackendSettings

        conf = configure(BackendSettings().config_dir)
    return conf


def refresh() -> Configuration | None:
    """Take the configuration again if its folder now resolves elsewhere (the supervisor's
    ``current`` pointed at a new generation) or its files changed; the new one when taken,
    else None. One that cannot be used is refused whole and logged once: the old stays."""
    global _current, _refused
    conf = current()
    directory = _directory
    if directory is None:
        return None
    resolved = directory.resolve()
    if resolved == conf.path and digest_of(resolved) == conf.digest:
        return None
    if _refused is not None and _refused == (resolved, digest_of(resolved)):
        return None
    try:
        loaded = read(resolved)
    except ConfigurationError as exc:
        _refused = (resolved, digest_of(resolved))
        log.error("configuration refused in worker [%d], the old one (%s) stays: %s", os.getpid(), conf.digest, exc)
        return None
    with _lock:
        _current, _refused = loaded, None
    log.info("configuration %s in use in worker [%d] (was %s)", loaded.digest, os.getpid(), conf.digest)
    return loaded


# -- in the supervisor: the checked copies the workers read ------------------------------

KEEP_GENERATIONS = 3
"""Older copies are removed; a worker reading one just now is never more than a step behind."""


class Snapshots:
    """The supervisor's copies of ``source`` under ``root``: ``gen-N`` folders, each checked
    before it is used, and ``current``, a symbolic link to the newest (what workers read)."""

    def __init__(self, source: Path, root: Path) -> None:
        self.source = Path(source)
        self.root = Path(root)
        self.generation = 0
        self.digest: str | None = None

    @property
    def current(self) -> Path:
        return self.root / "current"

    def install(self) -> Configuration | None:
        """Copy the source, check the copy, and point ``current`` at it; None when nothing
        changed; ``ConfigurationError`` (and nothing changed) when the copy cannot be used."""
        if self.digest is not None and digest_of(self.source) == self.digest:
            return None
        self.generation += 1
        target = self.root / f"gen-{self.generation}"
        try:
            _copy(self.source, target)
            conf = read(target)
        except (ConfigurationError, OSError) as exc:
            shutil.rmtree(target, ignore_errors=True)
            if isinstance(exc, OSError) and not isinstance(exc, ConfigurationError):
                raise ConfigurationError(f"cannot copy the configuration from {self.source}: {exc}") from None
            raise ConfigurationError(str(exc).replace(str(target), str(self.source))) from None
        link = self.root / f".current-{self.generation}"
        link.symlink_to(target.name)
        os.replace(link, self.current)  # atomic: a worker sees the old generation or the new one
        self.digest = conf.digest
        for old in range(1, self.generation - KEEP_GENERATIONS + 1):
            shutil.rmtree(self.root / f"gen-{old}", ignore_errors=True)
        return conf

    def reload(self) -> Configuration | None:
        """``install`` for SIGHUP: a refusal is logged, never raised."""
        try:
            conf = self.install()
        except ConfigurationError as exc:
            log.error("configuration refused, the old one (%s) stays: %s", self.digest, exc)
            return None
        if conf is None:
            log.info("configuration unchanged (%s)", self.digest)
        else:
            log.info("configuration %s installed from %s; every worker takes it within seconds", conf.digest,
                     self.source)
        return conf


def _copy(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for path in files_of(source):
        if not path.exists():
            continue  # ``read`` names what is missing
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    for part in PARTS:  # an empty folder is still the folder: ``read`` says what it lacks
        if not part.endswith(".toml") and (source / part).is_dir():
            (target / part).mkdir(exist_ok=True)

