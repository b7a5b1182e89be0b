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


CLOCK_ENV = "COLLECTDESK_SANDBOX_CLOCK"
"""The sandbox's clock file, for ``serve``'s workers (spawned processes: nothing patched in
the supervisor reaches them, so each installs the clock itself, in ``create_app``)."""


def create_app() -> Any:
    """The app factory ``serve``'s workers call in a sandbox: the backend's, on the sandbox's clock."""
    import os

    from backend.app import create_app as backend_app
    from tui.training.clock import SandboxClock

    install_sandbox_clock(SandboxClock(Path(os.environ[CLOCK_ENV])))
    return backend_app()


def serve_sandbox(argv: list[str]) -> int:
    """``CLOCK_FILE serve ...``: ``collectdesk serve`` on the sandbox's clock, in every worker."""
    import os

    from collectdesk.cli import desk
    from collectdesk.cli.entry import main

    os.environ[CLOCK_ENV] = str(Path(argv[0]).resolve())
    desk.APP_FACTORY = "collectdesk.cli.sandbox:create_app"
    return main(argv[1:])


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python -m collectdesk.cli.sandbox CLOCK_FILE serve ...")
    sys.exit(serve_sandbox(sys.argv[1:]))
