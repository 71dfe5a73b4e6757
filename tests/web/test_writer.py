"""Web writes one at a time, concurrent one-clicks sharing transactions, failures answered."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from newsletter.audience.models import Status
from newsletter.audience.selfservice import Leaving
from newsletter.audience.store import Consent
from newsletter.web.writer import Writer
from tests.refusing import allow_updates, refuse_updates


def run(coroutine_function) -> Any:  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: Playwright's sync API keeps a loop in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


@pytest.fixture
def readers(store) -> list[int]:
    return [store.add(f"r{i}@example.com", consent=Consent("test")).id for i in range(50)]


def test_fifty_concurrent_unsubscribes_share_a_few_transactions(store, readers) -> None:
    writer = Writer(store)

    async def burst() -> list:
        return await asyncio.gather(*(writer.unsubscribe(Leaving(i, "one-click")) for i in readers))

    members = run(burst)
    assert [m.status for m in members] == [Status.UNSUBSCRIBED] * 50
    assert all(s.status is Status.UNSUBSCRIBED for s in store.find())
    assert writer.transactions <= 3, writer.transactions


def test_a_failed_group_answers_every_waiter_and_the_next_one_works(store, readers) -> None:
    writer = Writer(store)
    with store.write() as conn:
        refuse_updates(conn, "no_leaving", "subscribers")

    async def burst() -> list:
        return await asyncio.gather(
            *(writer.unsubscribe(Leaving(i, "one-click")) for i in readers[:10]),
            return_exceptions=True,
        )

    outcomes = run(burst)
    assert len(outcomes) == 10 and all(isinstance(o, Exception) for o in outcomes)
    with store.write() as conn:
        allow_updates(conn, "no_leaving", "subscribers")

    async def one() -> object:
        return await writer.unsubscribe(Leaving(readers[0], "one-click"))

    assert run(one).status is Status.UNSUBSCRIBED


def test_a_cancelled_request_does_not_strand_the_others_in_its_group(store, readers) -> None:
    writer = Writer(store)

    async def scenario() -> list:
        tasks = [
            asyncio.create_task(writer.unsubscribe(Leaving(i, "one-click"))) for i in readers[:5]
        ]
        await asyncio.sleep(0)
        tasks[2].cancel()
        return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)

    outcomes = run(scenario)
    assert isinstance(outcomes[2], asyncio.CancelledError)
    assert [o.status for i, o in enumerate(outcomes) if i != 2] == [Status.UNSUBSCRIBED] * 4
