"""Median cost of each render stage for the sample article, and of a cold `newsletter build`.

    python benchmarks/render.py [--runs 50] [--cold-runs 7]

Stages run in one process, after one warm-up call, each timed over --runs calls. Then fresh
processes: `newsletter --help` beside a bare interpreter, and a cold `newsletter build` beside
the same build's work in a warm process plus a bare interpreter, each as a ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from newsletter.compose import markdown
from newsletter.compose.article import read_article
from newsletter.config import load_settings
from newsletter.qa.build import build, sample_recipient
from newsletter.render import HTML_TEMPLATE, TEXT_TEMPLATE, prepare, render_issue
from newsletter.render.inline import inline_css
from newsletter.render.jinja import render_template
from newsletter.render.mime import MessageBuilder
from newsletter.render.mjml import compile_mjml
from newsletter.render.text import body_text

REPO = Path(__file__).resolve().parent.parent
ARTICLE = REPO / "articles" / "2025-09-04-ai-blockchain-healthcare.md"


def median_ms(function: Callable[[], object], runs: int) -> float:
    function()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def stage_timings(runs: int) -> list[tuple[str, float]]:
    os.chdir(REPO)
    settings = load_settings(REPO / "newsletter.toml")
    templates = settings.templates_dir
    article = read_article(ARTICLE)
    prepared = prepare(article, settings)
    html_context, text_context = prepared.html_context(), prepared.text_context()
    mjml_source = render_template(templates, HTML_TEMPLATE, html_context)
    compiled = compile_mjml(mjml_source, templates / HTML_TEMPLATE)
    issue = render_issue(article, settings)
    builder = MessageBuilder(issue, settings, campaign="bench", date=dt.datetime.now(dt.UTC))
    recipient = sample_recipient(settings)

    def parse_stage() -> object:
        parsed = read_article(ARTICLE)
        return markdown.body_html(markdown.parse(parsed.body))

    def text_stage() -> object:
        return body_text(prepared.tokens), render_template(templates, TEXT_TEMPLATE, text_context)

    return [
        ("front matter + Markdown", median_ms(parse_stage, runs)),
        (
            "Jinja2 (MJML template)",
            median_ms(lambda: render_template(templates, HTML_TEMPLATE, html_context), runs),
        ),
        (
            "MJML (mjml-python)",
            median_ms(lambda: compile_mjml(mjml_source, templates / HTML_TEMPLATE), runs),
        ),
        ("premailer", median_ms(lambda: inline_css(compiled), runs)),
        ("plain text (tokens + template)", median_ms(text_stage, runs)),
        (
            "whole render_issue()",
            median_ms(lambda: render_issue(read_article(ARTICLE), settings), runs),
        ),
        ("MIME, one recipient", median_ms(lambda: builder.build(recipient), runs * 20)),
    ]


def start_up(runs: int) -> dict[str, float]:
    """Median wall ms of fresh processes, interleaved run by run: `newsletter --help`, a cold
    `newsletter build` of the sample (in a scratch copy of the folder), and a bare interpreter;
    and the same build's work in one warm process, so the build's floor is interpreter + work."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copy(REPO / "newsletter.toml", folder)
        shutil.copytree(REPO / "templates", folder / "templates")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": [sys.executable, "-m", "newsletter", "--help"],
            "build": [sys.executable, "-m", "newsletter", "build", str(ARTICLE)],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        # As an installed copy runs: bytecode written on the first run and read after it.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        for run in range(runs + 1):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True)
                if run:  # the first round writes the bytecode and warms the disk cache
                    samples[name].append((time.perf_counter() - start) * 1000)
        os.chdir(folder)
        settings = load_settings(folder / "newsletter.toml")
        medians = {name: statistics.median(values) for name, values in samples.items()}
        medians["build, warm"] = median_ms(lambda: build(ARTICLE, settings), runs)
        os.chdir(REPO)
        return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--cold-runs", type=int, default=7)
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"article: {ARTICLE.name}; in-process medians over {args.runs} runs")
    for name, ms in stage_timings(args.runs):
        print(f"  {name:<32} {ms:8.3f} ms")
    started = start_up(args.cold_runs)
    bare, warm = started["python -c pass"], started["build, warm"]
    print(f"fresh processes, medians of {args.cold_runs} interleaved runs:")
    print(
        f"  `newsletter --help`  {started['--help']:6.0f} ms, floor {bare:4.0f} ms "
        f"(python -c pass), ratio {started['--help'] / bare:.1f}x"
    )
    print(
        f"  cold `newsletter build` {started['build']:6.0f} ms, floor {bare + warm:4.0f} ms "
        f"(python -c pass + the same build warm in one process, {warm:.0f} ms), "
        f"ratio {started['build'] / (bare + warm):.1f}x"
    )


if __name__ == "__main__":
    main()
