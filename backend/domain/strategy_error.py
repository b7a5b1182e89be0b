"""The error of a strategy file that cannot be used, in a module of its own so that
both ``backend.domain.strategy`` and ``backend.domain.treatments`` (which the strategy
reads its steps with) raise it without importing each other."""


class StrategyError(ValueError):
    """A strategy file that cannot be used; ``str()`` names the file and the field."""
