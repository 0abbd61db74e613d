"""Typed settings: dataclass defaults < TOML file < `CENCOMM_*` environment variables.

`load_settings` is the only place that reads the environment; it validates everything and raises
`SettingsError` naming the bad key, so a misconfigured server stops before it serves.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cencomm.settings_checks import validate
from cencomm.settings_sections import (
    AlertsSettings,
    AttachmentsSettings,
    AuditSettings,
    AuthSettings,
    BusSettings,
    DatabaseSettings,
    DataSettings,
    ExportSettings,
    HttpSettings,
    HubSettings,
    LoggingSettings,
    NotificationsSettings,
    ServerSettings,
    Settings,
    SmtpSettings,
)
from cencomm.settings_sources import FILE_SUFFIX, Secret, SettingsError, coerce, from_file

# The sections, `validate` and the sources' types are re-exported: `cencomm.settings` is where
# the rest of the code finds everything about settings.
__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_ALIASES",
    "AlertsSettings",
    "AttachmentsSettings",
    "AuditSettings",
    "AuthSettings",
    "BusSettings",
    "DataSettings",
    "DatabaseSettings",
    "ExportSettings",
    "HttpSettings",
    "HubSettings",
    "LoggingSettings",
    "NotificationsSettings",
    "Secret",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "SmtpSettings",
    "admin_password_from_environment",
    "client_home",
    "load_settings",
    "section_types",
    "validate",
]

DEFAULT_CONFIG_FILE = Path("config/cencomm.toml")

# Short names the public contract promises, besides the regular CENCOMM_<SECTION>_<KEY> names.
ENV_ALIASES: Mapping[str, tuple[str, str]] = {
    "CENCOMM_HOST": ("server", "host"),
    "CENCOMM_PORT": ("server", "port"),
    "CENCOMM_DATA_DIR": ("data", "dir"),
}


def section_types() -> dict[str, type]:
    """Section name → its dataclass, in declaration order."""
    hints = typing.get_type_hints(Settings)
    return {f.name: hints[f.name] for f in dataclasses.fields(Settings)}


def _field_types(section_cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(section_cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(section_cls)}


def _env_name(section: str, key: str) -> str:
    return f"CENCOMM_{section.upper()}_{key.upper()}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and the environment, validate, and return frozen settings.

    Args:
        path: the TOML file; else `CENCOMM_CONFIG`; else `config/cencomm.toml` when it exists.
        environ: the environment to read (defaults to `os.environ`).

    Raises:
        SettingsError: naming the first bad setting.
    """
    env = os.environ if environ is None else environ
    file_values: dict[str, Any] = {}
    config_path = path or (Path(env["CENCOMM_CONFIG"]) if env.get("CENCOMM_CONFIG") else None)
    if config_path is None and DEFAULT_CONFIG_FILE.is_file():
        config_path = DEFAULT_CONFIG_FILE
    if config_path is not None:
        try:
            file_values = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SettingsError(f"config file {config_path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"config file {config_path}: {exc}") from None

    sections = section_types()
    for name, value in file_values.items():
        if name not in sections:
            raise SettingsError(f"{name}: unknown section in {config_path}")
        if not isinstance(value, dict):
            raise SettingsError(f"{name}: expected a table in {config_path}")

    aliases_by_field = {target: alias for alias, target in ENV_ALIASES.items()}
    built: dict[str, object] = {}
    for section, section_cls in sections.items():
        table = file_values.get(section, {})
        types_by_key = _field_types(section_cls)
        for key in table:
            if key not in types_by_key and key.removesuffix(FILE_SUFFIX) not in types_by_key:
                raise SettingsError(f"{section}.{key}: unknown setting in {config_path}")
        values: dict[str, object] = {}
        for key, kind in types_by_key.items():
            label = f"{section}.{key}"
            if key in table:
                values[key] = coerce(label, kind, table[key], from_env=False)
            # A value kept in a file is not in the TOML: secrets may come from there too.
            file_key = key + FILE_SUFFIX
            if file_key in table:
                where = f"{section}.{file_key}"
                values[key] = coerce(label, kind, from_file(where, table[file_key]), True)
            for env_name in (aliases_by_field.get((section, key)), _env_name(section, key)):
                if env_name and env_name in env:
                    values[key] = coerce(f"{label} ({env_name})", kind, env[env_name], True)
                file_env = f"{env_name}{FILE_SUFFIX.upper()}" if env_name else ""
                if file_env and file_env in env:
                    value = from_file(f"{label} ({file_env})", env[file_env])
                    values[key] = coerce(f"{label} ({file_env})", kind, value, True)
        built[section] = section_cls(**values)
    settings = Settings(**built)  # type: ignore[arg-type]
    validate(settings)
    return settings


def admin_password_from_environment(environ: Mapping[str, str] | None = None) -> Secret | None:
    """`CENCOMM_ADMIN_PASSWORD`, or the file `CENCOMM_ADMIN_PASSWORD_FILE` names, for
    `cencomm create-admin` run by automation."""
    env = os.environ if environ is None else environ
    if env.get("CENCOMM_ADMIN_PASSWORD_FILE"):
        value = from_file("CENCOMM_ADMIN_PASSWORD_FILE", env["CENCOMM_ADMIN_PASSWORD_FILE"])
    else:
        value = env.get("CENCOMM_ADMIN_PASSWORD", "")
    return Secret(value) if value else None


def client_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where `cencomm client` keeps its state and key: `$CENCOMM_CLIENT_HOME`, else
    `$XDG_CONFIG_HOME/cencomm`, else `~/.config/cencomm`."""
    env = os.environ if environ is None else environ
    if env.get("CENCOMM_CLIENT_HOME"):
        return Path(env["CENCOMM_CLIENT_HOME"])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "cencomm"
    return Path.home() / ".config" / "cencomm"
