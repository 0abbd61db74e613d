"""Settings from files (container secrets), URLs shown without passwords, migrate_on_start."""

from __future__ import annotations

import os
from pathlib import Path

import aiohttp
import pytest

from cencomm.settings import Secret, SettingsError, admin_password_from_environment, load_settings
from cencomm.settings_sources import redact_url
from tests.processes import free_port, serve, stop

PG_PASSWORD = "pg-secret-Zq7"
REDIS_PASSWORD = "redis-secret-Vx2"


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def _empty_config(tmp_path: Path) -> Path:
    config = tmp_path / "cencomm.toml"
    config.write_text("", encoding="utf-8")
    return config


def test_a_secret_comes_from_the_file_an_environment_variable_names(tmp_path: Path) -> None:
    path = _write(tmp_path / "smtp_password", "relay password\n")
    settings = load_settings(_empty_config(tmp_path), {"CENCOMM_SMTP_PASSWORD_FILE": path})
    assert isinstance(settings.smtp.password, Secret)
    assert settings.smtp.password.reveal() == "relay password"  # one trailing newline dropped


def test_a_secret_comes_from_the_file_the_toml_names_but_never_from_the_toml(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path / "smtp_password", "relay password")
    config = tmp_path / "cencomm.toml"
    config.write_text(f'[smtp]\npassword_file = "{path}"\n', encoding="utf-8")
    settings = load_settings(config, {})
    assert settings.smtp.password is not None
    assert settings.smtp.password.reveal() == "relay password"
    config.write_text('[smtp]\npassword = "in the file"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"smtp\.password"):
        load_settings(config, {})


def test_urls_that_carry_passwords_come_from_files_too(tmp_path: Path) -> None:
    db = _write(tmp_path / "db_url", f"postgresql+asyncpg://app:{PG_PASSWORD}@db:5432/cencomm\n")
    bus = _write(tmp_path / "bus_url", f"redis://:{REDIS_PASSWORD}@cache:6379/0")
    settings = load_settings(
        _empty_config(tmp_path), {"CENCOMM_DATABASE_URL_FILE": db, "CENCOMM_BUS_URL_FILE": bus}
    )
    assert settings.database_url == f"postgresql+asyncpg://app:{PG_PASSWORD}@db:5432/cencomm"
    assert settings.bus.url == f"redis://:{REDIS_PASSWORD}@cache:6379/0"


def test_an_unreadable_file_names_the_setting_and_shows_no_content(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"smtp\.password \(CENCOMM_SMTP_PASSWORD_FILE\)"):
        load_settings(
            _empty_config(tmp_path), {"CENCOMM_SMTP_PASSWORD_FILE": str(tmp_path / "missing")}
        )
    big = _write(tmp_path / "big", "x" * 70_000)
    with pytest.raises(SettingsError, match="larger than") as raised:
        load_settings(_empty_config(tmp_path), {"CENCOMM_DATABASE_URL_FILE": big})
    assert "xxxx" not in str(raised.value)


def test_an_unknown_file_setting_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "cencomm.toml"
    config.write_text('[smtp]\nnot_a_setting_file = "/x"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"smtp\.not_a_setting_file: unknown setting"):
        load_settings(config, {})


def test_the_admin_password_comes_from_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "admin", "first admin password\n")
    secret = admin_password_from_environment({"CENCOMM_ADMIN_PASSWORD_FILE": path})
    assert secret is not None and secret.reveal() == "first admin password"


def test_printed_settings_never_show_a_password(tmp_path: Path) -> None:
    settings = load_settings(
        _empty_config(tmp_path),
        {
            "CENCOMM_DATABASE_URL": f"postgresql+asyncpg://app:{PG_PASSWORD}@db/cencomm",
            "CENCOMM_BUS_URL": f"redis://user:{REDIS_PASSWORD}@cache:6379/0",
            "CENCOMM_SMTP_PASSWORD": "smtp-secret-Kp1",
        },
    )
    shown = repr(settings)
    for secret in (PG_PASSWORD, REDIS_PASSWORD, "smtp-secret-Kp1"):
        assert secret not in shown
    assert "postgresql+asyncpg://app:***@db/cencomm" in shown
    assert "redis://user:***@cache:6379/0" in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg://u:p%40ss@h:5432/db", "postgresql+asyncpg://u:***@h:5432/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("redis://:pw@[::1]:6379/0", "redis://:***@[::1]:6379/0"),
        (
            "rediss://user:pw@cache/1?ssl_cert_reqs=required",
            "rediss://user:***@cache/1?ssl_cert_reqs=required",
        ),
        (
            "sqlite+aiosqlite:////var/lib/cencomm/cencomm.db",
            "sqlite+aiosqlite:////var/lib/cencomm/cencomm.db",
        ),
        ("redis://u:pw@host:notaport/0", "***"),
    ],
)
def test_redacted_urls(url: str, shown: str) -> None:
    assert redact_url(url) == shown


async def test_serve_leaves_the_schema_alone_when_migrate_on_start_is_off(tmp_path: Path) -> None:
    """`database.migrate_on_start = false` is honoured: the server starts on an empty database
    and says it is not ready (schema not at head) instead of upgrading it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env["CENCOMM_DATA_DIR"] = str(tmp_path / "data")
    env["CENCOMM_CONFIG"] = str(_empty_config(tmp_path))
    env["CENCOMM_DATABASE_MIGRATE_ON_START"] = "false"
    port = free_port()
    proc = await serve(env, port)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/ready") as resp,
        ):
            assert resp.status == 503
    finally:
        assert await stop(proc) == 0
