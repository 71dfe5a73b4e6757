"""`newsletter subscribers ...` run as real subprocesses against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.cli.test_compose import assert_one_line_error
from tests.conftest import FIXTURES, REPO, run_cli


def cli(project: Path, *args: str):
    return run_cli("subscribers", *args, cwd=project)


def test_add_list_show_and_stats(project: Path) -> None:
    assert (
        cli(
            project,
            "add",
            "ada@example.com",
            "--name",
            "Ada Lovelace",
            "--lang",
            "en",
            "--tag",
            "vip",
            "--consent",
            "signed up at a talk",
        ).returncode
        == 0
    )
    assert (
        "as pending"
        in cli(project, "add", "chan@example.net", "--name", "陳大文", "--lang", "zh-Hant").stdout
    )
    listed = json.loads(cli(project, "list", "--json").stdout)
    assert listed == [
        {
            "email": "ada@example.com",
            "name": "Ada Lovelace",
            "lang": "en",
            "tags": ["vip"],
            "status": "subscribed",
        },
        {
            "email": "chan@example.net",
            "name": "陳大文",
            "lang": "zh-Hant",
            "tags": [],
            "status": "pending",
        },
    ]
    table = cli(project, "list", "--status", "pending").stdout
    assert (
        "chan@example.net" in table
        and "ada@example.com" not in table
        and "page 1 of 1 (1 subscribers)" in table
    )
    shown = json.loads(cli(project, "show", "ada@example.com", "--json").stdout)
    assert shown["consent_method"] == "cli: signed up at a talk"
    assert [h["to"] for h in shown["history"]] == ["subscribed"]
    stats = json.loads(cli(project, "stats", "--json").stdout)
    assert stats == {
        "database": str(project / "subscribers" / "subscribers.db"),
        "total": 2,
        "status": {"pending": 1, "subscribed": 1},
        "tag": {"vip": 1},
        "lang": {"en": 1, "zh-Hant": 1},
        "look_alike_tags": [],
    }


def test_paging(project: Path) -> None:
    for n in range(5):
        cli(project, "add", f"r{n}@example.com")
    page = json.loads(cli(project, "list", "--json", "--page", "2", "--per-page", "2").stdout)
    assert [p["email"] for p in page] == ["r2@example.com", "r3@example.com"]


def test_unsubscribe_then_resubscribe_needs_a_reason(project: Path) -> None:
    cli(project, "add", "ada@example.com", "--consent", "form")
    assert (
        "unsubscribed"
        in cli(project, "unsubscribe", "ada@example.com", "--reason", "asked by phone").stdout
    )
    assert_one_line_error(cli(project, "resubscribe", "ada@example.com"), "needs --reason")
    assert (
        cli(
            project, "resubscribe", "ada@example.com", "--reason", "asked again by email"
        ).returncode
        == 0
    )
    history = json.loads(cli(project, "show", "ada@example.com", "--json").stdout)["history"]
    assert [(h["to"], h["reason"]) for h in history][-2:] == [
        ("unsubscribed", "asked by phone"),
        ("subscribed", "asked again by email"),
    ]


def test_remove_erases_and_the_help_says_the_hash_stays(project: Path) -> None:
    assert "suppression list" in cli(project, "remove", "--help").stdout.replace("\n", " ")
    cli(project, "add", "ada@example.com")
    assert cli(project, "remove", "ada@example.com", "--yes").returncode == 0
    assert_one_line_error(cli(project, "show", "ada@example.com"), "not on the list")
    assert_one_line_error(cli(project, "add", "ada@example.com"), "erased")


def test_tag_and_untag(project: Path) -> None:
    cli(project, "add", "a@example.com")
    cli(project, "add", "b@example.com")
    assert "Tagged 2" in cli(project, "tag", "vip", "a@example.com", "b@example.com").stdout
    assert "from 1" in cli(project, "untag", "vip", "b@example.com").stdout
    assert [
        p["email"] for p in json.loads(cli(project, "list", "--tag", "vip", "--json").stdout)
    ] == ["a@example.com"]


def test_list_by_several_tags_any_or_all_and_stats_warn_of_look_alike_tags(
    project: Path,
) -> None:
    cli(project, "add", "a@example.com", "--tag", "Health-News", "--tag", "vip")
    cli(project, "add", "b@example.com", "--tag", "health-news")
    cli(project, "add", "c@example.com", "--tag", "health news")

    def listed(*args: str) -> list[str]:
        return [p["email"] for p in json.loads(cli(project, "list", *args, "--json").stdout)]

    assert listed("--tag", "HEALTH-NEWS") == ["a@example.com", "b@example.com"]
    assert listed("--tag", "vip", "--tag", "health news") == ["a@example.com", "c@example.com"]
    assert listed("--tag", "vip", "--tag", "health-news", "--all-tags") == ["a@example.com"]
    stats = cli(project, "stats")
    assert "'Health-News', 'health news'" in stats.stderr
    assert "look like one segment spelled differently" in stats.stderr


def test_import_prints_what_happened_and_writes_rejects(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "listmonk.csv"
    source.write_bytes((FIXTURES / "subscribers" / "listmonk_bom_crlf.csv").read_bytes())
    result = cli(project, "import", str(source))
    assert result.returncode == 0, result.stderr
    for line in (
        "read as listmonk",
        "added",
        "rejected",
        "invalid address",
        "listmonk.rejects.csv",
    ):
        assert line in result.stdout
    assert (tmp_path / "listmonk.rejects.csv").exists()


def test_import_errors_are_one_line(project: Path) -> None:
    big5 = FIXTURES / "subscribers" / "big5_names.csv"
    assert_one_line_error(cli(project, "import", str(big5)), "big5_names.csv:1:", "--encoding")
    assert_one_line_error(
        cli(project, "import", str(big5), "--encoding", "klingon"), "unknown text encoding"
    )
    assert_one_line_error(cli(project, "import", "missing.csv"), "file not found")
    custom = FIXTURES / "subscribers" / "custom_columns.csv"
    assert_one_line_error(
        cli(project, "import", str(custom), "--map", "Correo"), "should look like"
    )
    assert_one_line_error(cli(project, "list", "--status", "gone"), "is not a status")
    assert_one_line_error(cli(project, "add", "not-an-address"), "not a valid address")
    assert_one_line_error(
        cli(project, "add", "long@example.org", "--name", "x" * 201),
        "name is 201 characters; at most 200",
    )


def test_dry_run_changes_nothing(project: Path) -> None:
    result = cli(
        project,
        "import",
        str(FIXTURES / "subscribers" / "mailchimp_audience_export_5f1a.zip"),
        "--dry-run",
    )
    assert "Dry run: nothing was changed." in result.stdout
    assert json.loads(cli(project, "list", "--json").stdout) == []


def test_export_to_a_file_and_to_stdout_round_trips(project: Path, tmp_path: Path) -> None:
    cli(project, "import", str(FIXTURES / "subscribers" / "mailchimp_audience_export_5f1a.zip"))
    out = tmp_path / "export.csv"
    assert cli(project, "export", str(out)).returncode == 0
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert len(rows) == 6 and rows[0][0] == "email"
    assert cli(project, "export", "--status", "bounced").stdout.count("\n") == 2
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "newsletter.toml").write_text((REPO / "newsletter.toml").read_text("utf-8"), "utf-8")
    assert cli(fresh, "import", str(out)).returncode == 0
    assert cli(fresh, "export").stdout == cli(project, "export").stdout


def test_set_changes_name_language_and_tags_with_a_history_entry(project: Path) -> None:
    """`add` on a known address said "already on the list", with no way to change anything."""
    cli(project, "add", "chan@example.net", "--name", "陳大文", "--lang", "zh-Hant", "--tag", "hk")
    changed = cli(project, "set", "chan@example.net", "--lang", "en", "--name", "David Chan",
                  "--tag", "vip", "--untag", "hk")  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    shown = json.loads(cli(project, "show", "chan@example.net", "--json").stdout)
    assert (shown["name"], shown["lang"], shown["tags"]) == ("David Chan", "en", ["vip"])
    assert "lang 'en' (was 'zh-Hant')" in shown["history"][-1]["reason"]
    assert_one_line_error(cli(project, "set", "chan@example.net"), "say what to change")


def test_import_gives_a_language_to_rows_without_one_and_says_who_is_pending(
    project: Path, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text("email,name,lang\na@example.org,A,\nb@example.org,B,en\n", "utf-8")
    result = cli(project, "import", str(people), "--lang", "zh-Hant")
    assert result.returncode == 0, result.stderr
    assert "2 new readers pending" in result.stdout and "confirm --send" in result.stdout
    listed = json.loads(cli(project, "list", "--json").stdout)
    assert {r["email"]: r["lang"] for r in listed} == {
        "a@example.org": "zh-Hant",
        "b@example.org": "en",
    }


def test_a_later_row_for_the_same_reader_fills_gaps_but_never_renames(
    project: Path, tmp_path: Path
) -> None:
    """ "Ken Duplicate" once replaced "Ken Wong", and the later consent date replaced the first."""
    people = tmp_path / "people.csv"
    people.write_text(
        "email,name\nken@example.com,Ken Wong\nken@example.com,Ken Duplicate\n", "utf-8"
    )
    cli(project, "import", str(people), "--consent", "signed up at the fair")
    again = tmp_path / "again.csv"
    again.write_text("email,name\nken@example.com,Kenneth\n", "utf-8")
    cli(project, "import", str(again))
    assert (
        json.loads(cli(project, "show", "ken@example.com", "--json").stdout)["name"] == "Ken Wong"
    )
    cli(project, "import", str(again), "--update-names")
    assert json.loads(cli(project, "show", "ken@example.com", "--json").stdout)["name"] == "Kenneth"


def test_confirm_send_mails_pending_readers_the_sign_up_link(project: Path) -> None:
    from tests.conftest import smtp_env
    from tests.fakes import smtp as fake_smtp

    cli(project, "add", "new@example.org", "--lang", "en")
    with fake_smtp.running() as server:
        env = smtp_env(server.port)
        for _ in range(3):
            sent = run_cli("subscribers", "confirm", "--send", cwd=project, env=env)
            assert sent.returncode == 0 and "confirmation link sent" in sent.stdout, sent.stderr
        fourth = run_cli(
            "subscribers", "confirm", "--send", "new@example.org", cwd=project, env=env
        )
    assert fourth.returncode == 1 and "3 already in the last day" in fourth.stdout
    assert [rcpt for _, rcpt, _ in server.messages] == [["new@example.org"]] * 3
    assert b"/confirm/" in server.messages[0][2]


def test_add_and_set_store_a_chinese_region_as_the_script_it_reads(project: Path) -> None:
    added = run_cli(
        "subscribers", "add", "sg@example.com", "--lang", "zh_SG", "--consent", "t", cwd=project
    )
    assert added.returncode == 0, added.stderr
    shown = json.loads(
        run_cli("subscribers", "show", "sg@example.com", "--json", cwd=project).stdout
    )
    assert shown["lang"] == "zh-Hans"
    assert (
        run_cli("subscribers", "set", "sg@example.com", "--lang", "zh-HK", cwd=project).returncode
        == 0
    )
    shown = json.loads(
        run_cli("subscribers", "show", "sg@example.com", "--json", cwd=project).stdout
    )
    assert shown["lang"] == "zh-Hant"
    listed = run_cli("subscribers", "list", "--lang", "zh-TW", "--json", cwd=project)
    assert [r["email"] for r in json.loads(listed.stdout)] == ["sg@example.com"]
