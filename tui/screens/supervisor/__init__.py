"""The supervisor's desk: the team overview, approvals, breaches, assigning, segments and reports."""
