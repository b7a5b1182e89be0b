"""Run in a venv with only ``collectdesk[desk]`` installed (issue 16 item 8): the backend's
packages are absent, and the desk still signs in to a running backend, shows the
worklist and opens an account, as ``collectdesk desk --server URL`` would (headless
here, at 80x24).

    python .ci/desk_only_check.py http://127.0.0.1:PORT
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys

ABSENT = ("fastapi", "sqlalchemy", "psycopg", "reportlab", "faker", "uvicorn", "alembic")


async def main(url: str) -> int:
    present = [name for name in ABSENT if importlib.util.find_spec(name) is not None]
    if present:
        print(f"desk-only: the backend's packages are installed: {present}", file=sys.stderr)
        return 1
    from tui import i18n

    if i18n.load_catalog("zh_CN").gettext("Quit") == "Quit":
        print("desk-only: the installed desk has no compiled Chinese catalog", file=sys.stderr)
        return 1
    from config.settings import DeskSettings
    from tui.app import CollectDesk
    from tui.screens.worklist.worklist import WorklistScreen

    app = CollectDesk(DeskSettings(server=url), username="agent1", password="agent1")
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            await pilot.pause(0.05)
            if isinstance(app.screen, WorklistScreen) and app.screen.query("DataTable").first().row_count:
                break
        else:
            print(f"desk-only: no worklist after 10 s (screen {type(app.screen).__name__})", file=sys.stderr)
            return 1
        rows = app.screen.query("DataTable").first().row_count
        heavy = sorted({m.split(".")[0] for m in sys.modules} & {"backend", *ABSENT})
        if heavy:
            print(f"desk-only: the desk imported {heavy}", file=sys.stderr)
            return 1
    print(f"desk-only: signed in as agent1 at {url}, worklist of {rows} rows; no backend package installed or imported")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
