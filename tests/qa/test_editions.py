"""check on an issue with editions: every edition judged, readings listed, reviewed ones held."""

from __future__ import annotations

import shutil
from pathlib import Path

from newsletter.config import Settings
from newsletter.qa.build import check
from tests.conftest import REPO, SAMPLE_ARTICLE
from tests.delivery.helpers import repo_settings


def _with_editions_file(tmp_path: Path, text: str) -> Settings:
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates)
    (templates / "editions.toml").write_text(text, "utf-8")
    return repo_settings().model_copy(update={"templates_dir": templates})


def test_a_reviewed_phrase_the_edition_reads_otherwise_is_a_warning_on_its_line(
    tmp_path: Path,
) -> None:
    settings = _with_editions_file(tmp_path, '["zh-Hans".reviewed]\n"隨著" = "随着"\n')
    findings = [f for f in check(SAMPLE_ARTICLE, settings).report.findings]
    differing = [f for f in findings if f.code == "edition-reading"]
    assert len(differing) == 1 and differing[0].severity == "warning"
    assert differing[0].where == f"{SAMPLE_ARTICLE.name}:16"
    assert "随著" in differing[0].message and "随着" in differing[0].message


def test_with_the_phrase_the_reviewed_reading_holds_and_is_not_listed_again(
    tmp_path: Path,
) -> None:
    settings = _with_editions_file(
        tmp_path, '["zh-Hans".phrases]\n"著" = "着"\n["zh-Hans".reviewed]\n"隨著" = "随着"\n'
    )
    checked = check(SAMPLE_ARTICLE, settings)
    assert not [f for f in checked.report.findings if f.code == "edition-reading"]
    listed = {(r.line, r.source, r.reading) for r in checked.readings}
    assert (20, "這對於電子", "这对于电子") in listed  # 於: two readings, nobody reviewed it
    assert not any("隨著" in source for _, source, _ in listed)
    # without an exception for 顯著, the single-character phrase turns it into 显着
    assert (26, "中顯著提升", "中显着提升") in listed


def test_every_edition_is_judged_and_written_apart(tmp_path: Path) -> None:
    checked = check(SAMPLE_ARTICLE, repo_settings())
    assert checked.report.editions == ["zh-Hant", "zh-Hans"]
    hans, sample = checked.editions["zh-Hans"]
    assert hans.lang == "zh-Hans" and "区块链" in sample.html and "區塊鏈" not in sample.text


def test_an_error_only_a_written_edition_has_is_an_error_of_the_issue(tmp_path: Path) -> None:
    (tmp_path / "issue.en.md").write_text(
        "---\ntitle: Medical data\ndate: 2025-09-04\nlang: en\n---\n\nRead [the report](#).\n",
        "utf-8",
    )
    source = SAMPLE_ARTICLE.read_text("utf-8").replace(
        "lang: zh-Hant\n", "lang: zh-Hant\neditions:\n  en: issue.en.md\n", 1
    )
    (tmp_path / "issue.md").write_text(source, "utf-8")
    report = check(tmp_path / "issue.md", repo_settings()).report
    leftovers = [f for f in report.findings if f.code == "link-empty"]
    assert [f.severity for f in leftovers] == ["error"] and not report.ok
    assert leftovers[0].where.startswith("en edition")
