"""Whose rules a document follows: the customer's jurisdiction picks its language and
script, the rules it cites and the bank's office it names (``config/letters.toml``).

Mainland China: Simplified Chinese (``zh_CN``), mainland rules; Taiwan: Traditional
Chinese (``zh_TW``), Taiwan's rules; Hong Kong: Traditional Chinese (``zh_HK``), Hong
Kong's; any other country: English, the deployment's contact, no jurisdiction's rules.
The jurisdiction is the customer's country on record, as for the compliance policies.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from config import CONFIG_DIR

CONFIG_FILE = CONFIG_DIR / "letters.toml"
LANGS = ("en", "zh_CN", "zh_TW", "zh_HK")
"""The languages every document has a template in."""


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    """``CN``, ``TW``, ``HK``; ``""`` for every other country."""
    lang: str
    contact: str | None
    """The bank's local office, one item a line; None: the deployment's."""
    hours: str | None = None
    """When the bank's phone line answers, as a letter prints it; None: the file's own ``hours``."""


OTHER = Jurisdiction("", "en", None)


@lru_cache(maxsize=4)
def _read(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _text(value: object) -> str:
    return "\n".join(line.strip() for line in str(value or "").splitlines() if line.strip())


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Jurisdiction]:
    data = _read(path)
    by_country: dict[str, Jurisdiction] = {}
    for code, entry in data.get("jurisdictions", {}).items():
        lang = entry.get("lang", "en")
        if lang not in LANGS:
            raise ValueError(f"{path}: [jurisdictions.{code}] lang {lang!r} is not one of {', '.join(LANGS)}")
        contact, hours = _text(entry.get("contact")), _text(entry.get("hours"))
        for country in entry.get("countries", []):
            by_country[str(country).upper()] = Jurisdiction(code, lang, contact or None, hours or None)
    return by_country


def jurisdiction(country: str | None, path: Path = CONFIG_FILE) -> Jurisdiction:
    """The jurisdiction of a customer whose country on record is ``country``."""
    return _load(path).get((country or "").upper(), OTHER)


def document_lang(place: Jurisdiction, requested: str | None) -> str:
    """The language a document is made in: the jurisdiction's unless one is asked for. Chinese
    asked for a customer in mainland China, Taiwan or Hong Kong is that place's own script
    and template (a Taiwanese customer is never sent Simplified Chinese citing mainland rules)."""
    if not requested:
        return place.lang
    if requested.startswith("zh") and place.lang.startswith("zh"):
        return place.lang
    return requested


def bank_hours(place: Jurisdiction, path: Path = CONFIG_FILE) -> str:
    """When the bank's phone line answers, as a letter to that jurisdiction gives it (the
    file's top-level ``hours`` for a country in no jurisdiction, or one that names none)."""
    return place.hours or _text(_read(path).get("hours"))


def bank_contact(place: Jurisdiction, default: str) -> str:
    """The bank's address and contact as a letter to that jurisdiction gives it."""
    return place.contact or default
