"""The real web app under uvicorn on 127.0.0.1, over a real SQLite file."""

from __future__ import annotations

import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from newsletter.audience.store import Consent, Store
from newsletter.config import Settings
from newsletter.tokens import UnsubscribeTokens
from newsletter.web.app import create_app, uvicorn_options
from tests.conftest import REPO

SECRET = "a-real-secret-for-web-tests-only"


@dataclass
class Served:
    url: str
    settings: Settings
    store: Store
    client: httpx.Client

    def token(self, subscriber_id: int) -> str:
        tokens = UnsubscribeTokens(SECRET, self.settings.list_label)
        return tokens.issue(str(subscriber_id))

    def add(self, email: str, lang: str = "en", name: str | None = None) -> int:
        """A subscribed reader, as an import with consent would leave them."""
        return self.store.add(email, name=name, lang=lang, consent=Consent("test")).id


@contextmanager
def serving(app: Any, options: dict[str, Any] | None = None) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread; yield its http://127.0.0.1:port URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    options = {"access_log": False, "lifespan": "on", **(options or {})}
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def web_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values = tomllib.loads((REPO / "newsletter.toml").read_text(encoding="utf-8"))
    values |= {
        "secret_key": SECRET,
        "templates_dir": REPO / "templates",
        "database_url": f"sqlite:///{tmp_path / 'subscribers.db'}",
        "outbox_dir": tmp_path / "outbox",
        "build_dir": tmp_path / "build",
        "environment": "development",  # the shipped example identity, on loopback
    }
    return Settings(**(values | overrides))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start the app with settings overrides; every server started is stopped afterwards."""
    with_stack: list[Any] = []

    def start(**overrides: Any) -> Served:
        settings = web_settings(tmp_path, **overrides)
        store = Store.open(settings.database_url)
        context = serving(create_app(settings, store), uvicorn_options(settings))
        url = context.__enter__()
        client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
        with_stack.append((context, store, client))
        return Served(url, settings, store, client)

    yield start
    for context, store, client in reversed(with_stack):
        client.close()
        context.__exit__(None, None, None)
        store.close()


@pytest.fixture
def served(serve: Callable[..., Served]) -> Served:
    return serve()
