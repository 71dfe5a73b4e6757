"""One-click unsubscribes arriving while a send runs: everyone who left is left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from newsletter.audience.models import Status
from tests.conftest import SAMPLE_ARTICLE, run_cli
from tests.fakes import sendgrid as fake_sendgrid
from tests.web.conftest import SECRET

READERS = 5_000
LEAVERS = 200


def test_two_hundred_one_click_unsubscribes_during_a_send_are_all_honoured(
    serve, project: Path
) -> None:
    listing = project / "readers.csv"
    listing.write_text(
        "email,name\n" + "".join(f"r{i:05d}@example.com,Reader {i}\n" for i in range(READERS)),
        "utf-8",
    )
    imported = run_cli("subscribers", "import", str(listing), "--consent", "test list", cwd=project)
    assert imported.returncode == 0, imported.stderr
    served = serve(database_url=f"sqlite:///{project / 'subscribers' / 'subscribers.db'}")
    ids = {s.email: s.id for s in served.store.find()}
    leavers = [f"r{i:05d}@example.com" for i in range(READERS - LEAVERS * 5, READERS, 5)]
    with fake_sendgrid.running(slow_seconds=1.0, validate=False) as fake:
        fake.plan = ["slow"] * 10
        env = {
            **os.environ,
            "NEWSLETTER_SECRET_KEY": SECRET,
            "NEWSLETTER_ENVIRONMENT": "development",
            "NEWSLETTER_PROVIDER": "sendgrid",
            "NEWSLETTER_SENDGRID_API_KEY": "SG.test-key-not-real",
            "NEWSLETTER_SENDGRID_HOST": fake.url,
        }
        with subprocess.Popen(
            [sys.executable, "-m", "newsletter", "send", str(SAMPLE_ARTICLE), "--yes"],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ) as send:
            _wait_for(lambda: fake.requests >= 1)
            with ThreadPoolExecutor(50) as pool:
                answers = list(
                    pool.map(lambda e: _one_click(served.url, served.token(ids[e])), leavers)
                )
            _, errors = send.communicate(timeout=120)
            assert send.returncode == 0, errors
        mailed = fake.recipients()
    assert answers == [200] * LEAVERS
    assert all(served.store.get(e).status is Status.UNSUBSCRIBED for e in leavers)
    assert not set(leavers) & set(mailed), "an address was mailed after it left"
    assert len(mailed) == READERS - LEAVERS and set(mailed.values()) == {1}


def _one_click(base: str, token: str) -> int:
    return httpx.post(
        f"{base}/u/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    ).status_code


def _wait_for(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the send never started"
        time.sleep(0.01)
