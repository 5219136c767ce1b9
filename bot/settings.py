"""One settings class for the whole service (pydantic-settings, environment variables).

The names of the variables are part of the contract in ../shared/contracts.md.
"""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
SAMPLE_CITY_FILE = PACKAGE_DIR / "city" / "sample" / "city.yaml"

# Values people paste from tutorials or leave in templates. A real channel secret is 32 hex chars.
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "channel_secret", "your_channel_secret", "xxx"}


class ConfigError(RuntimeError):
    """The service must not start with this configuration; the message says why."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    line_channel_secret: SecretStr | None = Field(default=None, alias="LINE_CHANNEL_SECRET")
    line_channel_access_token: SecretStr | None = Field(default=None, alias="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base_url: str = Field(default="https://api.line.me", alias="LINE_API_BASE_URL")
    # LINE serves uploads/downloads (e.g. the rich menu image) from a separate host.
    line_api_data_base_url: str = Field(default="https://api-data.line.me", alias="LINE_API_DATA_BASE_URL")
    secret_key: SecretStr | None = Field(default=None, alias="CONSULT_SECRET_KEY")
    # Older secrets still able to decrypt data written before a key rotation (comma separated).
    old_secret_keys: str = Field(default="", alias="CONSULT_OLD_SECRET_KEYS")

    var_dir: Path = Field(default=Path("var"), alias="CONSULT_VAR_DIR")
    city_config: Path = Field(default=SAMPLE_CITY_FILE, alias="CONSULT_CITY_CONFIG")
    public_base_url: str = Field(default="http://127.0.0.1:8000", alias="CONSULT_PUBLIC_BASE_URL")
    # Staff cookies get the Secure flag unless explicitly running plain-HTTP locally.
    secure_cookies: bool = Field(default=False, alias="CONSULT_SECURE_COOKIES")
    run_worker: bool = Field(default=True, alias="CONSULT_RUN_WORKER")
    load_nlp: bool = Field(default=True, alias="CONSULT_LOAD_NLP")
    max_body_bytes: int = Field(default=1_000_000, alias="CONSULT_MAX_BODY_BYTES")
    # Staff logins failing from one client address within the window: further attempts get 429
    # until the oldest failure leaves the window (on top of the per-account lockout).
    login_ip_max_failures: int = Field(default=20, ge=1, alias="CONSULT_LOGIN_IP_MAX_FAILURES")
    login_ip_window_seconds: int = Field(default=600, ge=1, alias="CONSULT_LOGIN_IP_WINDOW_SECONDS")

    @model_validator(mode="after")
    def _check_line_credentials(self) -> Settings:
        secret = self.line_channel_secret.get_secret_value() if self.line_channel_secret else None
        token = self.line_channel_access_token.get_secret_value() if self.line_channel_access_token else None
        if (secret is None) != (token is None):
            raise ConfigError(
                "LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN must be set together "
                "(or both left unset for simulator mode)."
            )
        if secret is not None and (secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < 16):
            raise ConfigError("LINE_CHANNEL_SECRET looks like a placeholder; copy the real channel secret.")
        return self

    @property
    def simulator_mode(self) -> bool:
        return self.line_channel_secret is None

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'consult.db').resolve()}"

    @cached_property
    def effective_secret_key(self) -> str:
        """CONSULT_SECRET_KEY, or one generated once into ./var/ and reused on later runs."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ConfigError("CONSULT_SECRET_KEY must be at least 32 characters.")
            return value
        return _read_or_create(self.var_dir / "secret_key", lambda: secrets.token_urlsafe(48))

    @cached_property
    def channel_secret(self) -> str:
        """The real channel secret, or the simulator's own (it signs its events like LINE does)."""
        if self.line_channel_secret is not None:
            return self.line_channel_secret.get_secret_value()
        return _read_or_create(self.var_dir / "simulator_channel_secret", lambda: secrets.token_hex(16))

    @cached_property
    def channel_access_token(self) -> str:
        if self.line_channel_access_token is not None:
            return self.line_channel_access_token.get_secret_value()
        return _read_or_create(self.var_dir / "simulator_access_token", lambda: secrets.token_urlsafe(32))

    @property
    def old_secrets(self) -> list[str]:
        return [s for s in (p.strip() for p in self.old_secret_keys.split(",")) if s]


def _read_or_create(path: Path, make) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path.read_text().strip()
    value = make()
    path.write_text(value)
    path.chmod(0o600)
    return value
