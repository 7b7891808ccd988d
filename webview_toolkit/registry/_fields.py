"""Read one YAML entry field by field, recording problems that name file, entry and field."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Problems:
    """An ordered list of problem lines, each naming where it was found."""

    lines: list[str] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        """Record one problem at a place such as `schemes/card.yaml: app 'isp': field 'x'`."""
        self.lines.append(f"{where}: {message}")

    def __bool__(self) -> bool:
        return bool(self.lines)


class EntryReader:
    """Typed access to one mapping from YAML; every misuse becomes a problem, never an exception."""

    def __init__(self, raw: Any, where: str, problems: Problems, allowed: frozenset[str]):
        self.where = where
        self.problems = problems
        self.ok = True
        if not isinstance(raw, dict):
            self._fail(where, f"must be a mapping, got {type(raw).__name__}")
            raw = {}
        self.raw = raw
        for key in raw:
            if key not in allowed:
                self._fail(f"{where}: field {key!r}", "unknown field")

    def _fail(self, where: str, message: str) -> None:
        self.ok = False
        self.problems.add(where, message)

    def _at(self, name: str) -> str:
        return f"{self.where}: field {name!r}"

    def string(self, name: str, *, required: bool = True, default: str | None = None) -> str | None:
        """A non-empty string (numbers are refused: quote codes and ids in YAML)."""
        value = self.raw.get(name)
        if value is None:
            if required:
                self._fail(self._at(name), "is required")
            return default
        if not isinstance(value, str) or not value.strip():
            self._fail(self._at(name), f"must be a non-empty string, got {value!r}")
            return default
        return value.strip()

    def strings(self, name: str) -> tuple[str, ...]:
        """A list of non-empty strings; missing means empty."""
        value = self.raw.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            self._fail(self._at(name), f"must be a list, got {type(value).__name__}")
            return ()
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self._fail(f"{self._at(name)}[{index}]", f"must be a non-empty string, got {item!r}")
            else:
                items.append(item.strip())
        return tuple(items)

    def integer(self, name: str, *, default: int) -> int:
        """An integer (booleans are refused)."""
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._fail(self._at(name), f"must be an integer, got {value!r}")
            return default
        return value

    def boolean(self, name: str, *, default: bool) -> bool:
        """true or false."""
        value = self.raw.get(name, default)
        if not isinstance(value, bool):
            self._fail(self._at(name), f"must be true or false, got {value!r}")
            return default
        return value

    def mapping(self, name: str) -> dict:
        """A mapping; missing means empty."""
        value = self.raw.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self._fail(self._at(name), f"must be a mapping, got {type(value).__name__}")
            return {}
        return value
