"""The HTTP layer: thin routers (``routes``, ``escalations``, ``reports``, ``segments``,
``collab``), their dependencies (``deps``), idempotent writes (``idempotent``), the one
owner of a request's transaction (``unit_of_work``: each route commits when its endpoint
returns, rolls back when it raises) and the one place a domain refusal becomes a problem
answer (``errors``).

Why a ``GET`` writes (the one place this is said, issue 16 item 2). Three things, each a
short write beside the read, and nothing the client asked to change:

- **The audit of a view.** Every view of personal data is recorded (who saw which
  account, timeline, plan, report, document), in the same transaction as the read (the
  request's unit of work), so that nothing is shown that is not recorded.
- **The session's last use.** The token check notes when a token was last used (at most
  once per ``session_touch_seconds``), for the idle expiry; it ends its own transaction
  before the route runs (``deps.get_current_token``).
- **Stored answers that lapsed.** The worklist, the next account and the team overview
  first evaluate again the accounts whose stored phone answer has lapsed
  (``services.ranking.refresh_due``, a bounded batch), so that a list read now ranks by
  what the law allows now; the background loop does the same for the rest.

Everything else a ``GET`` does only reads.
"""
