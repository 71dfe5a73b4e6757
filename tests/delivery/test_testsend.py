"""Test sends go to the typed addresses only, and nothing in them names the address but To."""

from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

from tests.cli.test_compose import assert_one_line_error
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
    assert len(server.messages) == 2  # one per edition: zh-Hant, then zh-Hans
    for _, rcpt, data in server.messages:
        assert rcpt == [EDITOR]
        head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
        lines = [line for line in head.replace("\r\n ", " ").split("\r\n") if EDITOR in line]
        assert [line.split(":", 1)[0] for line in lines] == ["To"]
        assert data.count(EDITOR.encode()) == 1  # not in the unsubscribe link or mailto either
        assert "List-Unsubscribe: <https://news.example.com/u/test-" in head.replace("\r\n ", " ")
    ids = [
        email.message_from_bytes(d, policy=email.policy.default)["Message-ID"]
        for *_, d in server.messages
    ]
    assert len(set(ids)) == 2


def test_a_sendgrid_test_send_carries_a_keyed_hash_not_the_address(listed: Path) -> None:
    with fake_sendgrid.running() as fake:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--test", EDITOR, cwd=listed, env=sendgrid_env(fake.url)
        )
        assert result.returncode == 0, result.stderr
    subjects = [body["subject"] for body in fake.accepted]
    assert subjects == [
        f"[TEST] {s}"
        for s in (
            "叁壹智能新聞：人工智能與區塊鏈在醫療與科研的融合應用",
            "叁壹智能新闻：人工智能与区块链在医疗与科研的融合应用",
        )
    ]
    for body in fake.accepted:
        (personalization,) = body["personalizations"]
        assert personalization["to"][0]["email"] == EDITOR
        others = {key: value for key, value in personalization.items() if key != "to"}
        assert EDITOR not in json.dumps(others)
        assert personalization["custom_args"]["subscriber"].startswith("test-")


def _text_part(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=email.policy.default)
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def test_a_typed_display_name_is_accepted_unquoted_and_greets_that_reader(listed: Path) -> None:
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--test", "陳編輯 <chan@example.com>",
            cwd=listed, env=smtp_env(server.port),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    (_, rcpt, traditional), (_, _, simplified) = server.messages  # one per edition
    assert rcpt == ["chan@example.com"]
    text = _text_part(traditional)
    assert "陳編輯你好" in text and "陳編輯你好" in _text_part(simplified)  # a name is a name
    assert "Ada" not in text


def test_several_typed_addresses_in_one_value_each_get_their_own_greeting(listed: Path) -> None:
    with fake_smtp.running() as server:
        result = run_cli(
            "send", str(SAMPLE_ARTICLE), "--test",
            '"Lee, Mei" <mei@example.com>, 陳編輯 <chan@example.com>',
            cwd=listed, env=smtp_env(server.port),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    greetings = {tuple(rcpt): _text_part(data) for _, rcpt, data in server.messages}
    assert "Mei你好" in greetings[("mei@example.com",)]
    assert "陳編輯你好" in greetings[("chan@example.com",)]


def test_a_typed_address_with_trailing_words_is_refused(listed: Path) -> None:
    result = run_cli(
        "send", str(SAMPLE_ARTICLE), "--test", "陳編輯 <chan@example.com> hi", cwd=listed
    )
    assert_one_line_error(result, "test address", "is not valid")
