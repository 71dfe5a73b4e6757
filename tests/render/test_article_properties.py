"""Generated articles: each builds, or is refused in one line naming the file; a built message
always carries the unsubscribe link and the postal address in both parts."""

from __future__ import annotations

import tempfile
from pathlib import Path

import lxml.html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.compose.article import read_article
from newsletter.config import Settings
from newsletter.errors import NewsletterError
from newsletter.render import render_issue
from newsletter.render.mime import MessageBuilder, Recipient
from tests.delivery.helpers import repo_settings

TAGS = ["div", "span", "p", "b", "table", "tr", "td", "ul", "li", "blockquote", "script", "img"]
_words = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n"), max_size=40
)


@st.composite
def raw_html(draw: st.DrawFn) -> str:
    depth = draw(st.integers(0, 60))
    tags = draw(st.lists(st.sampled_from(TAGS), min_size=depth, max_size=depth))
    inner = draw(_words)
    opened = "".join(f"<{tag}>" for tag in tags)
    closed = "".join(f"</{tag}>" for tag in reversed(tags)) if draw(st.booleans()) else ""
    return opened + inner + closed


_block = st.one_of(
    _words,
    st.builds(lambda t: f"## {t}", _words),
    st.builds(lambda t: f"- {t}\n- {t}", _words),
    st.builds(lambda t: f"```\n{t}\n```", _words),
    st.builds(lambda t: f"[{t}](https://example.com/{len(t)})", _words),
    st.builds(lambda t: f"![{t}](https://example.com/a.png)", _words),
    st.builds(lambda t: f"::: note\n{t}\n:::", _words),
    st.sampled_from(["{{ recipient.unsubscribe_url }}", "{% raw %}", "@@nl.x.h.unsubscribe_url@@"]),
    raw_html(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(_block, min_size=1, max_size=8), lang=st.sampled_from(["en", "zh-Hant"]))
def test_any_article_builds_with_its_footer_or_is_refused_in_one_line(
    blocks: list[str], lang: str
) -> None:
    config: Settings = repo_settings()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "article.md"
        body = "\n\n".join(blocks)
        path.write_text(
            f"---\ntitle: Generated\ndate: 2025-09-04\nlang: {lang}\npreheader: Hi.\n---\n\n{body}\n",
            "utf-8",
        )
        try:
            issue = render_issue(read_article(path), config)
        except NewsletterError as exc:
            assert "\n" not in str(exc) and str(exc)
            return
    builder = MessageBuilder(issue, config, campaign="property")
    envelope = builder.envelope(Recipient("7", "reader@example.com", "Ada", "Ada"))
    message = builder.message(envelope)
    for part in (message.html, message.text):
        assert envelope.unsubscribe_url in part
    assert config.postal_address in message.text
    printed = lxml.html.document_fromstring(message.html.encode("utf-8")).text_content()
    assert config.postal_address in printed
