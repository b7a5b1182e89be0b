"""Where the letters' fonts come from (backend/documents/fonts.py): the documented paths,
an environment override, and a clear error naming the package when a font is nowhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.documents import fonts
from backend.documents.fonts import CJK, FontMissing, FontSpec, locate
from backend.documents.jurisdictions import document_lang, jurisdiction


def test_a_missing_font_names_its_package_and_where_it_looked() -> None:
    nowhere = FontSpec("X", "COLLECTDESK_FONT_NOWHERE", ("/nonexistent/a.ttf", "/nonexistent/b.ttc#1"),
                       "fonts-wqy-microhei", "Chinese text")
    with pytest.raises(FontMissing) as caught:
        locate(nowhere)
    message = str(caught.value)
    assert "apt-get install fonts-wqy-microhei" in message and "COLLECTDESK_FONT_NOWHERE" in message
    assert "/nonexistent/a.ttf" in message and "/nonexistent/b.ttc" in message


def test_the_environment_names_another_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    font = tmp_path / "mine.ttc"
    font.write_bytes(b"")
    monkeypatch.setenv(CJK.env, f"{font}#2")
    assert locate(CJK) == (font, 2)
    monkeypatch.setenv(CJK.env, str(tmp_path / "gone.ttf"))
    with pytest.raises(FontMissing, match="COLLECTDESK_FONT_CJK=.*no such font file"):
        locate(CJK)


def test_a_font_reportlab_cannot_embed_is_refused_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"not a font at all")
    monkeypatch.setenv(CJK.env, str(broken))
    with pytest.raises(FontMissing, match="cannot embed this font.*TrueType"):
        fonts.register(CJK)


def test_cff_outlines_are_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    noto = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fonts-noto-cjk: CFF outlines
    if not noto.is_file():
        pytest.skip("fonts-noto-cjk is not installed")
    monkeypatch.setenv(CJK.env, f"{noto}#0")
    with pytest.raises(FontMissing, match="cannot embed this font"):
        fonts.register(CJK)


def test_the_jurisdiction_picks_the_language() -> None:
    assert [jurisdiction(c).lang for c in ("CN", "TW", "HK", "US", "GB", None)] == [
        "zh_CN", "zh_TW", "zh_HK", "en", "en", "en"]
    taiwan = jurisdiction("tw")
    # Chinese asked for a Taiwanese customer is Taiwan's script and rules, never the mainland's.
    assert [document_lang(taiwan, asked) for asked in (None, "zh_CN", "zh_HK", "en")] == [
        "zh_TW", "zh_TW", "zh_TW", "en"]
    assert document_lang(jurisdiction("US"), "zh_CN") == "zh_CN"
