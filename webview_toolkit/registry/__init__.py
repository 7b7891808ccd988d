"""The app registry: YAML files in schemes/, loaded into frozen, typed objects and linted.

`load_registry()` is what the rest of the toolkit calls; it raises RegistryError
listing every problem. `check_registry()` returns the problems instead, for
`webview-toolkit registry validate`.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ._fields import Problems
from .apps import CATEGORIES, App, launch_url, parse_app
from .browsers import Browser, parse_browser
from .code_tables import CodeTables, freeze_codes, parse_codes
from .lint import lint

__all__ = [
    "App", "Browser", "CATEGORIES", "CodeTables", "Registry", "RegistryError",
    "check_registry", "default_registry_dir", "launch_url", "load_registry",
]

TOP_LEVEL_KEYS = frozenset({"apps", "browsers", "codes"})


class RegistryError(Exception):
    """The registry cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        head = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"{head}{more}")


@dataclass(frozen=True, slots=True)
class Registry:
    """Everything in schemes/: apps, browsers and code tables, sorted by id."""

    apps: tuple[App, ...]
    browsers: tuple[Browser, ...]
    codes: CodeTables

    def app(self, app_id: str) -> App:
        """The app with this id (KeyError if there is none)."""
        for app in self.apps:
            if app.id == app_id:
                return app
        raise KeyError(app_id)

    def browser(self, browser_id: str) -> Browser:
        """The browser with this id (KeyError if there is none)."""
        for browser in self.browsers:
            if browser.id == browser_id:
                return browser
        raise KeyError(browser_id)

    def select(self, categories: tuple[str, ...] | list[str] = (), platform: str | None = None) -> tuple[App, ...]:
        """Apps in these categories (all when empty) that exist on this platform (both when None)."""
        chosen = []
        for app in self.apps:
            if categories and app.category not in categories:
                continue
            if platform == "android" and not app.android_package:
                continue
            if platform == "ios" and not app.ios_schemes:
                continue
            chosen.append(app)
        return tuple(chosen)


def default_registry_dir() -> Path:
    """$WEBVIEW_REGISTRY_DIR, else schemes/ shipped in the package, else the checkout's schemes/."""
    if os.environ.get("WEBVIEW_REGISTRY_DIR"):
        return Path(os.environ["WEBVIEW_REGISTRY_DIR"])
    return _shipped_registry_dir()


@functools.cache
def _shipped_registry_dir() -> Path:
    # Looked up once: result pages and the sandbox ask for the registry on every request, and
    # resolving the path was most of what that cost (bench/profile_service.py).
    packaged = Path(__file__).resolve().parent.parent / "schemes"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "schemes"


def check_registry(directory: Path | str | None = None) -> tuple[Registry, list[str]]:
    """Load every *.yaml in the directory; return what loaded and every problem found."""
    directory = Path(directory) if directory is not None else default_registry_dir()
    problems = Problems()
    apps: list[App] = []
    browsers: list[Browser] = []
    tables: dict[str, dict[str, str]] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        problems.add(str(directory), "no *.yaml files: is this the registry directory?")
    for path in files:
        name = f"schemes/{path.name}"
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            problems.add(name, f"is not valid YAML: {' '.join(str(exc).split())}")
            continue
        if not isinstance(document, dict):
            problems.add(name, "must be a mapping with apps:, browsers: or codes:")
            continue
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                problems.add(name, f"unknown top-level key {key!r}; known: apps, browsers, codes")
        apps += _entries(document.get("apps"), name, "apps", parse_app, problems)
        browsers += _entries(document.get("browsers"), name, "browsers", parse_browser, problems)
        if "codes" in document:
            for table, rows in parse_codes(document["codes"], name, problems).items():
                tables.setdefault(table, {}).update(rows)
    registry = Registry(
        apps=tuple(sorted(apps, key=lambda a: a.id)),
        browsers=tuple(sorted(browsers, key=lambda b: b.id)),
        codes=freeze_codes(tables),
    )
    lint(registry, problems)
    return registry, problems.lines


def _entries(raw, file, key, parse, problems):
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(f"{file}: {key}", "must be a list of entries")
        return []
    parsed = (parse(item, file, index, problems) for index, item in enumerate(raw))
    return [item for item in parsed if item is not None]


@functools.lru_cache(maxsize=8)
def _load_cached(directory: str) -> Registry:
    registry, problems = check_registry(directory)
    if problems:
        raise RegistryError(problems)
    return registry


def load_registry(directory: Path | str | None = None) -> Registry:
    """The validated registry (cached per directory); RegistryError if it has any problem."""
    return _load_cached(_resolved(str(directory if directory is not None else default_registry_dir())))


@functools.lru_cache(maxsize=32)
def _resolved(directory: str) -> str:
    return str(Path(directory).resolve())
