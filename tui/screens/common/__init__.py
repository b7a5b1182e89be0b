"""What the desk's screens share: the screen bases, signing in, the keys, shared notes, deciding in a queue."""
