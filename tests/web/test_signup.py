"""/subscribe and /confirm: double opt-in, as a person in a browser and as an abuser would try."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from newsletter.audience.models import Status
from newsletter.tokens import CONFIRM_MAX_AGE, NonceTokens
from tests.fakes import sendgrid as fake_sendgrid
from tests.fakes import smtp as fake_smtp
from tests.web.conftest import SECRET, Served


def csrf(client: httpx.Client, lang: str = "en") -> str:
    page = client.get("/subscribe", params={"lang": lang})
    # The cookie is Secure (base_url is https); over http://127.0.0.1 httpx would drop it.
    client.cookies.set("nl_csrf", page.cookies["nl_csrf"])
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_up(served: Served, address: str, **fields: str) -> httpx.Response:
    form = {"csrf": csrf(served.client), "email": address, "consent": "yes", "lang": "en"}
    return served.client.post("/subscribe", data=form | fields)


def outbox(served: Served) -> list[email.message.EmailMessage]:
    folder = Path(served.settings.outbox_dir) / "transactional"
    deadline = time.monotonic() + 5
    messages: list[email.message.EmailMessage] = []
    while time.monotonic() < deadline:
        messages = (
            [
                email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
                for p in sorted(folder.glob("*.eml"))
            ]
            if folder.exists()
            else []
        )
        if messages:
            break
        time.sleep(0.05)
    return messages


def confirm_path(message: email.message.EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    url = re.search(r"https://\S+/confirm/\S+", text).group()  # type: ignore[union-attr]
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_reader_signs_up_and_confirms_in_a_browser(browser, served: Served) -> None:
    page = browser.new_page(locale="zh-HK")
    page.goto(f"{served.url}/subscribe")
    assert page.locator("html").get_attribute("lang") == "zh-Hant"
    page.fill("#email", "new.reader@example.com")
    page.fill("#name", "陳大文")
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    assert "請查看你的郵箱" in page.inner_text("h1")
    (message,) = outbox(served)  # the sign-up is recorded after the answer, then mailed
    assert served.store.get("new.reader@example.com").status is Status.PENDING
    assert message["To"].addresses[0].addr_spec == "new.reader@example.com"
    assert "List-Unsubscribe" not in message and message["Auto-Submitted"] == "auto-generated"
    assert "請確認訂閱" in message["Subject"]
    assert message.get_body(("html",)) is not None
    page.goto(served.url + confirm_path(message))
    assert served.store.get("new.reader@example.com").status is Status.PENDING, (
        "GET confirms nothing"
    )
    page.click("button[type=submit]")
    assert "訂閱成功" in page.inner_text("h1")
    page.close()
    reader = served.store.get("new.reader@example.com")
    assert (
        reader.status is Status.SUBSCRIBED and reader.name == "陳大文" and reader.lang == "zh-Hant"
    )
    assert reader.consent_ip == "127.0.0.1" and reader.consent_at is not None
    assert "我同意以電郵收取" in reader.consent_method
    assert "HeadlessChrome" in (reader.consent_user_agent or "")


def test_a_confirmation_link_works_once(served: Served) -> None:
    sign_up(served, "reader@example.com")
    path = confirm_path(outbox(served)[0])
    assert served.client.post(path).status_code == 200
    again = served.client.post(path)
    assert again.status_code == 404 and "already been used" in again.text


def test_a_confirmation_link_expires_after_seven_days(served: Served) -> None:
    tokens = NonceTokens(SECRET, "confirm", served.settings.list_label, CONFIRM_MAX_AGE)
    tokens._signer.get_timestamp = lambda: int(time.time()) - 8 * 86400  # type: ignore[method-assign]
    _, token = tokens.issue()
    assert served.client.get(f"/confirm/{token}").status_code == 404
    assert served.client.post(f"/confirm/{token}").status_code == 404


def test_the_answer_is_the_same_whether_or_not_the_address_is_on_the_list(
    served: Served,
) -> None:
    served.add("known@example.com")
    served.store.add("gone@example.com")
    served.store.change_status("gone@example.com", "complained", actor="test", reason="x")
    known = sign_up(served, "known@example.com")
    gone = sign_up(served, "gone@example.com")
    unknown = sign_up(served, "unknown@example.com")
    assert known.status_code == gone.status_code == unknown.status_code == 200
    assert known.text.replace("known", "X") == unknown.text.replace("unknown", "X")
    assert gone.text.replace("gone", "X") == unknown.text.replace("unknown", "X")
    assert [m["To"].addresses[0].username for m in outbox(served)] == ["unknown"]
    assert served.store.get("gone@example.com").status is Status.COMPLAINED


def test_consent_and_a_real_address_are_required(served: Served) -> None:
    no_consent = sign_up(served, "reader@example.com", consent="")
    assert no_consent.status_code == 400 and "tick the box" in no_consent.text
    assert 'value="reader@example.com"' in no_consent.text, "the form keeps what was typed"
    bad = sign_up(served, "not-an-address")
    assert bad.status_code == 400 and "not an email address" in bad.text
    assert served.store.count() == 0


def test_an_address_we_cannot_send_to_is_refused_not_left_pending(served: Served) -> None:
    """用户@example.com once got "check your inbox", a pending row, and never a mail."""
    unicode_local = sign_up(served, "用户@example.com")
    assert unicode_local.status_code == 400 and "not an email address" in unicode_local.text
    assert served.store.count() == 0 and outbox(served) == []


def test_a_post_without_the_forms_cookie_is_refused(served: Served) -> None:
    token = csrf(served.client)
    stranger = httpx.post(
        f"{served.url}/subscribe",
        data={"csrf": token, "email": "reader@example.com", "consent": "yes"},
    )
    assert stranger.status_code == 403 and "expired" in stranger.text
    forged = served.client.post(
        "/subscribe", data={"csrf": "made-up", "email": "reader@example.com", "consent": "yes"}
    )
    assert forged.status_code == 403
    assert served.store.count() == 0


def test_a_filled_honeypot_gets_the_usual_answer_and_nothing_happens(served: Served) -> None:
    answer = sign_up(served, "bot@example.com", website="https://spam.example.net")
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert served.store.count() == 0 and outbox(served) == []


def test_too_many_sign_ups_from_one_address_are_slowed_down(served: Served) -> None:
    codes = [sign_up(served, f"r{i}@example.com").status_code for i in range(6)]
    assert codes == [200] * 5 + [429]


def test_one_address_gets_at_most_three_confirmation_emails_a_day(served: Served) -> None:
    answers = [sign_up(served, "Target@Example.com").status_code for _ in range(4)]
    assert answers == [200] * 4
    time.sleep(0.5)
    assert len(outbox(served)) == 3


@pytest.mark.parametrize("provider", ["smtp", "sendgrid"])
def test_the_confirmation_goes_through_the_configured_provider(serve, provider: str) -> None:
    if provider == "smtp":
        with fake_smtp.running() as server:
            served = serve(
                provider="smtp", smtp_host="127.0.0.1", smtp_port=server.port, smtp_tls="none"
            )
            sign_up(served, "reader@example.com")
            deadline = time.monotonic() + 5
            while not server.messages and time.monotonic() < deadline:
                time.sleep(0.05)
        ((_, rcpt, data),) = server.messages
        assert rcpt == ["reader@example.com"] and b"/confirm/" in data
    else:
        with fake_sendgrid.running() as fake:
            served = serve(
                provider="sendgrid", sendgrid_api_key="SG.test-key-not-real", sendgrid_host=fake.url
            )
            sign_up(served, "reader@example.com")
            deadline = time.monotonic() + 5
            while not fake.accepted and time.monotonic() < deadline:
                time.sleep(0.05)
        assert fake.answers == [202]
        (body,) = fake.accepted
        assert body["personalizations"][0]["to"] == [{"email": "reader@example.com"}]
        assert "headers" not in body and body["categories"] == ["confirmation"]


def test_the_forms_cookie_is_strict_secure_and_scoped(served: Served) -> None:
    cookie = served.client.get("/subscribe").headers["set-cookie"].lower()
    for flag in ("httponly", "secure", "samesite=strict", "path=/subscribe"):
        assert flag in cookie, cookie


def test_a_name_with_line_breaks_is_one_clean_line(served: Served) -> None:
    sign_up(served, "reader@example.com", name="Ada\r\nBcc: victim@example.net\x00")
    (message,) = outbox(served)
    assert "Bcc" not in message or message["Bcc"] is None
    assert message["To"].addresses[0].display_name == "Ada Bcc: victim@example.net"
    assert served.store.get("reader@example.com").name == "Ada Bcc: victim@example.net"


def test_confirming_never_renames_someone_already_known(served: Served) -> None:
    served.store.add("reader@example.com", name="Ada Lovelace")
    served.store.unsubscribe("reader@example.com")
    sign_up(served, "reader@example.com", name="Prankster")
    served.client.post(confirm_path(outbox(served)[0]))
    reader = served.store.get("reader@example.com")
    assert reader.status is Status.SUBSCRIBED and reader.name == "Ada Lovelace"


def test_a_link_from_before_someone_left_cannot_bring_them_back(served: Served) -> None:
    sign_up(served, "reader@example.com")
    sign_up(served, "reader@example.com")
    time.sleep(0.5)
    first, second = (confirm_path(m) for m in outbox(served))
    assert served.client.post(first).status_code == 200
    reader = served.store.get("reader@example.com")
    served.client.post(f"/u/{served.token(reader.id)}", data={"List-Unsubscribe": "One-Click"})
    assert served.client.post(second).status_code == 404
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED


def test_a_bounced_address_cannot_be_confirmed(served: Served) -> None:
    sign_up(served, "reader@example.com")
    path = confirm_path(outbox(served)[0])
    served.store.change_status("reader@example.com", Status.BOUNCED, actor="test", reason="x")
    answer = served.client.post(path)
    assert answer.status_code == 404 and "already been used or has expired" in answer.text
    assert served.store.get("reader@example.com").status is Status.BOUNCED


def _wait_for(caplog: pytest.LogCaptureFixture, words: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [r.getMessage() for r in caplog.records if words in r.getMessage()]
        if lines:
            return lines[0]
        time.sleep(0.05)
    raise AssertionError(f"no log line with {words!r}: {caplog.text}")


def test_a_confirmation_the_smtp_server_refuses_is_logged_with_its_answer_not_the_address(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsletter")
    with fake_smtp.running() as server:
        server.refuse_rcpt["reader@example.com"] = (
            "550 5.1.1 <Reader@Example.com>: Recipient address rejected"
        )
        served = serve(
            provider="smtp", smtp_host="127.0.0.1", smtp_port=server.port, smtp_tls="none"
        )
        sign_up(served, "reader@example.com")
        line = _wait_for(caplog, "confirmation not sent")
    assert "by smtp" in line and "550 5.1.1" in line and "Recipient address rejected" in line
    assert "reader@example.com" not in caplog.text.lower()


def test_a_confirmation_sendgrid_refuses_is_logged_with_its_answer(
    serve, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="newsletter")
    with fake_sendgrid.running() as fake:
        fake.plan.append("401")
        served = serve(
            provider="sendgrid", sendgrid_api_key="SG.test-key-not-real", sendgrid_host=fake.url
        )
        sign_up(served, "reader@example.com")
        line = _wait_for(caplog, "confirmation not sent")
    assert "by sendgrid" in line and "401" in line
    assert "reader@example.com" not in caplog.text.lower()
    assert "SG.test-key-not-real" not in caplog.text


def test_a_reader_can_sign_up_for_the_simplified_edition(served: Served) -> None:
    form = served.client.get("/subscribe", params={"lang": "zh-CN"})
    assert '<option value="zh-Hans" selected>简体中文</option>' in form.text
    assert '<html lang="zh-Hans"' in form.text and "订阅" in form.text
    answer = sign_up(served, "hans@example.com", lang="zh-Hans")
    assert answer.status_code == 200
    (message,) = outbox(served)
    assert message["Subject"].startswith("请确认订阅")  # the confirmation in their script
    served.client.get(confirm_path(message))
    assert served.store.get("hans@example.com").lang == "zh-Hans"
