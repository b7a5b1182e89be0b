"""One account: its screen, and the small forms it opens on itself (a note, the time zone, phones, a handoff)."""
