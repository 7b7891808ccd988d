"""Payment apps: card, transfer, bank, easy-pay, PASS, certificate and vaccine apps."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._fields import EntryReader, Problems

CATEGORIES = ("card", "transfer", "bank", "easypay", "pass", "cert", "vaccine")

APP_FIELDS = frozenset({
    "id", "name_ko", "name_en", "category", "android_package", "android_schemes",
    "ios_schemes", "app_store_id", "priority", "card_codes", "easypay_codes",
    "in_guide", "sources", "notes",
})


@dataclass(frozen=True, slots=True)
class App:
    """One app a checkout may launch, as the registry states it."""

    id: str
    name_ko: str
    name_en: str
    category: str
    android_package: str | None
    android_schemes: tuple[str, ...]
    ios_schemes: tuple[str, ...]
    app_store_id: str | None
    # Lower is more important: decides which schemes make iOS's 50-entry cut.
    priority: int
    card_codes: tuple[str, ...]
    easypay_codes: tuple[str, ...]
    in_guide: bool
    sources: tuple[str, ...]
    notes: str
    file: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (used by `registry list --format json`)."""
        return {
            "id": self.id,
            "name": self.name_ko,
            "name_en": self.name_en,
            "category": self.category,
            "android_package": self.android_package,
            "android_schemes": list(self.android_schemes),
            "ios_schemes": list(self.ios_schemes),
            "app_store_id": self.app_store_id,
            "priority": self.priority,
            "card_codes": list(self.card_codes),
            "easypay_codes": list(self.easypay_codes),
            "in_guide": self.in_guide,
            "sources": list(self.sources),
            "notes": self.notes,
        }


def parse_app(raw: Any, file: str, index: int, problems: Problems) -> App | None:
    """Turn one YAML entry into an App, or record why not and return None."""
    label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"
    entry = EntryReader(raw, f"{file}: app {label!r}", problems, APP_FIELDS)
    app_id = entry.string("id")
    category = entry.string("category")
    if category is not None and category not in CATEGORIES:
        entry._fail(entry._at("category"), f"must be one of {', '.join(CATEGORIES)}, got {category!r}")
    app = App(
        id=app_id or "",
        name_ko=entry.string("name_ko") or "",
        name_en=entry.string("name_en") or "",
        category=category or "",
        android_package=entry.string("android_package", required=False),
        android_schemes=entry.strings("android_schemes"),
        ios_schemes=entry.strings("ios_schemes"),
        app_store_id=_store_id(entry),
        priority=entry.integer("priority", default=500),
        card_codes=entry.strings("card_codes"),
        easypay_codes=entry.strings("easypay_codes"),
        in_guide=entry.boolean("in_guide", default=False),
        sources=entry.strings("sources"),
        notes=entry.string("notes", required=False, default="") or "",
        file=file,
    )
    return app if entry.ok else None


def _store_id(entry: EntryReader) -> str | None:
    # An unquoted App Store id arrives as an int; accept it, lint checks the digits.
    value = entry.raw.get("app_store_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return entry.string("app_store_id", required=False)


def launch_url(app: App, platform: str) -> str | None:
    """A link that opens the app from a web page: intent:// on Android, its scheme on iOS, else None.

    Without a known Android scheme the intent names only the package; Chrome then opens the
    app if it takes a browsable MAIN intent, and its Play Store page otherwise.
    """
    if platform == "android" and app.android_package:
        if app.android_schemes:
            return f"intent://launch#Intent;scheme={app.android_schemes[0]};package={app.android_package};end"
        return f"intent://launch#Intent;action=android.intent.action.MAIN;package={app.android_package};end"
    if platform == "ios" and app.ios_schemes:
        return f"{app.ios_schemes[0]}://"
    return None
