"""Lint rules over the loaded registry; each problem names the file, the entry and the field."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ._fields import Problems
from .browsers import ESCAPE_MECHANISMS, lint_recognition

if TYPE_CHECKING:
    from . import Registry

PACKAGE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")
# RFC 3986 scheme: a letter, then letters, digits, "+", "-" or ".".
SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")
APP_STORE_ID_RE = re.compile(r"^[0-9]{6,12}$")
HANGUL_RE = re.compile("[\uac00-\ud7a3]")

# Misspellings copied between public SDKs; the registry must carry the real name.
KNOWN_TYPOS = {
    "com.hanaskard.paycla": "com.hanaskcard.paycla",
    "com.kbstar.kbkank": "com.kbstar.kbbank",
}


def lint(registry: "Registry", problems: Problems) -> None:
    """Record every rule the registry breaks."""
    _lint_apps(registry, problems)
    _lint_browsers(registry, problems)


def _lint_apps(registry: "Registry", problems: Problems) -> None:
    ids: dict[str, str] = {}
    packages: dict[str, str] = {}
    ios_owner: dict[str, str] = {}
    android_owner: dict[str, str] = {}
    for app in registry.apps:
        where = f"{app.file}: app {app.id!r}"
        _claim(ids, app.id, app.id, f"{where}: field 'id'", "duplicate id", problems)
        if app.android_package is not None:
            at = f"{where}: field 'android_package'"
            if app.android_package in KNOWN_TYPOS:
                problems.add(at, f"{app.android_package!r} is a known typo of {KNOWN_TYPOS[app.android_package]!r}")
            elif not PACKAGE_RE.match(app.android_package):
                problems.add(at, f"malformed package name {app.android_package!r}")
            _claim(packages, app.android_package, app.id, at, "package", problems)
        if not app.android_package and not app.ios_schemes:
            problems.add(where, "has neither android_package nor ios_schemes")
        if app.android_schemes and not app.android_package:
            problems.add(f"{where}: field 'android_schemes'", "needs android_package (the Play Store fallback)")
        for field, schemes, owner in (("ios_schemes", app.ios_schemes, ios_owner),
                                      ("android_schemes", app.android_schemes, android_owner)):
            for scheme in schemes:
                at = f"{where}: field {field!r}"
                if "://" in scheme or scheme.endswith(":"):
                    problems.add(at, f"scheme {scheme!r} must be written without '://'")
                elif not SCHEME_RE.match(scheme):
                    problems.add(at, f"malformed scheme {scheme!r}")
                _claim(owner, scheme.lower(), app.id, at, "scheme", problems)
        if app.app_store_id is not None:
            at = f"{where}: field 'app_store_id'"
            if not APP_STORE_ID_RE.match(app.app_store_id):
                problems.add(at, f"must be the numeric App Store id (digits only, no 'id' prefix), got {app.app_store_id!r}")
            if not app.ios_schemes:
                problems.add(at, "given but the app has no ios_schemes")
        if not 1 <= app.priority <= 999:
            problems.add(f"{where}: field 'priority'", f"must be between 1 and 999, got {app.priority}")
        for field, table, codes in (("card_codes", "card_company", app.card_codes),
                                    ("easypay_codes", "easypay", app.easypay_codes)):
            for code in codes:
                if registry.codes.name(table, code) is None:
                    problems.add(f"{where}: field {field!r}", f"code {code!r} is not in the {table} table")


def _lint_browsers(registry: "Registry", problems: Problems) -> None:
    lint_recognition(registry, problems)
    ids: dict[str, str] = {}
    for browser in registry.browsers:
        where = f"{browser.file}: browser {browser.id!r}"
        _claim(ids, browser.id, browser.id, f"{where}: field 'id'", "duplicate id", problems)
        scheme = browser.ios_return_scheme
        if scheme is not None and ("://" in scheme or not SCHEME_RE.match(scheme)):
            problems.add(f"{where}: field 'ios_return_scheme'",
                         f"malformed scheme {scheme!r} (write it without '://')")
        _lint_escape(browser, where, problems)


def _lint_escape(browser, where: str, problems: Problems) -> None:
    """Each escape rule: a known mechanism, on a platform where it works and the browser runs, with sources."""
    for rule in browser.escape:
        at = f"{where}: field 'escape': {rule.platform}"
        if not browser.in_app:
            problems.add(at, f"a {browser.kind} is not an app's browser: there is nothing to escape from")
        if rule.platform not in ESCAPE_MECHANISMS["menu"]:
            problems.add(at, "platform must be ios or android")
        elif rule.platform not in browser.platforms:
            problems.add(at, f"given for {rule.platform} but the browser does not run on {rule.platform}")
        if rule.mechanism not in ESCAPE_MECHANISMS:
            problems.add(f"{at}: field 'mechanism'", f"must be one of {', '.join(ESCAPE_MECHANISMS)}, got {rule.mechanism!r}")
        elif rule.platform not in ESCAPE_MECHANISMS[rule.mechanism]:
            problems.add(f"{at}: field 'mechanism'", f"{rule.mechanism} does not work on {rule.platform}")
        if not rule.sources:
            problems.add(f"{at}: field 'sources'", "an escape rule needs a public source")
        if rule.mechanism == "menu" and not rule.instruction:
            problems.add(f"{at}: field 'instruction'", "a menu escape needs the Korean instruction a shopper follows")
        if rule.instruction and not HANGUL_RE.search(rule.instruction):
            problems.add(f"{at}: field 'instruction'", "must be in Korean: the shopper reads it")
        if rule.mechanism != "menu" and rule.instruction:
            problems.add(f"{at}: field 'instruction'", "only a menu escape shows an instruction")


def _claim(owners: dict[str, str], key: str, owner: str, at: str, what: str, problems: Problems) -> None:
    """Record that `owner` uses `key`; a second user (or the same one twice) is a problem."""
    previous = owners.get(key)
    if previous is None:
        owners[key] = owner
    elif what == "duplicate id":
        problems.add(at, f"duplicate id {key!r}")
    elif previous == owner:
        problems.add(at, f"duplicate {what} {key!r} (listed twice, case-insensitively for schemes)")
    else:
        problems.add(at, f"{what} {key!r} is already claimed by app {previous!r}")
