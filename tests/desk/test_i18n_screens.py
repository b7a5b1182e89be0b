"""No English left in the Chinese desk (issue 17 item 2).

The main screens are driven with Pilot at 80×24 in ``zh_CN`` as agent1, super1,
legal1 and trainer1, on data that fills them (a promise on the timeline, a
settlement waiting for approval, an escalation for the supervisor, a legal
referral, scorecard reasons from a statement history), and what the terminal
shows is read through the compositor (``screen_text``). Every Latin word left
must be on ``ALLOWED``: codes, names and symbols that stay as they are in a
Chinese desk. The help screen and the command palette are read too.

Run it alone to see the words: ``pytest tests/desk/test_i18n_screens.py -s``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from backend_client.models import ContactCreate, EscalationCreate, PlanCreate, PromiseIn
from tests.desk.conftest import NOW, screen_text, settle
from tui.labels import OUTCOMES, RESULTS

pytestmark = pytest.mark.desk

#: The Latin words a Chinese screen may show, each for a reason (keep it small).
ALLOWED: dict[str, str] = {
    # Codes, shown as they are typed, filed and reported; the Chinese name is beside them where
    # a code is chosen (the call form's "→ 本人接听（RPC）"), and in the timeline.
    **{code: "an outcome code: the call form's keys are labelled with it" for code in OUTCOMES},
    **{code: "a result code: the call form's keys are labelled with it" for code in RESULTS},
    "DPD": "days past due: the industry's column code",
    # Currency codes and symbols (ISO 4217; babel's zh_CN symbols US$, NT$, HK$).
    **{code: "an ISO 4217 currency code" for code in ("USD", "CNY", "TWD", "HKD", "JPY")},
    "US": "US$: babel's zh_CN symbol for the US dollar (and the ISO country code)",
    "NT": "NT$: babel's zh_CN symbol for the New Taiwan dollar",
    "HK": "HK$: babel's zh_CN symbol for the Hong Kong dollar",
    # Names a user types or reads on a keyboard or a file system.
    **{key: "a key's name (ctrl+p, shift+tab, esc), as on the keyboard" for key in ("ctrl", "shift", "tab", "esc",
                                                                                 "Esc", "enter", "space")},
    "config": "config.toml: the settings file's name, which the user edits",
    "toml": "config.toml: the settings file's name, which the user edits",
    "keymap": "[keymap]: the section the user writes in config.toml",
    **{name: "a file format's name, written so in Chinese too" for name in ("PDF", "CSV", "Markdown")},
    "collectdesk": "the product's name",
}

#: The test data: people's names, user names and an address are shown as recorded.
NAMES = {"Alice", "Moreno", "Bob", "Okafor", "Main", "St", "New", "York", "NY"}

WORD = re.compile(r"[A-Za-z]{2,}")

HISTORY = {"currency": "TWD", "limit": 200000, "status": [3, 2, 2, 1, 0, 0],
           "bill": [190000, 185000, 180000, 170000, 160000, 150000], "paid": [0, 1000, 0, 3000, 5000, 5000]}


def english(text: str, names: set[str] = NAMES) -> dict[str, str]:
    """Latin words of ``text`` not allowed, each with the line it is on."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        # e-mail addresses, account references (A-0001, L-0001) and user names (agent1, super1)
        cleaned = re.sub(r"\S+@\S+|\b[A-Z]-\d+\b|\b[a-z]+\d+\b", " ", line)
        for match in WORD.finditer(cleaned):
            word = match.group()
            cut = cleaned[match.end():match.end() + 1] == "…"  # a name cut to fit its column
            if word in ALLOWED or word in names or (cut and any(n.startswith(word) for n in names)):
                continue
            found.setdefault(word, line.strip())
    return found


@pytest.fixture
def filled(accounts, referrals, login, session) -> Callable:  # noqa: ANN001
    """Everything the screens show: returns when made."""
    from backend.models import Account
    from backend.services.ranking import refresh_priority

    async def _make() -> None:
        first, second, third = accounts()
        ready, _lacking = referrals()
        for account in (first, second, third):
            row = session.get(Account, account.id)
            row.history = dict(HISTORY)
            session.flush()
            refresh_priority(session, row, NOW)
        session.commit()
        agent = await login("agent1")
        await agent.log_contact(first.id, ContactCreate(
            channel="phone", outcome="RPC", result="PTP", reason="job_loss", identity_verified=True,
            disclosure_given=True, started_at=NOW - dt.timedelta(days=1), duration_s=312,
            ptp=PromiseIn(amount="200.00", date=dt.date(2026, 3, 13)), note="周五还款"))
        plan = await agent.draft_plan(second.id, PlanCreate(kind="settlement", discount_percent="20",
                                                            first_due=dt.date(2026, 3, 18)))
        await agent.plan_action(plan.id, "submit")
        await agent.escalate(second.id, EscalationCreate(kind="supervisor", reason="要求主管处理"))
        await agent.escalate(ready.id, EscalationCreate(kind="legal", reason="六次未接通"))

    return _make


async def _capture(pilot, name: str, out: dict[str, str]) -> None:  # noqa: ANN001
    await settle(pilot)
    out[name] = screen_text(pilot.app)


async def captures(make_desk, make_trainer) -> dict[str, str]:  # noqa: ANN001
    """The main screens' text in Chinese, by name."""
    out: dict[str, str] = {}
    desk = make_desk("agent1", lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await _capture(pilot, "worklist", out)
        await pilot.press("enter")
        await _capture(pilot, "account", out)
        await pilot.press("tab")
        await _capture(pilot, "timeline", out)
        await pilot.press("c")
        await _capture(pilot, "call", out)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        await pilot.press("s", *"20", "tab", *"2", "tab", "tab", *"+7")
        await _capture(pilot, "plan", out)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("question_mark")
        await _capture(pilot, "help", out)
        await pilot.press("escape")
        await settle(pilot)
        out["palette"] = "\n".join(c.title + " " + (c.help or "") for c in desk.get_system_commands(desk.screen))
    desk = make_desk("super1", lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await _capture(pilot, "supervisor overview", out)
        await pilot.press("a")
        await _capture(pilot, "approvals", out)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("x")
        await _capture(pilot, "escalations", out)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("r")
        await _capture(pilot, "reports", out)
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("s")
        await _capture(pilot, "assign", out)
    desk = make_desk("legal1", lang="zh_CN")
    async with desk.run_test(size=(80, 24)) as pilot:
        await _capture(pilot, "legal queue", out)
    trainer = make_trainer(lang="zh_CN")
    async with trainer.run_test(size=(80, 24)) as pilot:
        await _capture(pilot, "training", out)
    return out


@pytest.fixture
def make_trainer(switch, drafts: Path, tmp_path: Path) -> Callable:  # noqa: ANN001
    from tests.desk.test_training_desk import make_trainer as factory

    return factory.__wrapped__(switch, drafts, tmp_path)


async def test_no_english_in_the_chinese_screens(filled, make_desk, make_trainer) -> None:
    await filled()
    shown = await captures(make_desk, make_trainer)
    assert set(shown) >= {"worklist", "account", "timeline", "call", "plan", "help", "supervisor overview",
                          "approvals", "escalations", "legal queue", "training"}
    if os.environ.get("SHOW_CAPTURES"):  # to look at them: SHOW_CAPTURES=1 pytest … -s
        for name, text in shown.items():
            print(f"== {name}\n{text}")
    left = {name: english(text) for name, text in shown.items()}
    report = "\n".join(f"{name}: {word!r} in {line!r}" for name, words in left.items()
                       for word, line in words.items())
    print(report)
    print(sum(len(w) for w in left.values()), "English words")
    assert not any(left.values()), report
