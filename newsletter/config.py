"""Settings: newsletter.toml, overridden by .env, overridden by NEWSLETTER_* environment variables.

Every setting is a flat key; its environment name is NEWSLETTER_ plus the key in capitals
(``base_url`` -> ``NEWSLETTER_BASE_URL``). Later issues add their settings here the same way.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import EmailStr, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from newsletter.addresses import normalize
from newsletter.errors import ConfigError
from newsletter.userinput import key_line, require_https

__all__ = ["DEFAULT_CONFIG", "DOTENV", "ClickTracking", "Settings", "config_path", "load_settings"]

DEFAULT_CONFIG = Path("newsletter.toml")
DOTENV = Path(".env")
EXAMPLE_SECRET = "example-secret-key-change-me-before-sending"
"""The value shipped in newsletter.toml: public, so never good enough for a real send."""
EXAMPLE_POSTAL = "Trilogies Ltd., 18/F, 1 Example Road, Central, Hong Kong"
"""The fictitious postal address shipped in newsletter.toml."""
_RESERVED = ("example.com", "example.net", "example.org", "test", "example", "invalid", "localhost")
"""Domains reserved for examples (RFC 2606, 6761): nobody reads mail or serves pages there."""
ENV_PREFIX = "NEWSLETTER_"
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ClickTracking(StrEnum):
    """Whether links in campaigns lead through `serve` to be counted (docs/reporting.md)."""

    OFF = "off"
    """Links are exactly the author's."""
    AGGREGATE = "aggregate"
    """Clicks are counted per link; nothing says who clicked."""
    PER_READER = "per-reader"
    """Clicks are counted per link and reader."""


class SimplifiedEdition(StrEnum):
    """How a zh-Hant article becomes its zh-Hans edition: an OpenCC configuration, or none.

    docs/editions.md says which fits which Traditional text; hk2s reads Hong Kong usage.
    """

    OFF = "off"
    HK2S = "hk2s"
    TW2S = "tw2s"
    TW2SP = "tw2sp"
    T2S = "t2s"


class Settings(BaseSettings):
    """Branding, sender and path settings shared by every command."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=DOTENV,
        env_file_encoding="utf-8",
        extra="ignore",  # .env may hold other tools' variables; our own typos are caught below
        frozen=True,
    )

    newsletter_name: str = Field(min_length=1, description="Shown in the header and From name.")
    from_email: EmailStr
    from_name: str | None = Field(default=None, description="Defaults to newsletter_name.")
    reply_to: EmailStr | None = None
    base_url: str = Field(description="https:// address of the web app (unsubscribe, archive).")
    postal_address: str = Field(min_length=1, description="Sender's postal address (CAN-SPAM).")
    logo_url: str | None = None
    logo_alt: str | None = None
    accent_color: str = "#0b5cab"
    list_id: str | None = Field(default=None, description="RFC 2919 list label; derived if unset.")
    unsubscribe_mailto: EmailStr | None = None
    secret_key: SecretStr = Field(description="Signs unsubscribe tokens; keep it out of git.")
    database_url: str = Field(
        default="sqlite:///subscribers/subscribers.db",
        description="SQLAlchemy URL of the subscriber store; relative SQLite paths start at the settings file's folder.",
    )
    provider: Literal["sendgrid", "smtp"] | None = Field(
        default=None, description="How real sends go out."
    )
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_timeout: float = Field(
        default=30.0, gt=0, description="Seconds to wait for SendGrid's answer."
    )
    sendgrid_categories: Annotated[tuple[str, ...], NoDecode] = ("newsletter",)
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_ca_file: Path | None = Field(
        default=None, description="Extra CA certificates, for a relay with a private CA."
    )
    smtp_rate: float = Field(
        default=0.0,
        ge=0,
        description="Messages per second; 0 means as fast as the server takes them.",
    )
    smtp_timeout: float = Field(default=30.0, gt=0)
    smtp_retry_after: float = Field(
        default=30.0,
        ge=0,
        le=300,
        description="Seconds before a reader the SMTP server deferred (4xx) is tried again.",
    )
    max_consecutive_failures: int = Field(
        default=50, ge=1, description="Pause a campaign after this many failures in a row."
    )
    click_tracking: ClickTracking = Field(
        default=ClickTracking.OFF,
        description="off, aggregate (clicks per link) or per-reader (per link and reader); "
        "tracked links lead through `newsletter serve` at base_url.",
    )
    zh_hans_edition: SimplifiedEdition = Field(
        default=SimplifiedEdition.HK2S,
        description="The OpenCC configuration that makes a zh-Hant article's zh-Hans edition "
        "(hk2s, tw2s, tw2sp, t2s), or off for none.",
    )
    machine_click_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Clicks this soon after a message was sent count as a link scanner's.",
    )
    outbox_dir: Path = Path("outbox")
    templates_dir: Path = Path("templates")
    build_dir: Path = Path("build")
    sample_name: str = "Ada Lovelace"
    sample_email: EmailStr = "reader@example.com"
    chromium_path: Path | None = Field(
        default=None, description="Chromium for screenshots [default: chromium on the PATH]."
    )
    environment: Literal["production", "development"] = Field(
        default="production",
        description="development lets `newsletter serve` start with the example secret.",
    )
    sendgrid_webhook_public_key: str | None = Field(
        default=None,
        description="Base64 ECDSA P-256 key of SendGrid's Signed Event Webhook.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Host names `serve` answers to besides base_url's (and loopback).",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses whose X-Forwarded-For/-Proto `serve` believes.",
    )
    soft_bounce_limit: int = Field(
        default=3, ge=1, description="Soft bounces in a row that mark an address bounced."
    )
    site_dir: Path = Field(
        default=Path("site"), description="Where `newsletter archive build` writes."
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone for `send --at` times written without an offset, such as Asia/Hong_Kong.",
    )

    @field_validator("sendgrid_host")
    @classmethod
    def _api_host(cls, value: str) -> str:
        loopback = value.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))
        if not value.startswith("https://") and not loopback:
            raise ValueError("must be an https:// URL (plain http only to 127.0.0.1 for tests)")
        return value.rstrip("/")

    @field_validator("base_url", "logo_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return https.rstrip("/") if (https := require_https(value)) else value

    @field_validator("from_email", "reply_to", "unsubscribe_mailto", "sample_email")
    @classmethod
    def _sendable(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.rsplit("@", 1)[0].isascii():
            raise ValueError(
                "needs an ASCII part before the @ (non-ASCII needs SMTPUTF8, which newsletter does not send)"
            )
        return normalize(value).email

    @field_validator("sendgrid_categories", "allowed_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        """A list from TOML as is; from the environment as `a,b` (or JSON, `["a", "b"]`)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError('must be a list such as a,b or ["a", "b"]') from None
        return [item.strip() for item in text.split(",") if item.strip()]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder
                raise ValueError("must be an IANA time zone such as Asia/Hong_Kong") from None
        return value

    @field_validator("accent_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not _HEX_COLOUR.match(value):
            raise ValueError("must be a #rrggbb colour such as #0b5cab")
        return value.lower()

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (try: openssl rand -hex 32)")
        return value

    @property
    def uses_example_secret(self) -> bool:
        return self.secret_key.get_secret_value() == EXAMPLE_SECRET

    @property
    def example_identity(self) -> list[str]:
        """Settings still holding an example: mail from them has links nobody can open and a
        sender nobody can answer, so real sends and `serve` refuse them outside development."""
        found = ["secret_key"] if self.uses_example_secret else []
        for name, domain in (
            ("base_url", urlsplit(self.base_url).hostname or ""),
            ("from_email", self.from_email.rsplit("@", 1)[1]),
            ("reply_to", (self.reply_to or "@").rsplit("@", 1)[1]),
        ):
            if any(domain == d or domain.endswith(f".{d}") for d in _RESERVED):
                found.append(name)
        if self.postal_address == EXAMPLE_POSTAL:
            found.append("postal_address")
        return found

    def require_real_identity(self, doing: str) -> None:
        """Raise ConfigError naming each example setting, unless environment is development."""
        examples = self.example_identity
        if examples and self.environment != "development":
            raise ConfigError(
                f"{', '.join(examples)} still hold the shipped examples; set real values "
                f"(NEWSLETTER_{examples[0].upper()}, or .env) before {doing}, or environment = "
                '"development" to try it against local servers'
            )

    @property
    def database_label(self) -> str:
        """Where the list lives, for people: the SQLite file, or the server without password."""
        if self.database_url.startswith("sqlite:///"):
            return str(Path(self.database_url.removeprefix("sqlite:///")).resolve())
        from sqlalchemy.engine.url import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)

    @property
    def sender_name(self) -> str:
        return self.from_name or self.newsletter_name

    @property
    def sending_domain(self) -> str:
        return self.from_email.rsplit("@", 1)[1]

    @property
    def list_label(self) -> str:
        return self.list_id or f"newsletter.{self.sending_domain}"

    @property
    def unsubscribe_address(self) -> str:
        return self.unsubscribe_mailto or f"unsubscribe@{self.sending_domain}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment must beat it.
        return env_settings, dotenv_settings, init_settings


def config_path(config: Path | None = None) -> Path:
    """The settings file in use: ``--config``, else NEWSLETTER_CONFIG, else ./newsletter.toml."""
    return config or Path(os.environ.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG))


def load_settings(config: Path | None = None) -> Settings:
    """Read the TOML file (``--config``, NEWSLETTER_CONFIG or ./newsletter.toml) and the environment.

    Relative paths in any setting start at the settings file's folder, and its .env is the one
    beside it, so a command run from elsewhere uses the same list, outbox and templates.
    """
    path = config_path(config)
    if path.is_dir():
        raise ConfigError("is a folder; give the settings file (newsletter.toml)", path=path)
    values = _read_toml(path, required=config is not None)
    folder = path.resolve().parent
    dotenv = path.parent / DOTENV
    _refuse_unknown_keys(values, path, dotenv)
    try:
        settings = Settings(_env_file=dotenv, **values)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise _config_error(exc, path, dotenv) from None
    return _anchored(settings, folder)


def _anchored(settings: Settings, folder: Path) -> Settings:
    """Relative paths made absolute from the settings file's folder (when run from elsewhere:
    from the folder itself they already point there, and messages keep them short)."""
    if folder == Path.cwd().resolve():
        return settings
    changes: dict[str, Any] = {
        name: folder / value
        for name in ("outbox_dir", "templates_dir", "build_dir", "site_dir", "smtp_ca_file")
        if isinstance(value := getattr(settings, name), Path) and not value.is_absolute()
    }
    database = settings.database_url.removeprefix("sqlite:///")
    if (
        settings.database_url.startswith("sqlite:///")
        and database not in ("", ":memory:")
        and not database.startswith("/")
    ):
        changes["database_url"] = f"sqlite:///{folder / database}"
    return settings.model_copy(update=changes) if changes else settings


def _read_toml(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.exists():
        if required:
            raise ConfigError("config file not found; pass an existing file to --config", path=path)
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=path) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text; save it as UTF-8", path=path) from None


def _refuse_unknown_keys(values: dict[str, Any], path: Path, dotenv: Path) -> None:
    """A misspelt setting must not be silently ignored: not in the TOML, .env or the environment."""
    for key in values:
        if key not in Settings.model_fields:
            raise ConfigError(
                f"unknown setting '{key}': check the spelling against README.md#configuration",
                path=path,
                line=_line_of(path, key),
            )
    known = {f"{ENV_PREFIX}{field.upper()}" for field in Settings.model_fields} | {
        f"{ENV_PREFIX}CONFIG"
    }
    for name in os.environ:
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known:
            raise ConfigError(
                f"unknown environment variable {name}: check the spelling against README.md#configuration"
            )
    for name in _dotenv(dotenv):
        if name.upper().startswith(ENV_PREFIX) and name.upper() not in known:
            raise ConfigError(
                f"unknown setting {name}: check the spelling against README.md#configuration",
                path=dotenv,
            )


def _dotenv(path: Path) -> dict[str, str | None]:
    return dotenv_values(path) if path.is_file() else {}


def _config_error(exc: ValidationError, path: Path, dotenv: Path) -> ConfigError:
    """Name the first bad setting, where it came from and how to set it."""
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else "?"
    env_name = f"{ENV_PREFIX}{key.upper()}"
    if error["type"] == "missing" and not path.exists():
        return ConfigError(
            f"setting '{key}' is missing and there is no {path} here: run in the newsletter's "
            f"folder, pass --config, or set {env_name}"
        )
    if error["type"] == "missing":
        return ConfigError(f"setting '{key}' is missing: add it to {path} or set {env_name}")
    reason = str(error["msg"]).removeprefix("Value error, ")
    if env_name in os.environ:
        return ConfigError(f"setting '{key}' {reason} (from {env_name})")
    if env_name in _dotenv(dotenv):
        return ConfigError(f"setting '{key}' {reason} (from {env_name})", path=dotenv)
    return ConfigError(f"setting '{key}' {reason}", path=path, line=_line_of(path, key))


def _line_of(path: Path, key: str) -> int | None:
    return key_line(path.read_text(encoding="utf-8"), key, "=") if path.exists() else None
