"""Escalating an account, and the inbox of escalations waiting for a decision."""
