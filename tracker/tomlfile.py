"""Read TOML data files and validate their fields with messages that name file and field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from tracker.errors import ContractError

_MISSING = object()


def read_toml(path: Path) -> dict[str, Any]:
    """Parse `path`, turning every way it can be unreadable into a ContractError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ContractError(f"{path}: file is missing") from None
    except OSError as exc:
        raise ContractError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(f"{path}: not UTF-8 (byte {exc.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{path}: invalid TOML: {exc}") from None


class Fields:
    """Typed access to one TOML table; every error names the file and the dotted field.

    Call `done()` after reading to reject keys nobody asked for (catches typos such as
    `timout_s` that would otherwise be silently ignored).
    """

    def __init__(self, data: Any, path: Path, where: str = ""):
        if not isinstance(data, dict):
            raise ContractError(f"{path}: {where or 'top level'} must be a table")
        self.data = data
        self.path = path
        self.where = where
        self._read: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> ContractError:
        return ContractError(f"{self.path}: field '{self._name(key)}' {problem}")

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.fail(key, "is required")
        return default

    def str(self, key: str, default: Any = _MISSING, *, nonempty: bool = True) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise self.fail(key, f"must be a non-empty string (got {value!r})")
        return value

    def int(self, key: str, default: Any = _MISSING, *, minimum: int | None = None) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be an integer (got {value!r})")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum} (got {value})")
        return value

    def number(self, key: str, default: Any = _MISSING, *, positive: bool = False) -> Any:
        value = self._get(key, default)
        if value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number (got {value!r})")
        if positive and value <= 0:
            raise self.fail(key, f"must be positive (got {value})")
        return float(value)

    def bool(self, key: str, default: Any = _MISSING) -> Any:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false (got {value!r})")
        return value

    def str_list(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, f"must be a list of non-empty strings (got {value!r})")
        return list(value)

    def table(self, key: str, *, required: bool = False) -> Fields:
        value = self._get(key, _MISSING if required else {})
        return Fields(value, self.path, self._name(key))

    def tables(self, key: str, *, required: bool = False) -> list[Fields]:
        value = self._get(key, _MISSING if required else [])
        if not isinstance(value, list):
            raise self.fail(key, "must be an array of tables ([[...]])")
        return [Fields(v, self.path, f"{self._name(key)}[{i}]") for i, v in enumerate(value)]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            raise self.fail(unknown[0], "is not a known field (a typo?)")
