"""`newsletter serve` under load on loopback: one-click unsubscribes and webhook events.

    python benchmarks/web.py [--readers 50000] [--seconds 5] [--batches 50] [--runs 3]

Starts the real server (a subprocess, uvicorn, one worker, SQLite in WAL mode) and drives it
from this machine, so client and server share its cores:

1. one-click unsubscribes: wrk (apt-get install wrk) posts List-Unsubscribe=One-Click to
   /u/<token>, each request for a different reader, 32 connections, for --seconds;
   unsubscribes per second, p50 and p99 latency.
2. webhook events: --batches signed batches of 1,000 SendGrid events (mostly delivered and
   processed, some bounces) posted one after another; events per second, p50 and p99 per batch.

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

from benchmarks.lists import imported  # noqa: E402
from newsletter.tokens import UnsubscribeTokens  # noqa: E402

SECRET = "benchmark-secret-not-for-real-use"
CAMPAIGN = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=50_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        imported(folder, args.readers)
        server, port = _start(folder, key)
        try:
            clicks, events = [], []
            share = args.readers // args.runs
            for run in range(args.runs):
                clicks.append(_clicks(port, folder, 1 + run * share, share, args.seconds))
                events.append(asyncio.run(_events(port, key, args.readers, args.batches, run)))
        finally:
            server.terminate()
            server.wait(10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"one-click unsubscribes: {statistics.median(r for r, _, _ in clicks):,.0f}/s, "
        f"p50 {statistics.median(p for _, p, _ in clicks):.1f} ms, "
        f"p99 {statistics.median(p for _, _, p in clicks):.1f} ms (median of {len(clicks)} runs)"
    )
    _report("webhook events (batches of 1,000)", events, "events/s", per="batch")


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
        "NEWSLETTER_ENVIRONMENT": "development",  # the shipped example identity, on loopback
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


def _clicks(
    port: int, folder: Path, first: int, count: int, seconds: float
) -> tuple[float, float, float]:
    """wrk (one thread, 32 connections) posting one-clicks for distinct readers, in order."""
    from newsletter.config import load_settings

    os.chdir(folder)
    tokens = UnsubscribeTokens(SECRET, load_settings().list_label)
    paths = folder / f"paths-{first}.txt"
    paths.write_text("".join(f"/u/{tokens.issue(str(i))}\n" for i in range(first, first + count)))
    script = folder / "one-click.lua"
    script.write_text(WRK_SCRIPT)
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            "-c32",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        env={**os.environ, "PATHS_FILE": str(paths)},
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    if "Non-2xx" in out:
        raise SystemExit(f"some one-clicks failed:\n{out}")
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if total > count:
        raise SystemExit(f"{total} requests for {count} readers: raise --clicks")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


def _wrk_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"{percentile}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("PATHS_FILE")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/x-www-form-urlencoded"},
                    "List-Unsubscribe=One-Click")
end
"""


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
        await worker()
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
