"""One translation function for every string the desk shows.

Messages are written in English in the code and looked up in the desk's gettext
catalog for its language (``tui/locales/<lang>/LC_MESSAGES/collectdesk.mo``,
compiled from the ``.po`` beside it; babel extracts the messages and compiles the
catalog: see ``babel.cfg``). English is the source language, so it needs no
catalog of its own. ``N_()`` marks a string for translation where it is defined
(class attributes such as key bindings) and ``_()`` translates it where it is shown.

The language comes from the settings (``--lang``), else the locale (``LC_ALL``,
``LC_MESSAGES``, ``LANG``), else English. Formatting of money and dates follows
``babel_locale()`` (see ``tui.fmt``).
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "collectdesk"
LANGUAGES = ("en", "zh_CN")
"""The desk's languages: English (the source) and Simplified Chinese."""

_state: dict[str, Any] = {"language": "en", "catalog": gettext.NullTranslations(), "babel": "en_US"}


def normalize(value: str | None) -> str | None:
    """``"zh_CN.UTF-8"``, ``"zh-cn"``, ``"zh"`` → ``"zh_CN"``; ``"en_GB"`` → ``"en"``;
    anything else (``C``, ``POSIX``, ``fr_FR``) → None."""
    if not value:
        return None
    base = value.split(".")[0].split("@")[0].replace("-", "_").strip()
    lower = base.lower()
    if lower == "zh" or lower.startswith("zh_"):
        return "zh_CN"
    if lower == "en" or lower.startswith("en_"):
        return "en"
    return None


def _environment_locale() -> str | None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return value
    return None


def detect_language(setting: str | None = None) -> str:
    """The desk's language: the setting if it names one, else the locale, else English."""
    return normalize(setting) or normalize(_environment_locale()) or "en"


def _babel_locale(language: str) -> str:
    """The babel locale for formatting: the environment's own when it speaks the
    desk's language (``en_GB`` dates for a British agent), else the language's default."""
    env = _environment_locale()
    if env and normalize(env) == language:
        base = env.split(".")[0].split("@")[0].replace("-", "_")
        if "_" in base and language == "en":
            return base
    return "zh_CN" if language == "zh_CN" else "en_US"


def load_catalog(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: none, every message is itself)."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALES_DIR, [language])


def set_language(setting: str | None) -> str:
    """Switch the desk's language (from a setting, or the locale); returns it."""
    language = detect_language(setting)
    _state["catalog"] = load_catalog(language)
    _state["language"] = language
    _state["babel"] = _babel_locale(language)
    return language


def language() -> str:
    return _state["language"]


def babel_locale() -> str:
    return _state["babel"]


def _(message: str) -> str:
    """Translate ``message`` (English) into the desk's language."""
    return _state["catalog"].gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for translation without translating it yet."""
    return message
