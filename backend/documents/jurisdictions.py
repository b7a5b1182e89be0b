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


OTHER = Jurisdiction("", "en", None)


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Jurisdiction]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    by_country: dict[str, Jurisdiction] = {}
    for code, entry in data.get("jurisdictions", {}).items():
        lang = entry.get("lang", "en")
        if lang not in LANGS:
            raise ValueError(f"{path}: [jurisdictions.{code}] lang {lang!r} is not one of {', '.join(LANGS)}")
        contact = "\n".join(line.strip() for line in str(entry.get("contact", "")).splitlines() if line.strip())
        for country in entry.get("countries", []):
            by_country[str(country).upper()] = Jurisdiction(code, lang, contact or None)
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


def bank_contact(place: Jurisdiction, default: str) -> str:
    """The bank's address and contact as a letter to that jurisdiction gives it."""
    return place.contact or default
