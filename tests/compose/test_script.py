"""Traditional -> Simplified: OpenCC's words, the editor's phrases, and what must not change."""

from __future__ import annotations

import pytest

from newsletter.compose.script import Converter
from newsletter.config import SimplifiedEdition

HK2S = SimplifiedEdition.HK2S


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [("區塊鏈", "区块链"), ("數據", "数据"), ("醫療", "医疗"), ("科研協作", "科研协作")],
)
def test_the_sample_articles_terms_convert(traditional: str, simplified: str) -> None:
    assert Converter(HK2S, {}).text(traditional) == simplified


@pytest.mark.parametrize(
    ("hong_kong", "simplified"),
    [
        ("衞生", "卫生"),  # the Hong Kong form of 衛: t2s and tw2s leave it Traditional
        ("綫上", "线上"),
        ("裏面", "里面"),
        ("電郵", "电邮"),
        ("雪櫃", "雪柜"),
        ("資訊科技", "资讯科技"),
    ],
)
def test_hong_kong_usage_converts_with_hk2s(hong_kong: str, simplified: str) -> None:
    assert Converter(HK2S, {}).text(hong_kong) == simplified


def test_hk2s_leaves_the_particle_zhe_to_the_editors_phrases() -> None:
    """OpenCC issue #555: Hong Kong writes 著 for zhe, and hk2s keeps it."""
    assert Converter(HK2S, {}).text("隨著") == "随著"
    phrases = {"著": "着", "顯著": "显著"}
    assert Converter(HK2S, phrases).text("隨著時間，效果顯著") == "随着时间，效果显著"


def test_a_longer_phrase_wins_and_kept_names_stay_as_written() -> None:
    converter = Converter(HK2S, {"數據": "资料"}, keep=["灣仔", "數據港"])
    assert converter.text("灣仔的數據港和數據") == "灣仔的數據港和资料"


def test_urls_code_addresses_and_tags_stay_but_alt_and_link_text_convert() -> None:
    source = (
        '見 [醫療數據](https://example.com/醫療?q=數據 "區塊鏈") 與 <https://example.org/區塊鏈>\n'
        "`數據 = 1` 請電郵 editor@example.com 或 https://example.net/data。\n"
        '<img src="https://example.com/醫療.png" alt="醫療圖表" title="數據">\n'
    )
    converted = Converter(HK2S, {}).markdown(source).text
    assert converted == (
        '见 [医疗数据](https://example.com/醫療?q=數據 "区块链") 与 <https://example.org/區塊鏈>\n'
        "`數據 = 1` 请电邮 editor@example.com 或 https://example.net/data。\n"
        '<img src="https://example.com/醫療.png" alt="医疗图表" title="数据">\n'
    )


def test_code_blocks_are_kept_line_for_line() -> None:
    source = "醫療\n```\n數據 = '區塊鏈'\n```\n醫療\n"
    converted = Converter(HK2S, {}).markdown(source, code_lines={1, 2, 3}).text
    assert converted == "医疗\n```\n數據 = '區塊鏈'\n```\n医疗\n"


def test_each_character_with_two_readings_is_reported_where_it_is() -> None:
    conversion = Converter(HK2S, {}).markdown("第一行\n這對於電子記錄，乾淨。\n")
    found = [(r.line, r.char, r.became, r.source, r.reading) for r in conversion.readings]
    assert found == [
        (2, "於", "于", "這對於電子", "这对于电子"),
        (2, "乾", "干", "錄，乾淨。", "录，干净。"),
    ]


def test_the_reading_of_a_phrase_is_found_across_the_pieces_it_was_converted_in() -> None:
    conversion = Converter(HK2S, {"著": "着"}).markdown("隨著醫療\n")
    assert conversion.readings_of("隨著") == [(1, "随着")]


def test_prose_right_after_a_url_or_an_address_still_converts() -> None:
    """Chinese puts no space around a URL: the URL ends where URL characters do."""
    converter = Converter(HK2S, {})
    assert converter.markdown("請電郵至info@example.com查詢詳情。").text == (
        "请电邮至info@example.com查询详情。"
    )
    assert converter.markdown("詳見https://example.com/report了解更多資訊。").text == (
        "详见https://example.com/report了解更多资讯。"
    )


def test_reference_links_keep_working_their_labels_convert_alike() -> None:
    source = "見[醫療報告][]與[連結][醫療]。\n\n[醫療報告]: https://example.com/醫療\n[醫療]: https://example.org\n"
    converted = Converter(HK2S, {}).markdown(source).text
    assert converted == (
        "见[医疗报告][]与[连结][医疗]。\n\n[医疗报告]: https://example.com/醫療\n[医疗]: https://example.org\n"
    )
    from newsletter.compose import markdown

    html = markdown.body_html(markdown.parse(converted))
    assert html.count("<a ") == 2 and 'href="https://example.com/%E9%86%AB%E7%99%82"' in html


def test_readings_stay_precise_where_opencc_changed_the_length_of_a_run() -> None:
    """tw2sp writes 記憶體 as 内存: the places after it must still be found exactly."""
    conversion = Converter(SimplifiedEdition.TW2SP, {}).markdown(
        "記憶體很大，隨著時間，於是乾淨。\n"
    )
    assert conversion.text == "内存很大，随着时间，于是干净。\n"
    assert conversion.readings_of("隨著") == [(1, "随着")]
    assert conversion.readings_of("記憶體") == [(1, "内存")]
    assert [(r.char, r.became, r.reading) for r in conversion.readings] == [
        ("著", "着", "，随着时间"),
        ("於", "于", "间，于是干"),
        ("乾", "干", "于是干净。"),
    ]
