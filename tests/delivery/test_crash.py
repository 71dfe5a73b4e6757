"""A real `newsletter send` killed with SIGKILL mid-campaign, then run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsletter.audience.store import Store
from tests.conftest import SAMPLE_ARTICLE, SECRET
from tests.fakes import sendgrid as fake_sendgrid

KEY = "SG.test-key-not-real"


def test_a_killed_send_resumes_and_only_the_batch_in_flight_is_uncertain(project: Path) -> None:
    people = project / "people.csv"
    people.write_text(
        "email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(5000)),
        "utf-8",
    )
    env = dict(SECRET)
    subprocess.run(
        [sys.executable, "-m", "newsletter", "subscribers", "import", str(people), "--consent", "test"],
        cwd=project, env={**os.environ, **env}, check=True, capture_output=True,
    )  # fmt: skip
    command = [sys.executable, "-m", "newsletter", "send", str(SAMPLE_ARTICLE), "--yes"]
    with fake_sendgrid.running(
        KEY, decide=lambda n: "slow" if n == 3 else "ok", slow_seconds=60
    ) as fake:
        env.update(
            NEWSLETTER_PROVIDER="sendgrid",
            NEWSLETTER_SENDGRID_API_KEY=KEY,
            NEWSLETTER_SENDGRID_HOST=fake.url,
            NEWSLETTER_SENDGRID_TIMEOUT="120",
        )
        first = subprocess.Popen(
            command,
            cwd=project,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 90
        while len(fake.accepted) < 3 and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.05)
        assert len(fake.accepted) == 3, "the third batch never reached the server"
        os.kill(first.pid, signal.SIGKILL)  # while SendGrid "thinks" about batch 3
        first.communicate(timeout=30)
        second = subprocess.run(
            command,
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stderr
        received = fake.recipients()

    in_flight = {to["email"] for p in fake.accepted[2]["personalizations"] for to in p["to"]}
    shown = subprocess.run(
        [sys.executable, "-m", "newsletter", "campaigns", "show", "2025-09-04-ai-blockchain-healthcare", "--json"],
        cwd=project, env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(shown.stdout)
    uncertain = {r["email"] for r in report["recipients"] if r["state"] == "uncertain"}
    assert uncertain == in_flight and len(in_flight) == 1000
    assert report["counts"]["sent"] == 4000 and report["counts"]["pending"] == 0
    assert len(received) == 5000 and set(received.values()) == {1}  # nobody twice, nobody skipped
    store = Store.open(f"sqlite:///{project / 'subscribers' / 'subscribers.db'}")
    assert store.count() == 5000
    store.close()
