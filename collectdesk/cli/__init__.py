"""The ``collectdesk`` console script (SPEC §2), one module per command group:

- ``entry``: the parser and the dispatch (``main``);
- ``runtime``: what the commands share (errors, the database, the acting user, the
  desk and the embedded backend they start);
- ``options``: argument types and shared options;
- ``desk`` (demo, desk, serve), ``data`` (db, seed, user, import, score, sweep,
  rescore), ``reports`` (report …), ``train`` (train), ``sandbox`` (a training
  sandbox's backend process).

Every module imports only the standard library at import time; each command imports
what it needs when it runs, so ``collectdesk desk`` never imports the backend and
``--help`` is instant. Nothing here imports ``entry`` but this package and
``sandbox``, and this package imports nothing: no import circle.
"""
