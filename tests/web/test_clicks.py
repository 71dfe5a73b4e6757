"""/l/: tracked links lead where the issue linked, count clicks, and tell machines from readers."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from newsletter.audience.store import Store
from newsletter.config import ClickTracking
from newsletter.db.schema import link_clicks
from newsletter.render.mime import MessageBuilder, Recipient
from newsletter.tokens import ClickClaim, ClickTokens
from newsletter.web.app import create_app, uvicorn_options
from tests.conftest import FIXTURES
from tests.delivery.helpers import open_campaign, rendered
from tests.web.conftest import SECRET, Served, serving, web_settings

ARTICLE = FIXTURES / "articles" / "links.md"
TARGETS = [
    "https://news.example.org/health?topic=data&lang=zh",
    "https://research.example.net/%E9%A6%99%E6%B8%AF/%E5%8D%80%E5%A1%8A%E9%8F%88",
    "https://events.example.com/register#form",
    "https://news.example.org/health?topic=data&lang=zh",
    "https://blog.example.com/links-weekly",
]
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"


def tracked_paths(served: Served, mode: ClickTracking, reader: int, campaign: str) -> list[str]:
    """The /l/ paths in the HTML one reader's message carries, in order."""
    builder = MessageBuilder(
        rendered(ARTICLE)[1], served.settings, campaign=campaign, tracking=mode
    )
    composed = builder.compose(Recipient(str(reader), "reader@example.com", "Reader"))
    base = served.settings.base_url
    urls = re.findall(rf'href="({re.escape(base)}/l/[^"]+)"', composed.html)
    return [urlsplit(url).path for url in urls]


def clicks(served: Served, expected: int) -> list[tuple[int, int | None, str | None]]:
    """(position, reader, machine) of the stored clicks, once ``expected`` are written."""
    deadline = time.monotonic() + 10
    while True:
        with served.store.read() as conn:
            rows = conn.execute(
                select(
                    link_clicks.c.position, link_clicks.c.subscriber_id, link_clicks.c.machine
                ).order_by(link_clicks.c.id)
            ).all()
        if len(rows) >= expected or time.monotonic() > deadline:
            return [tuple(row) for row in rows]  # type: ignore[misc]
        time.sleep(0.05)


def start(served: Served, mode: ClickTracking) -> tuple[int, str, list[str]]:
    reader = served.add("reader@example.com")
    campaign = open_campaign(served.store, path=ARTICLE)
    return reader, campaign, tracked_paths(served, mode, reader, campaign)


def test_each_link_position_redirects_to_the_link_the_issue_holds(served: Served) -> None:
    _, _, paths = start(served, ClickTracking.AGGREGATE)
    assert len(paths) == len(TARGETS)
    for path, target in zip(paths, TARGETS, strict=True):
        answer = served.client.get(path, headers={"User-Agent": BROWSER})
        assert answer.status_code == 302 and answer.headers["location"] == target
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"


def test_aggregate_tokens_carry_no_reader_and_store_none(served: Served) -> None:
    _, campaign, paths = start(served, ClickTracking.AGGREGATE)
    tokens = ClickTokens(SECRET, served.settings.list_label)
    assert [tokens.verify(path.removeprefix("/l/")) for path in paths] == [
        ClickClaim(campaign, position, None) for position in range(len(TARGETS))
    ]
    served.client.get(paths[1], headers={"User-Agent": BROWSER})
    assert clicks(served, 1) == [(1, None, None)]


def test_per_reader_tokens_count_the_reader_even_from_a_forwarded_copy(served: Served) -> None:
    reader, _, paths = start(served, ClickTracking.PER_READER)
    served.client.get(paths[0], headers={"User-Agent": BROWSER})
    forwarded = served.client.get(paths[2], headers={"User-Agent": BROWSER, "Cookie": ""})
    assert forwarded.status_code == 302
    assert clicks(served, 2) == [(0, reader, None), (2, reader, None)]


def test_forged_and_altered_tokens_are_refused_and_not_counted(served: Served) -> None:
    reader, campaign, paths = start(served, ClickTracking.PER_READER)
    link, reader_part = paths[0].removeprefix("/l/").split("/")
    tokens = ClickTokens(SECRET, served.settings.list_label)
    other_campaign_reader = tokens.reader("c-other", str(reader))
    forgeries = [
        f"/l/{link.replace('.0.', '.1.', 1)}/{reader_part}",  # another position, old signature
        f"/l/{link[:-2]}xx/{reader_part}",  # a changed signature
        f"/l/{link}/{reader + 1}.{reader_part.split('.', 1)[1]}",  # another reader
        f"/l/{link}/{other_campaign_reader}",  # a reader part of another campaign
        f"/l/{ClickTokens('another-secret', served.settings.list_label).link(campaign, 0)}",
        f"/l/{tokens.link(campaign, len(TARGETS))}",  # signed, but no such link in the issue
        f"/l/{tokens.link('c-none', 0)}",  # signed, but no such campaign
    ]
    for path in forgeries:
        answer = served.client.get(path, headers={"User-Agent": BROWSER})
        assert answer.status_code == 404 and "location" not in answer.headers, path
    served.client.get(paths[0], headers={"User-Agent": BROWSER})
    assert clicks(served, 1) == [(0, reader, None)]


def test_nothing_in_the_request_can_choose_where_the_redirect_leads(served: Served) -> None:
    _, _, paths = start(served, ClickTracking.AGGREGATE)
    for path in (
        f"{paths[2]}?url=https://evil.example.net/",
        f"{paths[2]}?next=//evil.example.net",
        f"{paths[2]}#https://evil.example.net/",
    ):
        answer = served.client.get(path, headers={"User-Agent": BROWSER})
        assert answer.headers["location"] == TARGETS[2]
    host = served.client.get(paths[2], headers={"User-Agent": BROWSER, "Host": "evil.example.net"})
    assert host.status_code == 400 and "location" not in host.headers


def test_head_requests_and_scanner_agents_are_counted_as_machines(served: Served) -> None:
    _, _, paths = start(served, ClickTracking.AGGREGATE)
    assert served.client.head(paths[0], headers={"User-Agent": BROWSER}).status_code == 302
    for agent in ("", "python-requests/2.32", "Mozilla/5.0 (compatible; Barracuda Sentinel)"):
        answer = served.client.get(paths[1], headers={"User-Agent": agent})
        assert answer.status_code == 302
    served.client.get(paths[1], headers={"User-Agent": BROWSER})
    assert clicks(served, 5) == [
        (0, None, "head"),
        (1, None, "agent"),
        (1, None, "agent"),
        (1, None, "agent"),
        (1, None, None),
    ]


def test_a_burst_of_different_links_is_a_scanner_not_a_reader(served: Served) -> None:
    reader, _, paths = start(served, ClickTracking.PER_READER)
    for path in paths[:4]:
        served.client.get(path, headers={"User-Agent": BROWSER})
    assert clicks(served, 4) == [
        (0, reader, None),
        (1, reader, None),
        (2, reader, "burst"),
        (3, reader, "burst"),
    ]


def test_clicks_not_yet_written_are_written_when_serve_stops(tmp_path: Path) -> None:
    settings = web_settings(tmp_path)
    store = Store.open(settings.database_url)
    with serving(create_app(settings, store), uvicorn_options(settings)) as url:
        served = Served(url, settings, store, httpx.Client(base_url=url))
        _, _, paths = start(served, ClickTracking.AGGREGATE)
        for path in (paths[0], paths[4]):
            served.client.get(path, headers={"User-Agent": BROWSER})
        served.client.close()
    with store.read() as conn:
        positions = conn.execute(select(link_clicks.c.position).order_by(link_clicks.c.id))
        assert positions.scalars().all() == [0, 4]
    store.close()
