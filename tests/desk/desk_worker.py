"""One desk process of ``test_many_desks.py``: saves contacts and notes the way
the desk's forms do, through the desk's own store and send path.

For each item it types a draft (``Drafts.put``, a keystroke at a time), keeps
the saved contact or note in the outbox with its idempotency key
(``Outbox.add``, as ``CollectDesk.queue``), drops the draft, and sends it at
once (``tui.sending.deliver``, as ``CollectDesk.deliver``); what the backend did
not answer stays, and goes out with the outbox (``tui.sending.send_pending``,
as ``CollectDesk.send_unsent``) once the backend answers again. At the end it
sends until the outbox of the user is empty, whoever kept the entries.

Besides, it keeps a draft of its own that it never saves (``plan.w<N>``),
rewritten with every item: the test checks the last one is there.

Prints one line of JSON: what it sent at once, what it kept for later, and what
the backend refused (nothing should be).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx

from backend_client.client import BackendClient, BackendUnavailable, ProblemResponse, TooManyRequests
from tui import sending
from tui.store import Drafts, Outbox, OutboxEntry, Store

USER = "agent1"


async def run(args: argparse.Namespace) -> dict:
    store = Store(Path(args.drafts))
    outbox, drafts = Outbox(store), Drafts(store)
    api = BackendClient(args.server, timeout=5.0)
    server = api.base_url
    accounts = [int(a) for a in args.accounts.split(",")]
    report = {"at_once": 0, "kept": 0, "taken": 0, "sent_later": 0, "answers_lost": 0, "refused": []}
    signed_in = False

    async def sign_in() -> bool:
        nonlocal signed_in
        if not signed_in:
            try:
                await api.login(USER, USER)
                signed_in = True
            except BackendUnavailable:
                pass
            except TooManyRequests:
                # Sign-ins cut off by a killed backend (or ten at once) count until one
                # succeeds: wait as told, as the desk does, and try again.
                await asyncio.sleep(1.0)
        return signed_in

    async def call(request: Awaitable[Any]) -> Any:
        """Each send as the desk makes it; counts the answers lost after the request went out."""
        try:
            return await request
        except BackendUnavailable as exc:
            if not isinstance(exc.__cause__, httpx.ConnectError):
                report["answers_lost"] += 1
            raise

    def refused(entry: OutboxEntry, exc: ProblemResponse) -> None:
        report["refused"].append(f"{entry.body}: {exc}")
        form = "call" if entry.kind == "contact" else "note"
        outbox.refuse_into_draft(entry.key, str(exc), Drafts.key(server, USER, entry.account_id, form))

    async def send_unsent() -> None:
        if await sign_in():
            report["sent_later"] += await sending.send_pending(api, outbox, server, USER, refused=refused, call=call)

    Path(args.ready).touch()
    while not Path(args.go).exists():
        await asyncio.sleep(0.01)
    await sign_in()
    lasting = Drafts.key(server, USER, accounts[0], f"plan.w{args.me}")
    for i in range(args.items):
        account = accounts[(args.me * 3 + i) % len(accounts)]
        marker = f"{args.run}:{args.me}:{i}"
        contact = i % 2 == 0
        form = Drafts.key(server, USER, account, f"{'call' if contact else 'note'}.w{args.me}")
        for n in range(1, len(marker) + 1, 4):  # typing
            drafts.put(form, {"note" if contact else "text": marker[:n]})
        drafts.put(lasting, {"amount": str(i)})
        if contact:
            body = {"channel": "phone", "direction": "inbound", "party": "debtor", "outcome": "VM", "note": marker}
        else:
            body = {"text": marker, "visibility": "team"}
        # Saved: kept first (as CollectDesk.queue), the draft dropped, then sent (as CollectDesk.deliver).
        entry = outbox.add("contact" if contact else "note", server=server, user=USER, account_id=account,
                           account_ref=str(account), body=body, draft={"text": marker})
        drafts.drop(form)
        if not await sign_in():
            outbox.release(entry.key)  # not sent now: whichever desk signs in first sends it
            report["kept"] += 1
            await asyncio.sleep(args.pace)
            continue
        try:
            await sending.deliver(api, outbox, entry, call=call)
        except sending.Taken:
            report["taken"] += 1
        except sending.NOT_ANSWERED:
            report["kept"] += 1
        except ProblemResponse as exc:
            refused(entry, exc)
        else:
            report["at_once"] += 1
            if i % 4 == 0:
                await send_unsent()  # the backend answers: what was kept goes too (CollectDesk._answered)
        await asyncio.sleep(args.pace)
    deadline = time.monotonic() + args.deadline
    while outbox.pending(server, USER):
        if time.monotonic() > deadline:
            report["left"] = len(outbox.pending(server, USER))
            break
        await send_unsent()
        await asyncio.sleep(0.1)
    await api.aclose()
    store.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("server", "drafts", "run", "accounts", "ready", "go"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--me", type=int, required=True)
    parser.add_argument("--items", type=int, required=True)
    parser.add_argument("--pace", type=float, default=0.05)
    parser.add_argument("--deadline", type=float, default=45.0)
    report = asyncio.run(run(parser.parse_args()))
    print(json.dumps(report))
    return 0 if not report["refused"] and not report.get("left") else 1


if __name__ == "__main__":
    sys.exit(main())
