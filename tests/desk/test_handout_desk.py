"""Two desks pressing *next account* (issue 6, "Done when"): agent1 and their
supervisor, whose worklist is the whole team and so also agent1's accounts, work
side by side with `n` and `ctrl+n` and never have the same account on screen; an
account left with `escape` is let go at once for the other to take."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from backend.models import Account, User
from tests.desk.conftest import NOW, settle

pytestmark = pytest.mark.desk


def _holders(session) -> dict[str, int]:  # noqa: ANN001
    session.expire_all()
    rows = session.execute(select(User.username, Account.id).join(User, User.id == Account.lease_user_id)).all()
    return {name: account_id for name, account_id in rows}


def _on_screen(desk) -> int | None:  # noqa: ANN001
    detail = getattr(desk.screen, "detail", None)
    return detail.id if type(desk.screen).__name__ == "AccountScreen" and detail is not None else None


async def _save_and_next(desk, pilot) -> None:  # noqa: ANN001
    await pilot.press("c")  # log a call
    await settle(pilot)
    assert type(desk.screen).__name__ == "CallScreen"
    await pilot.press("2", "ctrl+n")  # no answer; save and open the next account
    await settle(pilot)


async def test_two_desks_pressing_next_never_share_an_account(make_desk, make_account, session) -> None:  # noqa: ANN001
    made = [make_account(account_ref=f"H-{n:04d}", customer_name=f"Holder {n}", dpd=150 - 10 * n,
                         overdue=f"{900 - 50 * n}.00", phones=[f"+1212555{n:04d}"]) for n in range(8)]
    ids = {a.id for a in made}
    agent, supervisor = make_desk("agent1"), make_desk("super1")
    async with agent.run_test(size=(80, 24)) as pa, supervisor.run_test(size=(80, 24)) as ps:
        await settle(pa)
        await settle(ps)
        assert type(agent.screen).__name__ == type(supervisor.screen).__name__ == "WorklistScreen"
        await pa.press("n")
        await settle(pa)
        await ps.press("n")
        await settle(ps)
        seen: list[tuple[int, int]] = []
        for turn in range(10):
            a, s = _on_screen(agent), _on_screen(supervisor)
            assert a in ids and s in ids, (turn, a, s)
            assert a != s, f"turn {turn}: both desks on account {a}"
            # The backend agrees: each holds exactly the account on its screen.
            assert _holders(session) == {"agent1": a, "super1": s}, turn
            seen.append((a, s))
            desk, pilot = (agent, pa) if turn % 2 == 0 else (supervisor, ps)
            await _save_and_next(desk, pilot)
        # They worked their way through the accounts, not round one pair.
        assert len({a for pair in seen for a in pair}) >= 6

        # Escape from a leased account lets go of it now: the other desk is handed it
        # next (made the team's top account, so nothing else would be).
        left = _on_screen(agent)
        session.execute(update(Account).where(Account.id == left).values(priority=10**9,
                                                                             recheck_at=NOW + dt.timedelta(days=1)))
        session.commit()
        await pa.press("escape")
        await settle(pa)
        assert type(agent.screen).__name__ == "WorklistScreen"
        assert "agent1" not in _holders(session)
        await _save_and_next(supervisor, ps)
        assert _on_screen(supervisor) == left
