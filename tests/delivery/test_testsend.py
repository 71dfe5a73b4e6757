"""Test sends go to the typed addresses only, and nothing in them names the address but To."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SAMPLE_ARTICLE, run_cli, sendgrid_env, smtp_env
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp

EDITOR = "tester@example.net"


def test_an_smtp_test_send_names_the_address_only_in_to(listed: Path) -> None:
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--test", EDITOR, cwd=listed, env=smtp_env(server.port)
        )
        assert result.returncode == 0, result.stderr
    ((_, rcpt, data),) = server.messages
    assert rcpt == [EDITOR]
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    lines = [line for line in head.replace("\r\n ", " ").split("\r\n") if EDITOR in line]
    assert [line.split(":", 1)[0] for line in lines] == ["To"]
    assert data.count(EDITOR.encode()) == 1  # not in the unsubscribe link or mailto either
    assert "List-Unsubscribe: <https://news.example.com/u/test-" in head.replace("\r\n ", " ")


def test_a_sendgrid_test_send_carries_a_keyed_hash_not_the_address(listed: Path) -> None:
    with fake_sendgrid.running() as fake:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--test", EDITOR, cwd=listed, env=sendgrid_env(fake.url)
        )
        assert result.returncode == 0, result.stderr
    ((personalization,),) = [body["personalizations"] for body in fake.accepted]
    assert personalization["to"][0]["email"] == EDITOR
    others = {key: value for key, value in personalization.items() if key != "to"}
    assert EDITOR not in json.dumps(others)
    assert personalization["custom_args"]["subscriber"].startswith("test-")
