"""What the templates embed, derived from the registry: scheme tables and iOS's 50-scheme cut."""
from __future__ import annotations

from dataclasses import dataclass

from ..registry import CATEGORIES, App

# iOS honours only the first 50 LSApplicationQueriesSchemes entries (iOS 15+); the rest are ignored.
IOS_QUERY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class QueryScheme:
    """One LSApplicationQueriesSchemes entry and the app it belongs to."""

    scheme: str
    app: App


@dataclass(frozen=True, slots=True)
class SchemeCut:
    """The iOS schemes that fit under the limit, in priority order, and those left out."""

    kept: tuple[QueryScheme, ...]
    left_out: tuple[QueryScheme, ...]
    limit: int | None


@dataclass(frozen=True, slots=True)
class SchemeRow:
    """One row of an embedded table: a lowercased scheme, its value, and the app it came from."""

    scheme: str
    value: str
    app: App


def by_category(apps: tuple[App, ...]) -> list[tuple[str, tuple[App, ...]]]:
    """Apps grouped in CATEGORIES order (empty groups dropped), each group sorted by id."""
    groups = []
    for category in CATEGORIES:
        members = tuple(sorted((a for a in apps if a.category == category), key=lambda a: a.id))
        if members:
            groups.append((category, members))
    return groups


def ios_query_schemes(apps: tuple[App, ...], limit: int | None = IOS_QUERY_LIMIT) -> SchemeCut:
    """Every iOS scheme ordered by (priority, app id, listed order); the first `limit` are kept."""
    ordered = [
        QueryScheme(scheme, app)
        for app in sorted(apps, key=lambda a: (a.priority, a.id))
        for scheme in app.ios_schemes
    ]
    if limit is None:
        return SchemeCut(tuple(ordered), (), None)
    return SchemeCut(tuple(ordered[:limit]), tuple(ordered[limit:]), limit)


def android_scheme_packages(apps: tuple[App, ...]) -> tuple[SchemeRow, ...]:
    """Custom scheme → Play Store package, for Android links and intents that carry no package.

    An app's android_schemes come first; its iOS schemes are added too, because Korean pay
    apps answer the same scheme on both systems and the registry lists most only once. The
    table only picks a store page when launching failed, so a scheme another app claims on
    Android keeps that app.
    """
    table: dict[str, SchemeRow] = {}
    for from_ios in (False, True):
        for app in apps:
            if not app.android_package:
                continue
            for scheme in app.ios_schemes if from_ios else app.android_schemes:
                table.setdefault(scheme.lower(), SchemeRow(scheme.lower(), app.android_package, app))
    return tuple(sorted(table.values(), key=lambda r: r.scheme))


def ios_app_store_ids(apps: tuple[App, ...]) -> tuple[SchemeRow, ...]:
    """iOS scheme (lowercased: iOS matches schemes case-insensitively) → App Store id."""
    rows = [
        SchemeRow(scheme.lower(), app.app_store_id, app)
        for app in apps if app.app_store_id
        for scheme in app.ios_schemes
    ]
    return tuple(sorted(rows, key=lambda r: r.scheme))
