"""Logging a call (a contact) on an account."""
