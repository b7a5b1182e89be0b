"""Training: the trainer's screen, a scenario's demo or practice, and the results."""
