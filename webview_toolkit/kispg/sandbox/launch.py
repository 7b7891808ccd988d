"""What the pay window offers, from the registry, and how it launches the chosen app on this phone."""
from __future__ import annotations

from dataclasses import dataclass

from ...registry import App, Registry

PLATFORMS = ("android", "ios", "other")


@dataclass(frozen=True, slots=True)
class Choice:
    """One button of the pay window: a card company or an easy-pay app."""

    kind: str
    code: str
    label: str
    app_id: str


def platform_of(user_agent: str) -> str:
    """'android', 'ios' or 'other', by a simple look at the User-Agent."""
    ua = user_agent or ""
    if "Android" in ua:
        return "android"
    if any(token in ua for token in ("iPhone", "iPad", "iPod")):
        return "ios"
    return "other"


def card_choices(registry: Registry | None) -> tuple[Choice, ...]:
    """Card companies that some card app in the registry serves, by §9 code."""
    if registry is None:
        return ()
    names = registry.codes.tables.get("card_company", {})
    choices = []
    for code in sorted({c for app in registry.select(("card",)) for c in app.card_codes}):
        app = app_for_card(registry, code)
        choices.append(Choice("card", code, names.get(code) or (app.name_ko if app else code), app.id if app else ""))
    return tuple(choices)


def easypay_choices(registry: Registry | None) -> tuple[Choice, ...]:
    """Easy-pay apps of the registry, most important first."""
    if registry is None:
        return ()
    apps = sorted(registry.select(("easypay",)), key=lambda a: (a.priority, a.id))
    return tuple(Choice("easypay", app.easypay_codes[0] if app.easypay_codes else "", app.name_ko, app.id)
                 for app in apps)


def app_for_card(registry: Registry | None, card_code: str) -> App | None:
    """The most important card app serving this card company code."""
    if registry is None:
        return None
    apps = [a for a in registry.select(("card",)) if card_code in a.card_codes]
    return min(apps, key=lambda a: (a.priority, a.id)) if apps else None


def find_app(registry: Registry | None, app_id: str) -> App | None:
    """The app with this id, or None."""
    if registry is None or not app_id:
        return None
    try:
        return registry.app(app_id)
    except KeyError:
        return None
