"""The HTML report: one file that loads nothing, draws its charts, and reads without sight."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from newsletter.reports.campaign import CampaignReport, Compared, LinkCount
from newsletter.reports.page import campaign_page

START = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
CJK_LINK = "https://research.example.net/%E9%A6%99%E6%B8%AF/%E5%8D%80%E5%A1%8A%E9%8F%88"


def report() -> CampaignReport:
    hours = {
        f"2026-11-30T{9 + h:02d}": {"delivered": 900 // (h + 1), "clicks": 40 - h, "bounces": 3}
        for h in range(6)
    }
    hours["2026-11-30T10"]["unsubscribes"] = 4
    return CampaignReport(
        campaign="c1ksa2x8m4q0z",
        label="links-weekly",
        subject="本週連結：醫療與區塊鏈",
        provider="sendgrid",
        status="finished",
        started_at=START,
        recipients=2000,
        sent=2000,
        failed=0,
        uncertain=0,
        delivered=1980,
        bounced=20,
        complained=1,
        unsubscribed=4,
        events=True,
        clicks=225,
        machine_clicks={"head": 3, "agent": 5, "burst": 2, "early": 7},
        clickers=180,
        links=[
            LinkCount(position=1, url=CJK_LINK, clicks=150, machine_clicks=9, readers=130),
            LinkCount(
                position=0,
                url="https://news.example.org/health",
                clicks=75,
                machine_clicks=8,
                readers=60,
            ),
        ],
        hours=hours,
        complaint_rate=1 / 1980,
        bounce_rate=0.01,
        unsubscribe_rate=4 / 1980,
        warnings=[],
        errors=[],
        compared=[
            Compared(
                campaign=f"c{n}",
                label=f"第{n}期",
                started_at=START - dt.timedelta(days=7 * (3 - n)),
                sent=2000,
                unsubscribe_rate=0.002,
                bounce_rate=0.01,
                complaint_rate=0.0005 * n,
            )
            for n in range(1, 4)
        ],
    )


def test_the_page_is_self_contained_and_each_chart_has_a_title_a_summary_and_its_numbers(
    tmp_path: Path,
) -> None:
    html = campaign_page(report())
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "default-src 'none'" in html
    assert html.count("<figure") == 5  # delivery, actions, links, complaints, rates
    assert html.count("<details>") == 5 and "本週連結" in html


def test_cjk_labels_are_drawn_with_a_cjk_font_as_paths_not_text() -> None:
    html = campaign_page(report())
    assert "<text" not in html  # nothing left for the viewer's fonts to draw as boxes

    def cjk_glyphs(chart: str) -> set[str]:
        return set(re.findall(rf'id="{chart}-NotoSansCJK[^"]*-([0-9a-f]+)"', html))

    assert len(cjk_glyphs("links")) == len(set("香港區塊鏈"))
    assert len(cjk_glyphs("complaints")) == len(set("第期"))
    assert not cjk_glyphs("delivery")


def test_in_chromium_the_charts_draw_nothing_leaves_the_file_and_dark_mode_reads(
    browser, tmp_path: Path
) -> None:
    page_file = tmp_path / "report.html"
    page_file.write_text(campaign_page(report()), "utf-8")
    for scheme, ink in (("light", "rgb(27, 31, 36)"), ("dark", "rgb(230, 237, 243)")):
        page = browser.new_page(color_scheme=scheme, viewport={"width": 1000, "height": 800})
        requests: list[str] = []
        page.on("request", lambda request, seen=requests: seen.append(request.url))
        try:
            page.goto(page_file.as_uri())
            assert requests == [page_file.as_uri()]
            charts = page.locator("figure [role=img] svg")
            assert charts.count() == 5
            for n in range(5):
                box = charts.nth(n).bounding_box()
                assert box is not None and box["width"] > 400 and box["height"] > 100
                assert charts.nth(n).locator("path").count() > 10
            labelled = page.locator("figure [role=img]").first
            assert labelled.evaluate(
                "e => document.getElementById(e.getAttribute('aria-labelledby')).textContent"
            ).startswith("Deliveries and bounces")
            colour = charts.first.evaluate("e => getComputedStyle(e).color")
            assert colour == ink
        finally:
            page.close()
