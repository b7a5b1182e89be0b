"""The fonts a letter's PDF is set in, found on this machine and embedded in the PDF.

A letter may go to a court: its PDF must show the same glyphs wherever it is opened,
so every font is a TrueType font embedded as a subset (reportlab's ``TTFont``); none
of PDF's base-14 fonts nor of the CID fonts a viewer supplies. Two fonts:

- **Latin** (and everything else DejaVu has: Greek, Cyrillic, currency signs, the
  bullet): DejaVu Sans and DejaVu Sans Bold, Debian package ``fonts-dejavu-core``.
- **CJK** (Simplified and Traditional Chinese, Japanese kana, full-width
  punctuation): WenQuanYi Micro Hei, Debian package ``fonts-wqy-microhei`` (GBK and
  Big5, so mainland, Taiwan and Hong Kong letters alike). Its outlines are TrueType;
  reportlab cannot embed the CFF outlines of Noto CJK (``fonts-noto-cjk``), so that one
  is not a choice. WenQuanYi Zen Hei (``fonts-wqy-zenhei``) is taken when Micro Hei is
  not installed.

Each font is looked for at the paths below, the first found wins; an environment
variable names another file instead (``COLLECTDESK_FONT_SANS``,
``COLLECTDESK_FONT_SANS_BOLD``, ``COLLECTDESK_FONT_CJK``; a ``.ttc`` collection takes
``#N`` for its N-th font, ``…/wqy-microhei.ttc#0``). A font that is nowhere is a
:class:`FontMissing` naming the package to install. The CJK font is looked for only
when a letter has a character DejaVu lacks: an English letter needs DejaVu alone.

The same font files give the same PDF bytes (subset names are numbered, not random).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from backend.documents.errors import LetterError


class FontMissing(LetterError):
    """A font a letter needs is not installed: the message names the package."""


@dataclass(frozen=True)
class FontSpec:
    """Where one font may be: the environment variable that overrides, the paths looked
    at in order, the package that installs it."""

    name: str
    """The name registered with reportlab (and used in paragraph markup)."""
    env: str
    paths: tuple[str, ...]
    package: str
    role: str


SANS = FontSpec(
    "CollectdeskSans", "COLLECTDESK_FONT_SANS",
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",  # Debian, Ubuntu
     "/usr/share/fonts/TTF/DejaVuSans.ttf",  # Arch
     "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),  # Fedora
    "fonts-dejavu-core", "Latin text")
SANS_BOLD = FontSpec(
    "CollectdeskSans-Bold", "COLLECTDESK_FONT_SANS_BOLD",
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
     "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
     "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf"),
    "fonts-dejavu-core", "bold Latin text")
CJK = FontSpec(
    "CollectdeskCJK", "COLLECTDESK_FONT_CJK",
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc#0",  # Debian fonts-wqy-microhei
     "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc#0",  # Debian fonts-wqy-zenhei
     "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc#0"),  # Arch, Fedora
    "fonts-wqy-microhei", "Chinese text")


def _split(entry: str) -> tuple[Path, int]:
    path, _, index = entry.partition("#")
    try:
        return Path(path), int(index or 0)
    except ValueError:
        raise FontMissing(f"{entry!r}: a font collection's index after '#' must be a number") from None


def locate(spec: FontSpec) -> tuple[Path, int]:
    """The file (and, in a collection, the index) of ``spec``'s font on this machine."""
    override = os.environ.get(spec.env, "").strip()
    if override:
        path, index = _split(override)
        if not path.is_file():
            raise FontMissing(f"{spec.env}={override!r}: no such font file (the {spec.role} of letters' PDFs)")
        return path, index
    for entry in spec.paths:
        path, index = _split(entry)
        if path.is_file():
            return path, index
    looked = ", ".join(entry.partition("#")[0] for entry in spec.paths)
    raise FontMissing(
        f"no font for the {spec.role} of letters' PDFs: install the Debian package {spec.package} "
        f"(apt-get install {spec.package}) or set {spec.env} to a TrueType font file; looked in {looked}")


@lru_cache(maxsize=8)
def _registered(spec: FontSpec, path: str, index: int) -> frozenset[int]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    try:
        font = TTFont(spec.name, path, subfontIndex=index)
    except (TTFError, OSError) as exc:  # CFF outlines, a broken file
        raise FontMissing(f"{path}: cannot embed this font ({exc}); the {spec.role} needs a TrueType font, "
                          f"as the Debian package {spec.package} installs") from None
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def register(spec: FontSpec) -> frozenset[int]:
    """Register ``spec``'s font with reportlab (once per file) and give the code points it has."""
    path, index = locate(spec)
    return _registered(spec, str(path), index)


def register_family() -> frozenset[int]:
    """The Latin family (regular and bold; an italic is set upright, as DejaVu's oblique
    is not in ``fonts-dejavu-core``): what it covers."""
    from reportlab.lib.fonts import addMapping

    covered = register(SANS)
    register(SANS_BOLD)
    addMapping(SANS.name, 0, 0, SANS.name)
    addMapping(SANS.name, 1, 0, SANS_BOLD.name)
    addMapping(SANS.name, 0, 1, SANS.name)
    addMapping(SANS.name, 1, 1, SANS_BOLD.name)
    return covered


def register_cjk() -> frozenset[int]:
    """The CJK font (it has no bold nor italic: <b> in it stays regular)."""
    from reportlab.lib.fonts import addMapping

    covered = register(CJK)
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(CJK.name, bold, italic, CJK.name)
    return covered
