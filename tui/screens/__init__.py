"""The desk's screens, by feature: ``common`` (the bases and what every feature
shares), ``worklist``, ``account``, ``call``, ``plan``, ``escalation``,
``supervisor``, ``legal`` and ``training``. Screens open another feature's
screens through ``tui.navigation`` (``self.desk.nav``), never by importing them."""
