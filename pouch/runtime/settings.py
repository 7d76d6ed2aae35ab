"""INI settings with environment overrides, read once at start.

Each side describes its settings as a dataclass of section dataclasses; this
module fills one from an INI file and the environment.  An environment
variable ``<PREFIX>_<SECTION>_<KEY>`` (upper case) wins over the file, which
wins over the dataclass default.  Nothing here runs at import time: callers
load once in ``main()`` and pass the object down.
"""

import configparser
import dataclasses
import os
import typing
from pathlib import Path


class SettingsError(ValueError):
    """A setting is missing, unknown or has a value of the wrong kind."""


def load(cls, path=None, environ=None, prefix="MAILPOUCH"):
    """Build a ``cls`` instance from ``path`` (may be None) and ``environ``."""
    environ = os.environ if environ is None else environ
    parser = configparser.ConfigParser(interpolation=None)
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SettingsError(f"settings file {path} does not exist")
        parser.read(path, encoding="utf-8")
    sections = {f.name: f for f in dataclasses.fields(cls)}
    for name in parser.sections():
        if name not in sections:
            raise SettingsError(f"{path}: unknown section [{name}]")
    values = {}
    for name, field in sections.items():
        section_cls = _field_type(cls, field)
        from_file = dict(parser.items(name)) if parser.has_section(name) else {}
        values[name] = _load_section(section_cls, name, from_file, environ, prefix, path)
    return cls(**values)


def _load_section(section_cls, section, from_file, environ, prefix, path):
    fields = {f.name: f for f in dataclasses.fields(section_cls)}
    for key in from_file:
        if key not in fields:
            raise SettingsError(f"{path}: unknown setting '{key}' in [{section}]")
    values = {}
    for key, field in fields.items():
        env_name = f"{prefix}_{section}_{key}".upper()
        raw = environ.get(env_name, from_file.get(key))
        if raw is None:
            continue
        try:
            values[key] = _convert(_field_type(section_cls, field), raw)
        except ValueError as error:
            where = env_name if env_name in environ else f"[{section}] {key}"
            raise SettingsError(f"{where}: {error}") from None
    return section_cls(**values)


def _field_type(cls, field):
    return typing.get_type_hints(cls)[field.name]


def _convert(kind, raw):
    raw = raw.strip()
    if kind is str:
        return raw
    if kind is bool:
        lowered = raw.lower()
        if lowered in ("1", "yes", "true", "on"):
            return True
        if lowered in ("0", "no", "false", "off"):
            return False
        raise ValueError(f"'{raw}' is not yes or no")
    if kind is int:
        return int(raw)
    if kind is float:
        return float(raw)
    if kind is Path:
        return Path(raw).expanduser()
    if typing.get_origin(kind) is tuple:
        return tuple(item.strip() for item in raw.replace("\n", ",").split(",") if item.strip())
    optional = [arg for arg in typing.get_args(kind) if arg is not type(None)]
    if len(optional) == 1:
        return _convert(optional[0], raw) if raw else None
    raise TypeError(f"no conversion for settings of type {kind}")


def default_config_path(environ, variable, system_path):
    """The settings file to read when none was named on the command line."""
    if environ.get(variable):
        return Path(environ[variable])
    system_path = Path(system_path)
    return system_path if system_path.is_file() else None
