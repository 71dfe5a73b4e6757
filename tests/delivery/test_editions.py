"""One issue, two scripts: each reader gets one copy, in the edition their language picks.

Real `newsletter` subprocesses against the fake SendGrid, which checks every request against
the official Mail Send schema.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path
from typing import Any

from newsletter.compose.locales import load_locales
from tests.conftest import (
    SAMPLE_ARTICLE,
    import_people,
    project_store,
    run_cli,
    sendgrid_env,
    smtp_env,
)
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

SIMPLIFIED_SUBJECT = "叁壹智能新闻：人工智能与区块链在医疗与科研的融合应用"
TRADITIONAL_SUBJECT = "叁壹智能新聞：人工智能與區塊鏈在醫療與科研的融合應用"
READERS = {
    "hant1@example.com": "zh-Hant",
    "hant2@example.org": "zh-HK",
    "hant3@example.net": "zh-TW",
    "hans1@example.com": "zh-CN",
    "hans2@example.org": "zh-SG",
    "hans3@example.net": "zh-Hans",
    "english@example.com": "en-GB",
    "french@example.org": "fr",
    "nolang@example.net": "",
}
EDITION_OF = {
    "zh-Hant": "zh-Hant", "zh-HK": "zh-Hant", "zh-TW": "zh-Hant", "zh-CN": "zh-Hans",
    "zh-SG": "zh-Hans", "zh-Hans": "zh-Hans", "en-GB": "zh-Hant", "fr": "zh-Hant", "": "zh-Hant",
}  # fmt: skip
"""The sample has no English edition: en, fr and no language get the original."""


def _mixed_list(project: Path) -> None:
    import_people(project, [f"{address},,{lang}" for address, lang in READERS.items()])


def test_chinese_region_tags_are_stored_as_the_script_their_readers_read(project: Path) -> None:
    _mixed_list(project)
    store = project_store(project)
    try:
        stored = {s.email: s.lang for s in store.find()}
    finally:
        store.close()
    assert stored["hans1@example.com"] == stored["hans2@example.org"] == "zh-Hans"
    assert stored["hant2@example.org"] == stored["hant3@example.net"] == "zh-Hant"
    assert stored["english@example.com"] == "en" and stored["nolang@example.net"] is None


def test_each_reader_gets_one_copy_in_their_edition_through_sendgrid(project: Path) -> None:
    _mixed_list(project)
    with fake_sendgrid.running() as fake:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", cwd=project, env=sendgrid_env(fake.url)
        )
        assert result.returncode == 0, result.stderr
        assert re.search(
            r"9: 6 get zh-Hant \(1 en, 1 fr: no edition of theirs\), 3 get\s+zh-Hans",
            result.stdout,
        ), result.stdout
        assert fake.recipients() == dict.fromkeys(READERS, 1)
        got = {
            to["email"]: (body, p)
            for body in fake.accepted
            for p in body["personalizations"]
            for to in p["to"]
        }
        locales = load_locales(project / "templates")
        for address, lang in READERS.items():
            body, personal = got[address]
            html, text = (  # the reader's copy: their slots filled, as SendGrid fills them
                _substituted(
                    next(c["value"] for c in body["content"] if c["type"] == kind), personal
                )
                for kind in ("text/html", "text/plain")
            )
            locale = locales[EDITION_OF[lang]]  # the text's "view in browser: <its page>" line
            web_version = text.split(locale.view_in_browser + locale.colon)[1].split()[0]
            if EDITION_OF[lang] == "zh-Hans":
                assert body["subject"] == SIMPLIFIED_SUBJECT
                assert '<html lang="zh-Hans"' in html and "'PingFang SC'" in html
                for part in (html, text):
                    assert "区块链" in part and "數據" not in part and "随着医疗数据" in part
                assert web_version.endswith("/archive/2025-09-04-ai-blockchain-healthcare/zh-Hans")
            else:
                assert body["subject"] == TRADITIONAL_SUBJECT
                assert '<html lang="zh-Hant"' in html and "'PingFang TC'" in html
                assert "區塊鏈" in html and "区块链" not in text
                assert web_version.endswith("/archive/2025-09-04-ai-blockchain-healthcare")
        requests = len(fake.accepted)
        assert requests == 2  # one request per edition, not per reader

        env = sendgrid_env(fake.url)
        again = run_cli("send", str(SAMPLE_ARTICLE), "--yes", cwd=project, env=env)
        assert again.returncode == 0, again.stderr
        switched = run_cli(
            "subscribers", "set", "hant1@example.com", "--lang", "zh-CN", cwd=project
        )
        assert switched.returncode == 0, switched.stderr
        segment = run_cli(
            "send", str(SAMPLE_ARTICLE), "--yes", "--lang", "zh-Hans", cwd=project, env=env
        )
        assert "nobody to send to" in segment.stderr  # who switched has had the issue
        assert len(fake.accepted) == requests

    data = json.loads(
        run_cli("campaigns", "show", "--json", _only_campaign(project), cwd=project).stdout
    )
    assert data["sent_by_edition"] == {"zh-Hant": 6, "zh-Hans": 3}
    shown = run_cli("campaigns", "show", _only_campaign(project), cwd=project).stdout
    assert "sent by edition: 6 zh-Hant, 3 zh-Hans" in shown


def test_a_dry_run_writes_each_reader_their_edition(project: Path) -> None:
    _mixed_list(project)
    result = run_cli("send", str(SAMPLE_ARTICLE), "--dry-run", cwd=project)
    assert result.returncode == 0, result.stderr
    outbox = project / "outbox" / "2025-09-04-ai-blockchain-healthcare"
    subjects = {}
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        subjects[message["To"].addresses[0].addr_spec] = message["Subject"]
    assert subjects == {
        address: SIMPLIFIED_SUBJECT if EDITION_OF[lang] == "zh-Hans" else TRADITIONAL_SUBJECT
        for address, lang in READERS.items()
    }


def test_with_editions_off_everyone_gets_the_original(project: Path) -> None:
    _mixed_list(project)
    env = {"NEWSLETTER_ZH_HANS_EDITION": "off"}
    result = run_cli("send", str(SAMPLE_ARTICLE), "--dry-run", cwd=project, env=env)
    assert result.returncode == 0, result.stderr
    outbox = project / "outbox" / "2025-09-04-ai-blockchain-healthcare"
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Subject"] == TRADITIONAL_SUBJECT


def _only_campaign(project: Path) -> str:
    (campaign,) = json.loads(run_cli("campaigns", "list", "--json", cwd=project).stdout)
    return str(campaign["id"])


def _with_english_edition(project: Path) -> Path:
    """The sample article with an English edition the editor wrote beside it."""
    articles = project / "articles"
    articles.mkdir()
    source = SAMPLE_ARTICLE.read_text("utf-8").replace(
        "lang: zh-Hant\n", "lang: zh-Hant\neditions:\n  en: sample.en.md\n", 1
    )
    (articles / "sample.md").write_text(source, "utf-8")
    (articles / "sample.en.md").write_text(
        "---\ntitle: AI and blockchain in medicine and research\ndate: 2025-09-04\nlang: en\n"
        "---\n\nIn 2025, AI and blockchain reshape medicine and research.\n",
        "utf-8",
    )
    return articles / "sample.md"


def test_an_english_edition_the_editor_wrote_goes_to_english_readers_from_the_snapshot(
    project: Path,
) -> None:
    article = _with_english_edition(project)
    _mixed_list(project)
    with fake_smtp.running() as server:
        server.refuse_rcpt = {"english@example.com": "554 5.7.1 message refused"}
        env = smtp_env(server.port)
        sent = run_cli("send", str(article), "--yes", cwd=project, env=env)
        assert sent.returncode == 0, sent.stderr
        assert re.search(r"1\s+get\s+en\b", sent.stdout), sent.stdout
        (project / "articles" / "sample.en.md").unlink()  # what was sent is in the snapshot
        server.refuse_rcpt = {}
        retried = run_cli("campaigns", "retry", _only_campaign(project), "--failed", "--yes", cwd=project, env=env)  # fmt: skip
        assert retried.returncode == 0, retried.stderr
        subjects = {
            rcpt[0]: email.message_from_bytes(data, policy=email.policy.default)["Subject"]
            for _, rcpt, data in server.messages
        }
    assert subjects["english@example.com"] == "AI and blockchain in medicine and research"
    assert subjects["hans1@example.com"] == SIMPLIFIED_SUBJECT
    assert subjects["french@example.org"] == TRADITIONAL_SUBJECT  # no French edition
    assert len(server.messages) == len(READERS)


def test_editing_only_a_written_edition_is_a_change_to_the_issue(project: Path) -> None:
    article = _with_english_edition(project)
    _mixed_list(project)
    with fake_smtp.running() as server:
        result = run_cli("send", str(article), "--yes", cwd=project, env=smtp_env(server.port))
    assert result.returncode == 0, result.stderr
    campaign = _only_campaign(project)
    shown = json.loads(run_cli("campaigns", "show", campaign, "--json", cwd=project).stdout)
    assert shown["article_changed"] is False
    english = project / "articles" / "sample.en.md"
    english.write_text(english.read_text("utf-8") + "\nA late correction.\n", "utf-8")
    shown = json.loads(run_cli("campaigns", "show", campaign, "--json", cwd=project).stdout)
    assert shown["article_changed"] is True


def _substituted(content: str, personalization: dict[str, Any]) -> str:
    for token, value in personalization["substitutions"].items():
        content = content.replace(token, value)
    return content
