"""``python -m collectdesk.cli.sandbox CLOCK_FILE serve ...``: ``collectdesk serve`` with
the backend's clock read from a training sandbox's clock file (``collectdesk train``
starts it so, as ``SandboxBackend``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def install_sandbox_clock(clock: Any, *, setattr: Any = setattr) -> None:  # noqa: A002 - monkeypatch's in tests
    """The backend in this process reads the sandbox's clock: ``utcnow`` replaced where
    its modules imported it (only ever in a sandbox's own process, or a test's)."""
    import backend.app  # noqa: F401 - every module that imports utcnow, before replacing it
    import backend.models

    current = backend.models.utcnow

    def sandbox_now() -> Any:
        return clock()

    for name, module in list(sys.modules.items()):
        if (name == "backend" or name.startswith("backend.")) and getattr(module, "utcnow", None) is current:
            setattr(module, "utcnow", sandbox_now)


def serve_sandbox(argv: list[str]) -> int:
    """``CLOCK_FILE serve ...``: ``collectdesk serve`` on the sandbox's clock."""
    from collectdesk.cli.entry import main
    from tui.training.clock import SandboxClock

    install_sandbox_clock(SandboxClock(Path(argv[0])))
    return main(argv[1:])


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python -m collectdesk.cli.sandbox CLOCK_FILE serve ...")
    sys.exit(serve_sandbox(sys.argv[1:]))
