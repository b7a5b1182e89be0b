"""The agent's worklist."""
