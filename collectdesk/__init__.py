"""The ``collectdesk`` console script: argument parsing and dispatch (``cli``),
the embedded backend the desk starts (``embedded``), a progress bar."""
