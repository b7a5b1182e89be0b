"""Where the desk saves the files it fetches: legal packs (and, beside them, letter runs)."""

from __future__ import annotations

from pathlib import Path


def pack_dir(desk_drafts_dir: Path | None) -> Path:
    """Where legal packs are saved: beside the drafts, in the user's data directory."""
    if desk_drafts_dir is not None:
        return Path(desk_drafts_dir).parent / "legal-packs"
    from config.settings import data_dir

    return data_dir() / "legal-packs"
