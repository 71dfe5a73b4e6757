"""/u/{token}: one-click unsubscribe as Gmail and Yahoo send it, and the page readers see."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from newsletter.audience.models import Status
from newsletter.tokens import UnsubscribeTokens
from tests.web.conftest import SECRET, Served

ONE_CLICK = "List-Unsubscribe=One-Click"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_opening_the_link_only_asks_and_changes_nothing(served: Served) -> None:
    reader = served.add("reader@example.com")
    page = served.client.get(f"/u/{served.token(reader)}")
    assert page.status_code == 200
    assert "You are about to stop receiving" in page.text and '<form method="post">' in page.text
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED


def test_a_one_click_post_as_gmail_sends_it_unsubscribes_at_once_without_redirect(
    served: Served,
) -> None:
    reader = served.add("reader@example.com")
    answer = httpx.post(f"{served.url}/u/{served.token(reader)}", content=ONE_CLICK, headers=FORM)
    assert answer.status_code == 200 and "location" not in answer.headers
    assert "set-cookie" not in answer.headers
    subscriber = served.store.get("reader@example.com")
    assert subscriber.status is Status.UNSUBSCRIBED
    last = served.store.history("reader@example.com")[-1]
    assert (last.actor, last.reason) == ("web", "one-click (List-Unsubscribe-Post)")


def test_a_multipart_one_click_post_works_too(served: Served) -> None:
    reader = served.add("reader@example.com")
    answer = httpx.post(
        f"{served.url}/u/{served.token(reader)}", files={"List-Unsubscribe": (None, "One-Click")}
    )
    assert answer.status_code == 200
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED


def test_unsubscribing_twice_is_the_same_as_once(served: Served) -> None:
    reader = served.add("reader@example.com")
    url = f"/u/{served.token(reader)}"
    first = served.client.post(url, content=ONE_CLICK, headers=FORM)
    second = served.client.post(url, content=ONE_CLICK, headers=FORM)
    assert first.status_code == second.status_code == 200
    moves = [h for h in served.store.history("reader@example.com") if h.to_status == "unsubscribed"]
    assert len(moves) == 1


def test_forged_tampered_foreign_and_unknown_tokens_get_one_neutral_answer(
    served: Served,
) -> None:
    reader = served.add("reader@example.com")
    good = served.token(reader)
    foreign = UnsubscribeTokens(SECRET, "another.list.example.com").issue(str(reader))
    unknown = served.token(reader + 1000)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    test_send = served_token_for_key(served, "test-editor@example.com")
    answers = [
        served.client.post(f"/u/{token}", content=ONE_CLICK, headers=FORM)
        for token in ("forged", tampered, foreign, unknown, test_send)
    ]
    assert {a.status_code for a in answers} == {404}
    assert len({a.text for a in answers}) == 1
    assert served.client.get(f"/u/{tampered}").text == answers[0].text
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED


def test_hammering_with_forged_tokens_changes_nothing(served: Served) -> None:
    readers = [served.add(f"reader{i}@example.com") for i in range(20)]
    forged = [served.token(r)[:-3] + "xyz" for r in readers] * 25

    def post(token: str) -> int:
        return httpx.post(
            f"{served.url}/u/{token}", content=ONE_CLICK, headers=FORM, timeout=30
        ).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(post, forged))
    assert set(codes) == {404} and len(codes) == 500
    assert served.store.count() == 20
    assert all(s.status is Status.SUBSCRIBED for s in served.store.find())


def test_a_link_from_sixty_one_days_ago_still_works(served: Served) -> None:
    reader = served.add("reader@example.com")
    tokens = UnsubscribeTokens(SECRET, served.settings.list_label)
    tokens._signer.get_timestamp = lambda: int(time.time()) - 61 * 86400  # type: ignore[method-assign]
    old = tokens.issue(str(reader))
    assert served.client.post(f"/u/{old}", content=ONE_CLICK, headers=FORM).status_code == 200
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED


def test_a_one_click_body_that_cannot_be_parsed_still_unsubscribes(served: Served) -> None:
    reader = served.add("reader@example.com")
    answer = httpx.post(
        f"{served.url}/u/{served.token(reader)}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "multipart/form-data"},  # no boundary: unparseable
    )
    assert answer.status_code == 200
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED


def test_someone_an_editor_unsubscribed_is_not_offered_to_come_back(served: Served) -> None:
    reader = served.add("reader@example.com")
    served.store.unsubscribe("reader@example.com", actor="cli", reason="asked by phone")
    url = f"/u/{served.token(reader)}"
    assert 'value="resubscribe"' not in served.client.get(url).text
    served.client.post(url, data={"action": "resubscribe"})
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED


def test_subscribe_again_on_a_subscribed_reader_keeps_asking(served: Served) -> None:
    reader = served.add("reader@example.com")
    page = served.client.post(f"/u/{served.token(reader)}", data={"action": "resubscribe"})
    assert "You are about to stop receiving" in page.text
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED


def test_the_page_offers_to_come_back_and_records_it(served: Served) -> None:
    reader = served.add("reader@example.com")
    url = f"/u/{served.token(reader)}"
    left = served.client.post(url, data={"action": "unsubscribe"})
    assert "You have left" in left.text and 'value="resubscribe"' in left.text
    back = served.client.post(url, data={"action": "resubscribe"})
    assert "Welcome back" in back.text
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED
    last = served.store.history("reader@example.com")[-1]
    assert last.reason == "resubscribed on the unsubscribe page"
    back = served.store.get("reader@example.com")
    assert back.consent_ip == "127.0.0.1" and back.consent_method == last.reason


def test_the_page_speaks_the_readers_language(served: Served) -> None:
    reader = served.add("reader@example.com", lang="zh-Hant")
    page = served.client.get(f"/u/{served.token(reader)}", headers={"Accept-Language": "en"})
    assert '<html lang="zh-Hant">' in page.text and "取消訂閱" in page.text


def test_a_bounced_address_is_not_offered_to_come_back(served: Served) -> None:
    reader = served.add("reader@example.com")
    served.store.change_status("reader@example.com", Status.BOUNCED, actor="test", reason="x")
    url = f"/u/{served.token(reader)}"
    assert 'value="resubscribe"' not in served.client.get(url).text
    served.client.post(url, data={"action": "resubscribe"})
    assert served.store.get("reader@example.com").status is Status.BOUNCED


def served_token_for_key(served: Served, key: str) -> str:
    return UnsubscribeTokens(SECRET, served.settings.list_label).issue(key)


def test_a_reader_leaves_and_comes_back_in_a_browser(browser, served: Served) -> None:
    reader = served.add("reader@example.com", lang="zh-Hant")
    page = browser.new_page()
    page.goto(f"{served.url}/u/{served.token(reader)}")
    assert "你即將不再收到" in page.inner_text("main")
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED
    page.click("button:text-is('取消訂閱')")
    assert "你已取消訂閱" in page.inner_text("h1")
    assert served.store.get("reader@example.com").status is Status.UNSUBSCRIBED
    page.click("text=改變主意？重新訂閱")
    assert "歡迎回來" in page.inner_text("h1")
    page.close()
    assert served.store.get("reader@example.com").status is Status.SUBSCRIBED


def test_the_page_offers_the_other_script_before_unsubscribing(browser, served: Served) -> None:
    reader = served.add("hant@example.com", lang="zh-Hant")
    page = browser.new_page()
    page.goto(f"{served.url}/u/{served.token(reader)}")
    buttons = page.locator("main button").all_inner_texts()
    assert buttons == ["改为简体中文", "取消訂閱"]  # the switch first, in the script it offers
    page.click("text=改为简体中文")
    assert (
        "简体中文" in page.inner_text("main")
        and page.evaluate("document.documentElement.lang") == "zh-Hans"
    )
    member = served.store.get("hant@example.com")
    assert member.status is Status.SUBSCRIBED and member.lang == "zh-Hans"
    assert page.locator("main button").all_inner_texts() == ["取消订阅"]
    page.goto(f"{served.url}/u/{served.token(reader)}")  # and back again
    page.click("text=改為繁體中文")
    assert served.store.get("hant@example.com").lang == "zh-Hant"
    page.close()


def test_a_stale_or_forged_switch_never_unsubscribes(served: Served) -> None:
    reader = served.add("stay@example.com", lang="zh-Hans")
    url = f"/u/{served.token(reader)}"
    for lang in ("zh-Hans", "fr", ""):
        answer = served.client.post(url, data={"action": "edition", "lang": lang})
        assert answer.status_code == 200
        assert served.store.get("stay@example.com").status is Status.SUBSCRIBED
    assert served.store.get("stay@example.com").lang == "zh-Hans"
