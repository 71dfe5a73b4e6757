"""`newsletter serve` and `newsletter archive build`: the subscriber-facing web."""

from __future__ import annotations

import contextlib
import gc
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from newsletter.cli.context import console, listen, open_store, settings

__all__ = ["archive_app", "serve"]

archive_app = typer.Typer(help="The web archive of sent issues.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve unsubscribe, sign-up, SendGrid events, the archive and /healthz.

    Run it behind a TLS proxy at base_url, with trusted_proxies set (see docs/web.md).
    """
    import uvicorn

    from newsletter.web.app import create_app, refuse_unsafe_settings, uvicorn_options

    config = settings()
    refuse_unsafe_settings(config)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    with open_store(config) as store:
        app = create_app(config, store)
        sock = listen(host, port)  # a taken port is one line, before uvicorn says it started
        # Everything loaded so far lives as long as the process: keep the collector from
        # rescanning it, which took webhook batches from ~50 ms to ~100 ms now and then.
        gc.freeze()
        bound = sock.getsockname()[1]
        console.print(
            f"Serving {escape(config.base_url)} on http://{host}:{bound}/ (Ctrl-C to stop)"
        )
        logging.getLogger("newsletter.web").info("running on http://%s:%d/", host, bound)
        server = uvicorn.Config(
            app, host=host, port=bound, log_level="info", **uvicorn_options(config)
        )
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn passes Ctrl-C on after stopping
            uvicorn.Server(server).run(sockets=[sock])


@archive_app.command("build")
def build_archive(
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write \\[default: site_dir, ./site].")
    ] = None,
) -> None:
    """Write the archive (index, every sent issue, Atom feed) as static files for any host.

    The folder is replaced as a whole: keep nothing else in it.
    """

    from newsletter.render.pages import Pages
    from newsletter.web.site import build_site

    config = settings()
    with open_store(config) as store:
        target = out or config.site_dir
        pages = Pages.of_site(config)
        written = build_site(store, config, target, pages)
    issues = sum(1 for name in written if name.endswith("/index.html") and name.count("/") == 2)
    console.print(f"Wrote {len(written)} files ({issues} issues) to {escape(str(target))}/")
