"""Settings: precedence, validation that names the bad key, and the documented default file."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from cencomm.settings import Secret, SettingsError, load_settings, section_types

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "none.toml" if False else None, environ={})
    assert settings.server.host == "127.0.0.1"
    assert settings.server.port == 8080
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/cencomm.db")


def test_environment_overrides_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[server]\nport = 9000\nhost = "0.0.0.0"\n[database]\nurl = "sqlite+aiosqlite:///x.db"\n'
    )
    settings = load_settings(config, environ={"CENCOMM_PORT": "9100"})
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"
    assert settings.database.url == "sqlite+aiosqlite:///x.db"


def test_config_file_from_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[auth]\naccess_token_ttl = 600\n")
    settings = load_settings(environ={"CENCOMM_CONFIG": str(config)})
    assert settings.auth.access_token_ttl == 600


def test_contract_environment_names() -> None:
    settings = load_settings(
        environ={
            "CENCOMM_DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "CENCOMM_DATA_DIR": "/srv/cencomm",
            "CENCOMM_HOST": "0.0.0.0",
            "CENCOMM_PORT": "8443",
            "CENCOMM_ATTACHMENTS_MAX_BYTES": "1048576",
            "CENCOMM_AUTH_MFA_REQUIRED_ROLES": "admin, moderator",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.data.dir == Path("/srv/cencomm")
    assert settings.server.port == 8443
    assert settings.attachments.max_bytes == 1048576
    assert settings.auth.mfa_required_roles == ("admin", "moderator")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CENCOMM_PORT": "abc"}, "CENCOMM_PORT"),
        ({"CENCOMM_PORT": "70000"}, "server.port"),
        ({"CENCOMM_DATABASE_URL": "mysql://x"}, "database.url"),
        ({"CENCOMM_AUTH_ACCESS_TOKEN_TTL": "3600"}, "auth.access_token_ttl"),
        ({"CENCOMM_LOGGING_LEVEL": "LOUD"}, "logging.level"),
        ({"CENCOMM_AUTH_MFA_REQUIRED_ROLES": "wizard"}, "auth.mfa_required_roles"),
        ({"CENCOMM_LOGGING_ACCESS_LOG": "maybe"}, "CENCOMM_LOGGING_ACCESS_LOG"),
        ({"CENCOMM_SERVER_WORKERS": "0"}, "server.workers"),
        ({"CENCOMM_SERVER_WORKERS": "65"}, "server.workers"),
    ],
)
def test_bad_settings_name_the_key(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named.replace(".", r"\.")):
        load_settings(environ=environ)


def test_unknown_keys_in_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[server]\nprot = 1\n")
    with pytest.raises(SettingsError, match=r"server\.prot"):
        load_settings(config, environ={})


def test_unreadable_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"missing\.toml"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_every_setting_appears_in_the_default_config_file() -> None:
    documented = tomllib.loads((ROOT / "config" / "cencomm.toml").read_text())
    text = (ROOT / "config" / "cencomm.toml").read_text()
    for section, cls in section_types().items():
        assert section in documented, section
        for spec in dataclasses.fields(cls):
            name = spec.name
            if "Secret" in str(spec.type):  # secrets never sit in the file; their variable is named
                assert f"CENCOMM_{section.upper()}_{name.upper()}" in text, f"{section}.{name}"
                continue
            assert name in documented[section], f"{section}.{name}"


def test_secrets_come_only_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[smtp]\npassword = "hunter2-hunter2"\n')
    with pytest.raises(SettingsError, match=r"smtp\.password"):
        load_settings(config, environ={})
    settings = load_settings(environ={"CENCOMM_SMTP_PASSWORD": "hunter2-hunter2"})
    assert settings.smtp.password is not None
    assert settings.smtp.password.reveal() == "hunter2-hunter2"
    assert "hunter2" not in repr(settings)


def test_default_config_file_loads_to_the_defaults() -> None:
    assert load_settings(ROOT / "config" / "cencomm.toml", environ={}) == load_settings(environ={})


@pytest.mark.parametrize(
    "environ",
    [
        {
            "CENCOMM_DATABASE_URL": "postgresql+asyncpg://h/db",
            "CENCOMM_BUS_URL": "redis://h:6379/0",
        },
        {"CENCOMM_DATABASE_URL": "postgresql+asyncpg://h/db"},  # the workers' links carry notices
        {},  # SQLite: worker 0 writes every post
    ],
)
def test_several_workers_on_any_database_with_or_without_redis(environ: dict[str, str]) -> None:
    settings = load_settings(environ={"CENCOMM_SERVER_WORKERS": "4", **environ})
    assert settings.server.workers == 4


def test_production_example_is_valid() -> None:
    load_settings(ROOT / "config" / "production.example.toml", environ={})


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2-hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)
    assert secret.reveal() == "hunter2-hunter2"
