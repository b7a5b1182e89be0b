"""Trainer mode (issue 7): scenarios, the scenario engine, and the trainer screens. Imported lazily."""
