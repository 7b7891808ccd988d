"""In-app browsers and mobile browsers: how each is named, and which iOS scheme returns to it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._fields import EntryReader, Problems

KINDS = ("in_app", "browser", "webview")

BROWSER_FIELDS = frozenset({"id", "name", "kind", "ios_return_scheme", "sources", "notes"})


@dataclass(frozen=True, slots=True)
class Browser:
    """A browser or an app's embedded browser that a checkout may run in."""

    id: str
    name: str
    kind: str
    # Without "://"; what `app_scheme` asks ISP to return to on iOS (guide §6.3).
    ios_return_scheme: str | None
    sources: tuple[str, ...]
    notes: str
    file: str


def parse_browser(raw: Any, file: str, index: int, problems: Problems) -> Browser | None:
    """Turn one YAML entry into a Browser, or record why not and return None."""
    label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index}"
    entry = EntryReader(raw, f"{file}: browser {label!r}", problems, BROWSER_FIELDS)
    kind = entry.string("kind")
    if kind is not None and kind not in KINDS:
        entry._fail(entry._at("kind"), f"must be one of {', '.join(KINDS)}, got {kind!r}")
    browser = Browser(
        id=entry.string("id") or "",
        name=entry.string("name") or "",
        kind=kind or "",
        ios_return_scheme=entry.string("ios_return_scheme", required=False),
        sources=entry.strings("sources"),
        notes=entry.string("notes", required=False, default="") or "",
        file=file,
    )
    return browser if entry.ok else None
