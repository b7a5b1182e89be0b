"""The wire contract and the async client: all the desk knows of the backend."""

import sys

if "httpx" not in sys.modules:
    # httpx imports its own command line (``httpx._main``: click, pygments' lexers, rich's
    # syntax, progress and tables) whenever click is installed, as it is beside the backend:
    # 3.3 MB and 50–90 ms of every desk's start for a command nobody here runs. A module set
    # to None is one that cannot be imported; httpx then defines a ``main`` that says so.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
