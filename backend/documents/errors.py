"""The one error of documents (its own module: the fonts raise it too)."""

from __future__ import annotations

from pathlib import Path


class LetterError(ValueError):
    """A letter cannot be rendered: its template is missing or broken (``path``
    names the file), or the data given cannot make a correct letter, or a font
    it needs is not installed (:class:`backend.documents.fonts.FontMissing`)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(f"{path}: {message}" if path is not None else message)
        self.path = path
        self.message = message
