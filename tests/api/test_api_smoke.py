from __future__ import annotations

from backend_client.client import NotFound, Unauthorized


async def test_login_me_and_worklist(login, make_account) -> None:
    account = make_account()
    api = await login("agent1")
    me = await api.me()
    assert (me.username, me.role, me.team) == ("agent1", "agent", "A")
    page = await api.worklist()
    assert [item.id for item in page.items] == [account.id]
    assert page.items[0].card == "•••• •••• •••• 1111"


async def test_wrong_password_is_401(transport) -> None:
    from backend_client.client import BackendClient

    api = BackendClient("http://backend", transport=transport)
    try:
        await api.login("agent1", "wrong")
    except Unauthorized as exc:
        assert exc.status == 401
    else:
        raise AssertionError("login with a wrong password succeeded")


async def test_other_team_is_404(login, make_account) -> None:
    account = make_account(team="A", agent="agent1")
    api = await login("agent3")
    try:
        await api.account(account.id)
    except NotFound:
        pass
    else:
        raise AssertionError("team B read a team A account")
