"""`campaigns report`: after a killed and resumed send, events and clicks, the numbers add up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import FIXTURES, SAMPLE_ARTICLE, SECRET
from tests.fakes import sendgrid as fake_sendgrid
from tests.web.test_app import _port_from_log, serve_process
from tests.web.test_webhooks import PUBLIC, signed

KEY = "SG.test-key-not-real"
ARTICLE = FIXTURES / "articles" / "links.md"
READERS = 2500
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"


def cli(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsletter", *args],
        cwd=project, env={**os.environ, **env}, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def killed_and_resumed_send(project: Path, env: dict[str, str], fake: Any) -> None:
    """Batch 2 of 3 hangs; the send is SIGKILLed there, then run again to the end."""
    command = [sys.executable, "-m", "newsletter", "send", str(ARTICLE), "--yes"]
    first = subprocess.Popen(
        command, cwd=project, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while len(fake.accepted) < 2 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    assert len(fake.accepted) == 2, "the second batch never reached the server"
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    second = cli(project, env, *command[3:])
    assert second.returncode == 0, second.stderr


def personalized_links(body: dict[str, Any], personalization: dict[str, Any]) -> list[str]:
    """The /l/ paths one reader's copy of the HTML holds, their slots filled as SendGrid would."""
    html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
    for token, value in personalization["substitutions"].items():
        html = html.replace(token, value)
    return [
        re.sub(r"^https?://[^/]+", "", url) for url in re.findall(r'href="([^"]*/l/[^"]+)"', html)
    ]


def test_the_report_counts_what_the_provider_the_readers_and_the_machines_did(
    project: Path,
) -> None:
    people = project / "people.csv"
    people.write_text(
        "email,name\n" + "".join(f"reader{n}@example.org,Reader {n}\n" for n in range(READERS)),
        "utf-8",
    )
    env = {
        **SECRET,
        "NEWSLETTER_ENVIRONMENT": "development",
        "NEWSLETTER_CLICK_TRACKING": "per-reader",
        "NEWSLETTER_MACHINE_CLICK_SECONDS": "0",  # the test clicks seconds after the send
        "NEWSLETTER_SENDGRID_WEBHOOK_PUBLIC_KEY": PUBLIC,
    }
    assert (
        cli(project, env, "subscribers", "import", str(people), "--consent", "test").returncode == 0
    )
    with fake_sendgrid.running(
        KEY, decide=lambda n: "slow" if n == 2 else "ok", slow_seconds=60
    ) as fake:
        env |= {
            "NEWSLETTER_PROVIDER": "sendgrid",
            "NEWSLETTER_SENDGRID_API_KEY": KEY,
            "NEWSLETTER_SENDGRID_HOST": fake.url,
            "NEWSLETTER_SENDGRID_TIMEOUT": "120",
        }
        killed_and_resumed_send(project, env, fake)
        accepted = [b for n, b in enumerate(fake.accepted) if n != 1]  # batch 2 never answered
    assert 400 not in fake.answers
    readers = [(b, p) for b in accepted for p in b["personalizations"]]
    campaign = readers[0][1]["custom_args"]["campaign"]

    with serve_process(project, env) as server:
        try:
            base = f"http://127.0.0.1:{_port_from_log(server)}"
            events = [
                {
                    "email": p["to"][0]["email"], "timestamp": int(time.time()) + 1,
                    "event": kind, "sg_event_id": f"e-{kind}-{n}", "sg_message_id": "m.1",
                    "campaign": campaign, "subscriber": p["custom_args"]["subscriber"],
                    **({"type": "bounce", "reason": "550 5.1.1 unknown"} if kind == "bounce" else {}),
                }
                for n, (_, p) in enumerate(readers)
                for kind in (["bounce"] if n < 20 else ["delivered", "spamreport"] if n < 25 else ["delivered"])
            ]  # fmt: skip
            payload = json.dumps(events).encode()
            assert (
                httpx.post(
                    f"{base}/webhooks/sendgrid", content=payload, headers=signed(payload)
                ).status_code
                == 204
            )
            for _, p in readers[100:103]:  # three readers leave with Gmail's one-click button
                url = p["headers"]["List-Unsubscribe"].split(">")[0].lstrip("<")
                path = re.sub(r"^https?://[^/]+", "", url)
                answer = httpx.post(base + path, data={"List-Unsubscribe": "One-Click"})
                assert answer.status_code == 200
            expected = Counter[int]()
            for body, p in readers[200:260]:  # sixty readers click; the first ten links twice
                links = personalized_links(body, p)
                assert len(links) == 5
                for position in (0, 2) if readers.index((body, p)) < 210 else (1,):
                    answer = httpx.get(base + links[position], headers={"User-Agent": BROWSER})
                    assert answer.status_code == 302
                    expected[position] += 1
            scanner = personalized_links(*readers[300])
            httpx.head(base + scanner[4], headers={"User-Agent": BROWSER})
            httpx.get(
                base + scanner[4], headers={"User-Agent": "Mozilla/5.0 (compatible; Mimecast)"}
            )
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(15)

    shown = cli(project, env, "campaigns", "report", campaign, "--json")
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["recipients"] == READERS
    assert report["sent"] == READERS - 1000 and report["uncertain"] == 1000
    assert report["delivered"] == len(readers) - 20 and report["bounced"] == 20
    assert report["complained"] == 5 and report["unsubscribed"] == 3
    assert report["complaint_rate"] == 5 / (len(readers) - 20)  # 0.34 %: over 0.3 %
    assert report["errors"] and "complaint rate" in report["errors"][0]
    assert report["clicks"] == sum(expected.values()) and report["clickers"] == 60
    assert report["machine_clicks"] == {"head": 1, "agent": 1, "burst": 0, "early": 0}
    by_position = {link["position"]: link["clicks"] for link in report["links"]}
    assert by_position == {**dict(expected), 4: 0}
    assert report["links"][0]["url"].startswith("https://research.example.net/%E9%A6%99")
    hours = Counter[str]()
    for counts in report["hours"].values():
        hours.update(counts)
    assert hours["delivered"] == len(readers) - 20 and hours["bounces"] == 20
    assert hours["clicks"] == sum(expected.values()) and hours["unsubscribes"] == 3

    printed = cli(project, env, "campaigns", "report", campaign)
    assert printed.returncode == 0 and "complaint rate" in printed.stderr
    assert "research.example.net" in printed.stdout

    shown = cli(project, env, "campaigns", "show", campaign)
    assert "complaint rate: 0.34 %" in shown.stdout and "error:" in shown.stderr
    refused = cli(project, env, "send", str(SAMPLE_ARTICLE), "--yes")
    assert refused.returncode == 1 and "complaint-rate" in refused.stderr
    assert "--force" in refused.stderr
