"""What the zh-Hans edition adds: per issue (conversion and a second render) and per reader.

    python benchmarks/editions.py [--rounds 15] [--runs 20]

Each line prints the project's median beside a floor: the same work with nothing in the way,
written below. Rounds interleave project and floor, so load on the machine hits both alike.

- issue: read the sample and render every edition (zh-Hant + zh-Hans) vs render the original
  alone; the difference is what editions add per issue (goal: < 30 ms).
- conversion: the article through Converter.markdown (code, URLs, tags kept; phrases applied;
  readings recorded) vs one bare OpenCC call over the whole source.
- reader: one zh-Hans reader's complete message from the multi-edition builder vs one
  original reader's from a single-edition builder (goal: the same).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

import opencc

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.render import median_ms  # noqa: E402
from newsletter.compose.article import read_article  # noqa: E402
from newsletter.compose.editions import article_editions  # noqa: E402
from newsletter.config import Settings, SimplifiedEdition, load_settings  # noqa: E402
from newsletter.qa.build import sample_recipient  # noqa: E402
from newsletter.render import render_issue  # noqa: E402
from newsletter.render.editions import render_editions  # noqa: E402
from newsletter.render.mime import MessageBuilder  # noqa: E402

ARTICLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"


def interleaved(
    pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]], rounds: int, runs: int
) -> dict[str, tuple[float, float]]:
    """Per name, (project, floor) medians over rounds that alternate the two."""
    found: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
    for project, floor in pairs.values():
        project(), floor()  # warm: dictionaries loaded, templates compiled
    for _ in range(rounds):
        for name, (project, floor) in pairs.items():
            found[name][0].append(median_ms(project, runs))
            found[name][1].append(median_ms(floor, runs))
    return {n: (statistics.median(p), statistics.median(f)) for n, (p, f) in found.items()}


def cases(settings: Settings) -> dict[str, tuple[Callable[[], object], Callable[[], object]]]:
    article = read_article(ARTICLE)
    plain = settings.model_copy(update={"zh_hans_edition": SimplifiedEdition.OFF})
    editions = article_editions(article, settings)
    assert editions.converter is not None
    converter, source = editions.converter, article.source
    bare = opencc.OpenCC("hk2s")
    both = MessageBuilder(render_editions(editions, settings), settings, campaign="bench")
    one = MessageBuilder(render_issue(article, plain), settings, campaign="bench")
    hans = sample_recipient(settings, "zh-Hans")
    original = sample_recipient(settings)
    return {
        "issue": (
            lambda: render_editions(article_editions(read_article(ARTICLE), settings), settings),
            lambda: render_issue(read_article(ARTICLE), plain),
        ),
        "conversion": (lambda: converter.markdown(source), lambda: bare.convert(source)),
        "reader": (lambda: both.build(hans), lambda: one.build(original)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.chdir(REPO)
    results = interleaved(cases(load_settings()), args.rounds, args.runs)
    print(
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"opencc {opencc.__version__}; medians of {args.rounds} rounds x {args.runs} runs"
    )
    print(f"{'work':<12}{'project':>12}{'floor':>12}{'ratio':>8}{'added':>12}")
    for name, (project, floor) in results.items():
        unit, scale = ("µs", 1000) if name == "reader" else ("ms", 1)
        print(
            f"{name:<12}{project * scale:>10.2f}{unit}{floor * scale:>10.2f}{unit}"
            f"{project / floor:>7.2f}x{(project - floor) * scale:>10.2f}{unit}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
