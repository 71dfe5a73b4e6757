"""Tracked-link redirects through `newsletter serve`, beside a bare redirect server (the floor).

    python benchmarks/clicks.py [--seconds 5] [--runs 3]

Both servers are subprocesses under uvicorn with one worker on loopback, driven by wrk (one
thread, 32 connections) with a browser's user agent, runs interleaved. The project's server
checks the token, finds the link in the issue's snapshot (cached), classifies the click and
queues it for the next group write; the floor answers the same 302 from a dict with nothing
else in the way. Prints medians of --runs runs and the ratio project / floor.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

from benchmarks.web import SECRET, _start, _wrk_ms  # noqa: E402

SAMPLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"
FLOOR = textwrap.dedent(
    """
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import RedirectResponse
    from starlette.routing import Route
    TARGETS = {sys.argv[1]: sys.argv[2]}
    async def follow(request):
        return RedirectResponse(TARGETS[request.path_params["link"]], status_code=302)
    app = Starlette(routes=[Route("/l/{link}", follow)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning", access_log=False)
    """
)
WRK_SCRIPT = """
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126 Safari/537.36"
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        link, target = _campaign(folder)
        project, port = _start(folder, ec.generate_private_key(ec.SECP256R1()))
        floor_port = _free_port()
        floor = subprocess.Popen(
            [sys.executable, "-c", FLOOR, link, target, str(floor_port)],
            stderr=subprocess.DEVNULL,
        )
        _wait(floor_port)
        script = folder / "agent.lua"
        script.write_text(WRK_SCRIPT)
        results: dict[str, list[tuple[float, float, float]]] = {"project": [], "floor": []}
        try:
            for _ in range(args.runs):
                for name, p in (("project", port), ("floor", floor_port)):
                    results[name].append(_wrk(p, f"/l/{link}", script, args.seconds))
        finally:
            for server in (project, floor):
                server.terminate()
                server.wait(10)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    medians = {
        name: [statistics.median(r[i] for r in runs) for i in range(3)]
        for name, runs in results.items()
    }
    for name, (rate, p50, p99) in medians.items():
        print(f"{name:8} {rate:8,.0f} redirects/s  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms")
    ratio = medians["floor"][0] / medians["project"][0]
    print(f"ratio    {ratio:.2f}x the floor's time per redirect (median of {args.runs} runs)")


def _campaign(folder: Path) -> tuple[str, str]:
    """The sample issue and a running campaign of it, as a real send records them."""
    from newsletter.audience.models import Filters
    from newsletter.audience.store import Store
    from newsletter.compose.article import read_article
    from newsletter.compose.editions import ArticleEditions
    from newsletter.config import Settings, load_settings
    from newsletter.delivery.issues import Issues
    from newsletter.delivery.journal import Journal
    from newsletter.delivery.states import NewCampaign
    from newsletter.render import render_issue
    from newsletter.render.issue import Editions
    from newsletter.render.tracking import tracked_links
    from newsletter.tokens import ClickTokens

    shutil.copy(REPO / "newsletter.toml", folder)
    shutil.copytree(REPO / "templates", folder / "templates")
    os.chdir(folder)
    settings: Settings = load_settings()
    store = Store.open(settings.database_url)
    article = read_article(SAMPLE)
    rendered = render_issue(article, settings)
    issue = Issues(store).create(ArticleEditions.single(article), Editions.single(rendered))
    spec = NewCampaign(
        issue_id=issue.id, slug=issue.slug, article=issue.article, subject=rendered.subject,
        article_sha=issue.source_sha, filters=Filters(), provider="sendgrid",
    )  # fmt: skip
    Journal(store).create(spec, campaign_id="cbench")
    store.close()
    link = ClickTokens(SECRET, settings.list_label).link("cbench", 0)
    return link, tracked_links(rendered.html)[0]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(port: int) -> None:
    import time

    import httpx

    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the floor server did not start")


def _wrk(port: int, path: str, script: Path, seconds: float) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", "-t1", "-c32", f"-d{seconds:g}s", "--latency", "-s", str(script),
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in out:
        raise SystemExit(f"some redirects failed:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, _wrk_ms(out, "50%"), _wrk_ms(out, "99%")


if __name__ == "__main__":
    main()
