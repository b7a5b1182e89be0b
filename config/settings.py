"""Settings (pydantic-settings): environment variables ``COLLECTDESK_*`` and
the desk's config file. The default policy files live beside this module."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

CONFIG_DIR = Path(__file__).parent


def data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("collectdesk", appauthor=False)


def config_dir() -> Path:
    from platformdirs import user_config_path

    return user_config_path("collectdesk", appauthor=False)


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'collectdesk.db'}"


class BackendSettings(BaseSettings):
    """The backend's settings; ``COLLECTDESK_DB`` names the database."""

    model_config = SettingsConfigDict(env_prefix="COLLECTDESK_", extra="ignore")

    db: str = Field(default_factory=default_db_url)
    token_ttl_hours: float = 12.0
    lease_minutes: int = 15
    idempotency_hours: int = 24
    default_country: str = "US"
    policies: list[str] = ["default"]
    """Policies every account is held to whatever its jurisdiction (ids in config/policies)."""
    bank_name: str = "Collectdesk Demo Bank"
    bank_contact: str = "Customer care: +1 800 555 0100 · care@bank.example · 1 Bank Plaza, New York, NY"
    """Who letters come from (plan confirmations, demand letters)."""
    recheck_seconds: float = 30.0
    """How often the backend evaluates again the accounts whose contactability has lapsed
    (a call window opened or closed); 0 turns the loop off (the worklist still does it for its page)."""
    sweep_hours: float = 24.0
    """How often the backend runs the sweep (plan items and plans kept or broken, SPEC §2), the
    first time at start-up; 0 turns it off (``collectdesk sweep`` and each payment still run it)."""


class DeskSettings(BaseSettings):
    """The desk's settings: environment, then ``config.toml`` in the user's config dir.

    ``[keymap]`` in the file maps binding ids to keys (Textual's ``set_keymap``).
    """

    model_config = SettingsConfigDict(env_prefix="COLLECTDESK_", extra="ignore")

    server: str | None = None
    lang: str | None = None
    low_bandwidth: bool = False
    timeout_s: float = 10.0
    keymap: dict[str, str] = {}
    drafts_dir: Path | None = None

    @classmethod
    def load(cls, path: Path | None = None, **overrides: object) -> DeskSettings:
        import tomllib

        path = path or (config_dir() / "config.toml")
        values: dict[str, object] = {}
        if path.is_file():
            with path.open("rb") as fh:
                values.update(tomllib.load(fh))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
