"""The compliance engine (SPEC §5): pure rules over policies (``policy``) and the
facts of an account and its contacts (``engine``); no I/O."""
