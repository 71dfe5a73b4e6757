"""`newsletter serve` under load on loopback: one-click unsubscribes and webhook events.

    python benchmarks/web.py [--readers 20000] [--clicks 3000] [--batches 20] [--runs 3]

Starts the real server (a subprocess, uvicorn, one worker, SQLite in WAL mode) and drives it
from an asyncio httpx client in this process, so client and server share the machine:

1. one-click unsubscribes: POST List-Unsubscribe=One-Click to /u/<token> for --clicks
   different readers, 32 at a time; unsubscribes per second, p50 and p99 latency.
2. webhook events: --batches signed batches of 1,000 SendGrid events (mostly delivered and
   processed, some bounces) posted 2 at a time; events per second, p50 and p99 per batch.

Each run uses readers no earlier run touched; the medians over --runs runs are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from newsletter.tokens import UnsubscribeTokens  # noqa: E402

SECRET = "benchmark-secret-not-for-real-use"
CAMPAIGN = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=20_000)
    parser.add_argument("--clicks", type=int, default=3_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _project(folder, args.readers)
        server, port = _start(folder, key)
        try:
            clicks, events = [], []
            for run in range(args.runs):
                first = 1 + run * args.clicks
                clicks.append(asyncio.run(_clicks(port, folder, first, args.clicks)))
                events.append(asyncio.run(_events(port, key, args.readers, args.batches, run)))
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    _report("one-click unsubscribes", clicks, "unsubscribes/s")
    _report("webhook events (batches of 1,000)", events, "events/s", per="batch")


def _project(folder: Path, readers: int) -> None:
    shutil.copy(REPO / "newsletter.toml", folder)
    shutil.copytree(REPO / "templates", folder / "templates")
    people = folder / "people.csv"
    people.write_text(
        "email\n" + "".join(f"reader{n}@example.org\n" for n in range(readers)), "utf-8"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "newsletter",
            "subscribers",
            "import",
            str(people),
            "--consent",
            "bench",
        ],
        cwd=folder,
        check=True,
        capture_output=True,
    )


def _start(folder: Path, key: ec.EllipticCurvePrivateKey) -> tuple[subprocess.Popen[str], int]:
    public = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
    env = {
        **os.environ,
        "NEWSLETTER_SECRET_KEY": SECRET,
        "NEWSLETTER_SENDGRID_WEBHOOK_PUBLIC_KEY": public,
        "PYTHONUNBUFFERED": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", "0"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    for line in server.stderr:
        found = re.search(r"running on http://127\.0\.0\.1:(\d+)", line)
        if found:
            _drain(server)
            return server, int(found.group(1))
    raise SystemExit("newsletter serve did not start")


def _drain(server: subprocess.Popen[str]) -> None:
    """Keep reading the server's log so a full pipe never blocks it."""

    def drain() -> None:
        assert server.stderr is not None
        for _ in server.stderr:
            pass

    threading.Thread(target=drain, daemon=True).start()


async def _clicks(port: int, folder: Path, first: int, count: int) -> tuple[float, list[float]]:
    from newsletter.config import load_settings

    os.chdir(folder)
    settings = load_settings()
    tokens = UnsubscribeTokens(SECRET, settings.list_label)
    paths = [f"/u/{tokens.issue(str(i))}" for i in range(first, first + count)]
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits) as client:
        queue = iter(paths)

        async def worker() -> None:
            for path in queue:
                start = time.perf_counter()
                answer = await client.post(
                    path,
                    content="List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                latencies.append(time.perf_counter() - start)
                assert answer.status_code == 200, answer.status_code

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(32)))
        elapsed = time.perf_counter() - start
    return count / elapsed, latencies


async def _events(
    port: int, key: ec.EllipticCurvePrivateKey, readers: int, batches: int, run: int
) -> tuple[float, list[float]]:
    now = int(time.time())
    bodies = []
    for b in range(batches):
        events = []
        for n in range(1000):
            subscriber = 1 + (b * 1000 + n) % readers
            kind = "bounce" if n % 100 == 0 else ("delivered" if n % 2 else "processed")
            events.append(
                {
                    "email": f"reader{subscriber - 1}@example.org",
                    "timestamp": now - 60,
                    "event": kind,
                    "type": "bounce",
                    "sg_event_id": f"run{run}-batch{b}-{n}",
                    "sg_message_id": f"msg-{b}",
                    "campaign": CAMPAIGN,
                    "subscriber": str(subscriber),
                }
            )
        bodies.append(json.dumps(events).encode())
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        queue = iter(bodies)

        async def worker() -> None:
            for body in queue:
                timestamp = str(int(time.time()))
                signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
                headers = {
                    "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
                    "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
                    "Content-Type": "application/json",
                }
                start = time.perf_counter()
                answer = await client.post("/webhooks/sendgrid", content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                assert answer.status_code == 204, answer.text

        start = time.perf_counter()
        await asyncio.gather(worker(), worker())
        elapsed = time.perf_counter() - start
    return batches * 1000 / elapsed, latencies


def _report(
    what: str, runs: list[tuple[float, list[float]]], unit: str, per: str = "request"
) -> None:
    rate = statistics.median(r for r, _ in runs)
    p50 = statistics.median(statistics.median(ls) for _, ls in runs) * 1000
    p99 = statistics.median(statistics.quantiles(ls, n=100)[98] for _, ls in runs) * 1000
    print(
        f"{what}: {rate:,.0f} {unit} (median of {len(runs)} runs), p50 {p50:.1f} ms, p99 {p99:.1f} ms per {per}"
    )


if __name__ == "__main__":
    main()
