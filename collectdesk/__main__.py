"""``python -m collectdesk`` (how the desk starts its embedded backend)."""

import sys

from collectdesk.cli import main

sys.exit(main())
