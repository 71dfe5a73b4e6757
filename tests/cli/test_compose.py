"""The `newsletter` command, run as a real subprocess in an editor's working folder."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import tomllib
from pathlib import Path

import pytest

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.render import render_issue
from tests.conftest import FIXTURES, SAMPLE_ARTICLE, run_cli

SLUG = "2025-09-04-ai-blockchain-healthcare"


@pytest.fixture
def sample(project: Path) -> Path:
    target = project / "articles" / SAMPLE_ARTICLE.name
    target.parent.mkdir()
    shutil.copy(SAMPLE_ARTICLE, target)
    return target


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    "args", [["--help"], ["build", "--help"], ["new", "--help"], ["--version"]]
)
def test_help_and_version(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0
    assert (
        ("newsletter 0." in result.stdout) if args == ["--version"] else ("Usage" in result.stdout)
    )


def test_build_writes_the_issue_folder_and_prints_a_summary(project: Path, sample: Path) -> None:
    result = run_cli("build", str(sample.relative_to(project)), cwd=project)
    assert result.returncode == 0, result.stderr
    out = project / "build" / SLUG
    assert sorted(p.name for p in out.iterdir()) == [
        ".newsletter-output",
        "email.eml",
        "email.html",
        "email.mjml",
        "email.txt",
        "report.json",
        "zh-Hans",
    ]
    assert sorted(p.name for p in (out / "zh-Hans").iterdir()) == [
        "email.eml",
        "email.html",
        "email.mjml",
        "email.txt",
    ]
    assert '<html lang="zh-Hans"' in (out / "zh-Hans" / "email.html").read_text("utf-8")
    for expected in (
        "Subject",
        "叁壹智能新聞",
        "Reading time",
        "4 min",
        "below Gmail's 102 KB clip",
    ):
        assert expected in result.stdout
    message = email.message_from_bytes(
        (out / "email.eml").read_bytes(), policy=email.policy.default
    )
    for part, name in (("html", "email.html"), ("plain", "email.txt")):
        sent = message.get_body((part,)).get_content().replace("\r\n", "\n")  # canonical CRLF
        assert sent == (out / name).read_text("utf-8")
    assert (out / "email.mjml").read_text("utf-8").startswith('<mjml lang="zh-Hant"')


def test_build_json_prints_the_report_for_scripts(project: Path, sample: Path) -> None:
    result = run_cli("build", str(sample), "--json", cwd=project)
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["reading_minutes"] == 4
    assert 20_000 < report["html_bytes"] < 90_000
    assert report["clip_margin_bytes"] == 102_000 - report["html_bytes"]
    assert report["images_without_alt"] == [] and report["non_https_links"] == []
    assert report == json.loads((project / "build" / SLUG / "report.json").read_text("utf-8"))


def test_a_front_matter_mistake_is_one_line_and_writes_nothing(project: Path, sample: Path) -> None:
    assert run_cli("build", str(sample), cwd=project).returncode == 0
    before = (project / "build" / SLUG / "email.html").read_bytes()
    sample.write_text(sample.read_text("utf-8").replace("author:", "autor:"), encoding="utf-8")
    result = run_cli("build", str(sample), cwd=project)
    assert_one_line_error(result, f"{sample}:3:", "unknown front matter key 'autor'")
    assert (project / "build" / SLUG / "email.html").read_bytes() == before
    assert [p.name for p in (project / "build").iterdir()] == [SLUG]


def test_an_unknown_template_variable_names_the_template_line(project: Path, sample: Path) -> None:
    template = project / "templates" / "email.mjml.j2"
    lines = template.read_text("utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines, 1) if "{{ greeting }}" in text)
    lines[line - 1] = lines[line - 1].replace("{{ greeting }}", "{{ greeting }} {{ sponsor_name }}")
    template.write_text("".join(lines), encoding="utf-8")
    result = run_cli("build", str(sample), cwd=project)
    assert_one_line_error(result, f"templates/email.mjml.j2:{line}:", "'sponsor_name' is undefined")
    assert not (project / "build").exists()


def test_broken_mjml_names_the_template(project: Path, sample: Path) -> None:
    template = project / "templates" / "email.mjml.j2"
    template.write_text(
        template.read_text("utf-8").replace("</mj-column>", "", 1), encoding="utf-8"
    )
    result = run_cli("build", str(sample), cwd=project)
    assert_one_line_error(result, "templates/email.mjml.j2:", "MJML did not compile")
    assert not (project / "build").exists()


def test_a_misspelt_mjml_element_stops_the_build(project: Path, sample: Path) -> None:
    template = project / "templates" / "email.mjml.j2"
    template.write_text(
        template.read_text("utf-8").replace("<mj-divider", "<mj-divder"), encoding="utf-8"
    )
    result = run_cli("build", str(sample), cwd=project)
    assert_one_line_error(result, "templates/email.mjml.j2:", "unknown MJML element <mj-divder>")


def test_a_bad_setting_is_named_without_revealing_secrets(project: Path, sample: Path) -> None:
    result = run_cli(
        "build",
        str(sample),
        cwd=project,
        env={
            "NEWSLETTER_BASE_URL": "http://news.example.com",
            "NEWSLETTER_SECRET_KEY": "top-secret-value-123456",
        },
    )
    assert_one_line_error(result, "'base_url' must be an https:// URL", "NEWSLETTER_BASE_URL")
    assert "top-secret-value-123456" not in result.stdout + result.stderr


def test_a_missing_article_is_a_clear_error(project: Path) -> None:
    assert_one_line_error(run_cli("build", "articles/nope.md", cwd=project), "article not found")


def long_article(folder: Path, paragraphs: int) -> Path:
    text = " ".join(
        f"Sentence {n} about email clipping and why size budgets matter." for n in range(8)
    )
    body = "\n\n".join(f"## Part {i}\n\n{text}" if i % 5 == 0 else text for i in range(paragraphs))
    path = folder / f"long-{paragraphs}.md"
    path.write_text(
        f"---\ntitle: A very long issue\ndate: 2025-09-04\nlang: en\n---\n\n{body}\n", "utf-8"
    )
    return path


def html_size(path: Path, project: Path) -> int:
    settings = Settings(**_project_settings(project))
    return len(render_issue(read_article(path), settings).html.encode("utf-8"))


def _project_settings(project: Path) -> dict[str, object]:
    values = tomllib.loads((project / "newsletter.toml").read_text("utf-8"))
    return {**values, "templates_dir": project / "templates"}


def test_a_long_issue_warns_before_gmail_clips_it(project: Path) -> None:
    low, high = 10, 400
    while low < high:  # the smallest article over the warning line
        middle = (low + high) // 2
        if html_size(long_article(project, middle), project) > 90_000:
            high = middle
        else:
            low = middle + 1
    path = long_article(project, low)
    assert html_size(path, project) < 102_000
    result = run_cli("build", str(path), cwd=project)
    assert result.returncode == 0
    assert "warning: HTML is" in result.stdout and "of Gmail's clip" in result.stdout


def test_an_issue_over_the_clip_fails_the_build(project: Path) -> None:
    path = long_article(project, 400)
    result = run_cli("build", str(path), "--json", cwd=project)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["clip_margin_bytes"] < 0
    assert report["findings"][0]["code"] == "gmail-clip"
    summary = run_cli("build", str(path), cwd=project).stdout
    assert "KB over Gmail's 102 KB clip" in summary


def test_new_from_a_blog_paste_writes_the_markdown(project: Path) -> None:
    paste = FIXTURES / "blogpaste" / "weekly-article-2025-09-04.txt"
    result = run_cli("new", "--from", str(paste), cwd=project)
    assert result.returncode == 0, result.stderr
    written = project / "articles" / "weekly-article-2025-09-04.md"
    expected = (FIXTURES / "blogpaste" / "weekly-article-2025-09-04.expected.md").read_text("utf-8")
    assert written.read_text("utf-8") == expected
    assert "Heading   對香港的啟示" in result.stdout and "Dropped   留言" in result.stdout
    assert "'9月4日' has no year; took 2025 from the file name" in result.stdout
    again = run_cli("new", "--from", str(paste), cwd=project)
    assert_one_line_error(again, "already exists", "--force")
    assert run_cli("build", str(written), cwd=project).returncode == 0


def test_new_refuses_a_language_without_strings(project: Path) -> None:
    assert_one_line_error(
        run_cli("new", "--lang", "fr", cwd=project),
        "--lang 'fr' has no strings",
        "en, zh-Hans, zh-Hant",
    )


def test_new_without_a_paste_starts_an_empty_article(project: Path) -> None:
    result = run_cli("new", "--date", "2025-10-01", "--lang", "zh-Hant", cwd=project)
    assert result.returncode == 0
    text = (project / "articles" / "2025-10-01.md").read_text("utf-8")
    assert "date: 2025-10-01\nlang: zh-Hant\n" in text
    assert_one_line_error(run_cli("new", "--date", "1 Oct", cwd=project), "YYYY-MM-DD")


def test_check_prints_the_findings_and_fails_on_errors(project: Path, sample: Path) -> None:
    clean = run_cli("check", str(sample), "--json", cwd=project)
    assert clean.returncode == 0
    codes = [f["code"] for f in json.loads(clean.stdout)["findings"]]
    assert codes == ["example-secret", "example-identity"]
    assert not (project / "build").exists()  # check writes nothing
    long = long_article(project, 400)
    clipped = run_cli("check", str(long), cwd=project)
    assert clipped.returncode == 1 and "gmail-clip" in clipped.stdout and "error" in clipped.stdout
    first = json.loads(run_cli("check", str(long), "--json", cwd=project).stdout)["findings"][0]
    assert (first["severity"], first["code"], first["where"]) == (
        "error",
        "gmail-clip",
        "email.html",
    )
    assert first["fix"] == "shorten the article, or split it over two issues"


def test_check_at_80_columns_prints_every_word_of_what_and_how_to_fix(
    project: Path, sample: Path
) -> None:
    result = run_cli("check", str(sample), cwd=project, env={"COLUMNS": "80"})
    findings = json.loads(run_cli("check", str(sample), "--json", cwd=project).stdout)["findings"]
    assert "…" not in result.stdout
    for finding in findings:
        assert f"{finding['severity']} {finding['code']} in {finding['where']}" in result.stdout
        assert finding["message"] in result.stdout and f"fix: {finding['fix']}" in result.stdout


def test_build_never_replaces_a_folder_it_did_not_make(project: Path, sample: Path) -> None:
    mine = project / "build" / SLUG
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine", "utf-8")
    result = run_cli("build", str(sample.relative_to(project)), cwd=project)
    assert_one_line_error(result, "was not made by newsletter", str(Path("build") / SLUG))
    assert (mine / "notes.txt").read_text("utf-8") == "mine"


def test_a_build_folder_from_before_markers_is_still_replaced(project: Path, sample: Path) -> None:
    old = project / "build" / SLUG
    old.mkdir(parents=True)
    for name in (
        "email.html",
        "email.txt",
        "email.mjml",
        "email.eml",
        "report.json",
        "email-375-dark.png",
    ):
        (old / name).write_text("from an earlier release", "utf-8")
    result = run_cli("build", str(sample.relative_to(project)), cwd=project)
    assert result.returncode == 0, result.stderr
    assert (old / ".newsletter-output").is_file() and not (old / "email-375-dark.png").exists()
