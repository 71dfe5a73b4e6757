"""`newsletter report` and `campaigns report` as a new user meets them, mistakes included."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_compose import assert_one_line_error
from tests.conftest import FIXTURES, REPO, run_cli


def listed(project: Path) -> Path:
    result = run_cli("subscribers", "import", str(REPO / "subscribers" / "sample.csv"), cwd=project)
    assert result.returncode == 0, result.stderr
    return project


def test_the_list_report_counts_this_week_and_writes_a_page(project: Path) -> None:
    listed(project)
    before = json.loads(run_cli("report", "--json", cwd=project).stdout)
    left = run_cli("subscribers", "unsubscribe", "chan.taiman@example.com", cwd=project)
    assert left.returncode == 0
    data = json.loads(run_cli("report", "--json", cwd=project).stdout)
    (week,) = data["weeks"]
    assert week["joined"] == week["imported"] == before["by_status"]["subscribed"]
    assert week["left"] == 1 and week["by_status"] == data["by_status"]
    assert data["by_status"]["unsubscribed"] == before["by_status"]["unsubscribed"] + 1
    page = project / "list.html"
    printed = run_cli("report", "--html", str(page), cwd=project)
    assert printed.returncode == 0 and "wrote" in printed.stdout
    assert page.read_text("utf-8").count("<figure") == 2


def test_an_unknown_campaign_is_one_line(project: Path) -> None:
    assert_one_line_error(run_cli("campaigns", "report", "c-nope", cwd=listed(project)), "c-nope")


def test_html_never_replaces_a_file_it_did_not_write(project: Path) -> None:
    notes = project / "notes.html"
    notes.write_text("<p>my own notes</p>", "utf-8")
    result = run_cli("report", "--html", str(notes), cwd=listed(project))
    assert_one_line_error(result, "notes.html", "not a report")
    assert notes.read_text("utf-8") == "<p>my own notes</p>"


def test_without_matplotlib_html_says_which_extra_to_install(project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "no-matplotlib"
    missing.mkdir()
    (missing / "matplotlib.py").write_text("raise ImportError('No module named matplotlib')\n")
    result = run_cli(
        "report", "--html", str(project / "list.html"), cwd=listed(project),
        env={"PYTHONPATH": str(missing)},
    )  # fmt: skip
    assert_one_line_error(result, "newsletter[report]")
    assert not (project / "list.html").exists()


def test_check_lists_the_links_click_tracking_will_count(project: Path) -> None:
    article = str(FIXTURES / "articles" / "links.md")
    off = json.loads(run_cli("check", article, "--json", cwd=project).stdout)
    assert off["tracked_links"] == []
    env = {"NEWSLETTER_CLICK_TRACKING": "aggregate"}
    on = json.loads(run_cli("check", article, "--json", cwd=project, env=env).stdout)
    assert on["tracked_links"][2] == "https://events.example.com/register#form"
    assert len(on["tracked_links"]) == 5 and not any("mailto:" in u for u in on["tracked_links"])
    printed = run_cli("check", article, cwd=project, env=env).stdout
    assert "5 links counted by aggregate click tracking" in printed
