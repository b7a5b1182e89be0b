"""The collectdesk desk (Textual)."""
