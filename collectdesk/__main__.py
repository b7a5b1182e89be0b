"""``python -m collectdesk`` (how the desk starts its embedded backend)."""

import sys

from collectdesk.cli.entry import main

sys.exit(main())
