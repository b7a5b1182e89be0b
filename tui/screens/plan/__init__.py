"""Drafting a promise or a payment plan."""
