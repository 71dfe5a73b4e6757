"""Settings: newsletter.toml, then .env, then NEWSLETTER_* variables; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_settings
from newsletter.errors import ConfigError
from tests.conftest import REPO

BASE = (REPO / "newsletter.toml").read_text(encoding="utf-8")


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "newsletter.toml"
    path.write_text(BASE, encoding="utf-8")
    return path


def test_the_shipped_example_settings_load(toml: Path) -> None:
    settings = load_settings(toml)
    assert settings.base_url == "https://news.example.com"
    assert settings.list_label == "newsletter.example.com"
    assert settings.unsubscribe_address == "unsubscribe@example.com"


def test_environment_beats_dotenv_beats_toml(toml: Path, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / ".env").write_text(
        "NEWSLETTER_BASE_URL=https://dotenv.example.org\nNEWSLETTER_ACCENT_COLOR=#112233\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "https://env.example.net/")
    settings = load_settings(toml)
    assert settings.base_url == "https://env.example.net"
    assert settings.accent_color == "#112233"


def test_the_config_file_can_come_from_an_environment_variable(
    toml: Path, tmp_path: Path, monkeypatch
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(BASE.replace("Trilogies Weekly", "Other Weekly"), encoding="utf-8")
    monkeypatch.setenv("NEWSLETTER_CONFIG", str(other))
    assert load_settings().from_name == "Other Weekly"


def test_an_unknown_setting_is_named_with_its_line(toml: Path) -> None:
    toml.write_text(BASE + 'acent_color = "#000000"\n', encoding="utf-8")
    line = len(BASE.splitlines()) + 1
    with pytest.raises(
        ConfigError, match=rf"newsletter\.toml:{line}: unknown setting 'acent_color'"
    ):
        load_settings(toml)


def test_a_missing_setting_says_where_to_set_it(toml: Path) -> None:
    toml.write_text(BASE.replace("postal_address", "# postal_address"), encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"'postal_address' is missing: add it to .* or set NEWSLETTER_POSTAL_ADDRESS",
    ):
        load_settings(toml)


def test_a_bad_value_names_the_setting_and_its_source(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_BASE_URL", "http://news.example.com")
    with pytest.raises(
        ConfigError, match=r"'base_url' must be an https:// URL \(from NEWSLETTER_BASE_URL\)"
    ):
        load_settings(toml)


def test_the_secret_key_never_appears_in_output(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "short-secret")
    with pytest.raises(ConfigError) as error:
        load_settings(toml)
    assert "short-secret" not in str(error.value)
    monkeypatch.setenv("NEWSLETTER_SECRET_KEY", "a-much-longer-secret-value-123")
    settings = load_settings(toml)
    assert "a-much-longer-secret-value-123" not in repr(settings)


def test_a_config_file_that_is_not_toml_is_a_clear_error(toml: Path) -> None:
    toml.write_text("base_url = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(toml)


def test_a_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_dotenv_may_hold_other_tools_variables_but_not_misspelt_settings(
    toml: Path, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://db.example.com/x\n", encoding="utf-8")
    assert load_settings(toml).accent_color == "#0b5cab"
    (tmp_path / ".env").write_text("NEWSLETTER_ACENT_COLOR=#000000\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\.env: unknown setting NEWSLETTER_ACENT_COLOR"):
        load_settings(toml)


def test_a_misspelt_environment_variable_is_refused(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_BASEURL", "https://news.example.com")
    with pytest.raises(ConfigError, match="unknown environment variable NEWSLETTER_BASEURL"):
        load_settings(toml)


def test_a_bad_value_in_dotenv_is_blamed_on_dotenv(toml: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("NEWSLETTER_ACCENT_COLOR=blue\n", encoding="utf-8")
    with pytest.raises(
        ConfigError,
        match=r"^\S*\.env: setting 'accent_color' must be a #rrggbb colour .*NEWSLETTER_ACCENT_COLOR",
    ):
        load_settings(toml)


def test_sender_addresses_must_be_sendable(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_FROM_EMAIL", "news@Bücher.example")
    assert load_settings(toml).from_email == "news@xn--bcher-kva.example"
    monkeypatch.setenv("NEWSLETTER_REPLY_TO", "josé@example.com")
    with pytest.raises(ConfigError, match="'reply_to' needs an ASCII part before the @"):
        load_settings(toml)


def test_paths_start_at_the_settings_files_folder_wherever_it_runs(
    toml: Path, tmp_path: Path, monkeypatch
) -> None:
    """`--config /path/newsletter.toml` from elsewhere once made a new, empty list here."""
    (tmp_path / ".env").write_text("NEWSLETTER_ACCENT_COLOR=#112233\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(toml)
    assert settings.database_url == f"sqlite:///{tmp_path / 'subscribers' / 'subscribers.db'}"
    assert settings.outbox_dir == tmp_path / "outbox" and settings.build_dir == tmp_path / "build"
    assert settings.templates_dir == tmp_path / "templates"
    assert settings.accent_color == "#112233", "the .env beside the settings file"


def test_list_settings_take_commas_from_the_environment(toml: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEWSLETTER_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.1")
    monkeypatch.setenv("NEWSLETTER_SENDGRID_CATEGORIES", '["weekly", "hk"]')
    settings = load_settings(toml)
    assert settings.trusted_proxies == ["127.0.0.1", "10.0.0.1"]
    assert settings.sendgrid_categories == ("weekly", "hk")
