"""`newsletter serve` as a whole: headers, limits, health, logs, and refusing unsafe settings."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from newsletter.audience.store import Store
from newsletter.db.schema import confirmations
from newsletter.web.app import create_app, uvicorn_options
from tests.conftest import run_cli
from tests.web.conftest import SECRET, Served, serving, web_settings


def test_pages_carry_strict_security_headers(served: Served) -> None:
    page = served.client.get("/subscribe")
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "server" not in headers or "uvicorn" not in headers["server"]


def test_an_oversized_body_is_refused_before_it_is_read(served: Served) -> None:
    big = served.client.post(
        "/subscribe",
        content=b"x" * 100_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert big.status_code == 413

    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    reader = served.add("reader@example.com")
    chunked = served.client.post(
        f"/u/{served.token(reader)}",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413
    assert served.store.get("reader@example.com").status == "subscribed"


def test_the_health_check_answers_for_the_proxy(served: Served) -> None:
    answer = served.client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_logs_name_routes_never_tokens_or_addresses(served: Served, caplog) -> None:
    caplog.set_level(logging.INFO)
    reader = served.add("reader@example.com")
    token = served.token(reader)
    served.client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("newsletter"))
    assert "POST /u/{token} 200" in logged
    assert token not in logged and "reader@example.com" not in logged


def serve_process(project: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsletter", "serve", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
    )


def test_serve_refuses_to_start_with_the_example_secret(project: Path) -> None:
    result = run_cli("serve", cwd=project)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "secret_key is the public example value" in line and "NEWSLETTER_SECRET_KEY" in line


def test_serve_runs_as_a_real_process(project: Path) -> None:
    with serve_process(
        project, {"NEWSLETTER_SECRET_KEY": SECRET, "NEWSLETTER_ENVIRONMENT": "development"}
    ) as process:
        try:
            port = _port_from_log(process)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(15)
    assert process.returncode == 0


def test_development_may_use_the_example_secret(project: Path) -> None:
    with serve_process(project, {"NEWSLETTER_ENVIRONMENT": "development"}) as process:
        try:
            port = _port_from_log(process)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(15)


def _port_from_log(process: subprocess.Popen[str]) -> int:
    """serve logs where it listens on stderr ("running on http://127.0.0.1:PORT/")."""
    assert process.stderr is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"running on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return int(found.group(1))
        if not line and process.poll() is not None:
            break
    pytest.fail("newsletter serve did not start")


@pytest.mark.parametrize(
    ("trusted", "expected"), [([], "127.0.0.1"), (["127.0.0.1"], "203.0.113.7")]
)
def test_forwarded_addresses_count_only_from_trusted_proxies(
    tmp_path: Path, trusted: list[str], expected: str
) -> None:
    settings = web_settings(tmp_path, trusted_proxies=trusted)
    store = Store.open(settings.database_url)
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    try:
        with (
            serving(create_app(settings, store), uvicorn_options(settings)) as url,
            httpx.Client(base_url=url, headers=forwarded) as client,
        ):
            page = client.get("/subscribe")
            client.cookies.set("nl_csrf", page.cookies["nl_csrf"])
            token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            form = {"csrf": token, "email": "reader@example.com", "consent": "yes"}
            assert client.post("/subscribe", data=form).status_code == 200
            deadline = time.monotonic() + 5
            while store.get("reader@example.com") is None and time.monotonic() < deadline:
                time.sleep(0.05)
        with store.read() as conn:
            assert conn.execute(select(confirmations.c.ip)).scalar_one() == expected
    finally:
        store.close()


def test_housekeeping_runs_when_the_app_starts(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO)
    settings = web_settings(tmp_path)
    store = Store.open(settings.database_url)
    try:
        with serving(create_app(settings, store)) as url:
            deadline = time.monotonic() + 5
            while "housekeeping:" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
            assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        store.close()
    assert "housekeeping: 0 old event ids, 0 unconfirmed sign-ups deleted" in caplog.text


def test_a_broken_strings_file_stops_serve_with_one_line(project: Path) -> None:
    strings = project / "templates" / "web" / "strings.toml"
    strings.write_text(
        strings.read_text("utf-8").replace('language_name = "English"', "language_name = ", 1),
        "utf-8",
    )
    env = {"NEWSLETTER_SECRET_KEY": SECRET, "NEWSLETTER_ENVIRONMENT": "development"}
    result = run_cli("serve", cwd=project, env=env)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: templates/web/strings.toml: not valid TOML"), line


def test_serve_answers_only_to_its_own_host_names(served: Served) -> None:
    """A foreign Host once came back in the archive's slash redirect: an open redirect."""
    foreign = served.client.get("/archive", headers={"Host": "evil.example.net"})
    assert foreign.status_code == 400 and "evil.example.net" not in foreign.headers.get(
        "location", ""
    )
    own = served.client.get("/archive", headers={"Host": "news.example.com"})
    assert own.status_code in (307, 308)
    assert own.headers["location"].startswith(
        ("http://news.example.com/", "https://news.example.com/")
    )
    assert served.client.get("/healthz").status_code == 200  # loopback, as a health check calls it


def test_serve_refuses_the_shipped_example_identity_outside_development(project: Path) -> None:
    """Unsubscribe links to news.example.com reach nobody; mail from example.com nobody answers."""
    result = run_cli("serve", cwd=project, env={"NEWSLETTER_SECRET_KEY": SECRET})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "base_url, from_email, reply_to, postal_address still hold the shipped examples" in line


def test_a_port_already_taken_is_one_line_before_anything_starts(project: Path) -> None:
    """It once said "startup complete", then printed uvicorn's bind error."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = {"NEWSLETTER_SECRET_KEY": SECRET, "NEWSLETTER_ENVIRONMENT": "development"}
        result = run_cli("serve", "--port", str(port), cwd=project, env=env)
    assert result.returncode == 1 and "startup complete" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr.strip().splitlines()[-1]
