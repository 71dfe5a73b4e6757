"""`newsletter preview` and `newsletter screenshot`: see the issue before anyone gets it."""

from __future__ import annotations

import socket
import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsletter.cli.context import console, err_console, listen, options, settings
from newsletter.errors import NewsletterError

__all__ = ["preview", "screenshot"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def preview(
    article: Annotated[Path, typer.Argument(help="The article: Markdown with front matter.")],
    host: Annotated[
        str,
        typer.Option(help="Address to listen on; anything but loopback shows it to your network."),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(help="Port to listen on \\[default: a free one].", show_default=False)
    ] = 0,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open the page in your browser.")
    ] = True,
    spam: Annotated[
        bool, typer.Option("--spam/--no-spam", help="Score each render with SpamAssassin.")
    ] = True,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="Another Host name to answer (with --host), such as a VPN name; repeatable.",
        ),
    ] = None,
) -> None:
    """Serve a live preview of ARTICLE: phone and desktop frames, dark mode, text, QA, test sends.

    Saving the article, a template or newsletter.toml refreshes the page; Ctrl-C stops it.
    """
    import uvicorn

    from newsletter.preview.app import create_app
    from newsletter.preview.session import PreviewSession

    if article.is_dir():
        raise NewsletterError("is a folder; give the article's Markdown file", path=article)
    if not article.is_file():
        raise NewsletterError("article not found; check the path", path=article)
    session = PreviewSession(article, options.config, spam=spam)
    session.snapshot = session.render_now()
    if session.snapshot.error:
        console.print(f"[yellow]note:[/] {escape(session.snapshot.error)}")
    sock = listen(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    hosts = _allowed_hosts(host, allow_host or [])
    config = uvicorn.Config(
        create_app(session, hosts=hosts),
        log_level="warning",
        timeout_graceful_shutdown=1,
        lifespan="on",
    )
    console.print(f"Preview of {escape(str(article))} at [bold]{url}[/] (Ctrl-C to stop)")
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    uvicorn.Server(config).run(sockets=[sock])


def _allowed_hosts(host: str, extra: list[str]) -> list[str]:
    """Host names the page answers to: loopback, the bound address, this machine's names.

    Never any name: a site the editor visits could point its own name at this address
    (DNS rebinding), read the page and use the send-test form.
    """
    names = [*LOOPBACK, "[::1]", *extra]
    if host not in ("0.0.0.0", "::"):
        names.append(f"[{host}]" if ":" in host else host)
    names += [socket.gethostname(), socket.getfqdn()]
    return list(dict.fromkeys(names))


def screenshot(
    article: Annotated[Path, typer.Argument(help="The article: Markdown with front matter.")],
) -> None:
    """Write PNGs of ARTICLE at 375 and 600 px, light and dark, into build/<slug>.screenshots/
    (each other edition in a subfolder, such as zh-Hans/); needs Chromium."""
    from newsletter.preview.screenshot import take_screenshots
    from newsletter.qa.build import check

    config = settings()
    checked = check(article, config)
    out_dir = config.build_dir / f"{checked.issue.slug}.screenshots"  # a rebuild keeps them
    editions = {
        (lang if n else ""): sample.html
        for n, (lang, (_, sample)) in enumerate(checked.editions.items())
    }
    shots = take_screenshots(editions, out_dir, config.chromium_path)
    for path in shots.paths:
        console.print(f"Wrote {escape(str(path))}")
    if not shots.cjk_font and checked.issue.lang.startswith(("zh", "ja", "ko")):
        err_console.print(
            "[yellow]warning:[/] Chromium has no CJK font, so the text shows as boxes: "
            "apt-get install fonts-noto-cjk"
        )
