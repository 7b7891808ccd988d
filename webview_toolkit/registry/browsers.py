"""In-app browsers, mobile browsers and bots: how each is recognised, and which iOS scheme returns to it.

Recognition data (read by `webview_toolkit.useragent`):

- `match`: case-insensitive substrings; the entry is a candidate when any one is in the UA.
- `pattern`: an optional case-insensitive regex the UA must also contain (to pin a
  short token such as `Line/` to a word boundary).
- `exclude`: case-insensitive substrings that disqualify the entry.
- `platforms`: where the entry applies (`ios`, `android`, `desktop`, `other`); all when omitted.
  An entry that lists only `ios` marks its tokens as iOS-only: an iPad in desktop
  mode sends `Macintosh … CriOS/`, and those tokens make it iOS.
- `priority`: lower is tried first; bots are always tried before everything else.

How a shopper leaves the app's browser for the system browser (read by `webview_toolkit.escape`):

- `escape`: per platform (`ios`, `android`), a `mechanism` from ESCAPE_MECHANISMS, the
  public `sources` that show it working, and for `menu` the Korean `instruction` that
  names the app's own "open in browser" menu.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._fields import EntryReader, Problems

if TYPE_CHECKING:
    from . import Registry

KINDS = ("in_app", "browser", "webview", "bot")
PLATFORMS = ("ios", "android", "desktop", "other")

BROWSER_FIELDS = frozenset({
    "id", "name", "kind", "ios_return_scheme", "sources", "notes",
    "match", "pattern", "exclude", "platforms", "priority", "escape",
})

# How a page can hand itself to the system browser, and on which platforms each works.
ESCAPE_MECHANISMS = {
    "kakaotalk_open_external": ("ios", "android"),  # kakaotalk://web/openExternal?url=…
    "line_open_external_browser": ("ios", "android"),  # the same URL with openExternalBrowser=1
    "android_intent": ("android",),  # intent://…#Intent;scheme=https;S.browser_fallback_url=…;end
    "menu": ("ios", "android"),  # no way out a page can take: the app's own menu, and a copy-link button
}
ESCAPE_FIELDS = frozenset({"mechanism", "sources", "instruction"})


@dataclass(frozen=True, slots=True)
class EscapeRule:
    """How a page leaves one app's embedded browser for the system browser on one platform."""

    platform: str
    mechanism: str
    sources: tuple[str, ...]
    instruction: str | None = None

# Entries the classifier picks by structure rather than by a token in the UA.
STRUCTURAL_IDS = frozenset({"wkwebview_ios"})


@dataclass(frozen=True, slots=True)
class Browser:
    """A browser, an app's embedded browser, or a bot that a checkout may see."""

    id: str
    name: str
    kind: str
    # Without "://"; what `app_scheme` asks ISP to return to on iOS (guide §6.3).
    ios_return_scheme: str | None
    sources: tuple[str, ...]
    notes: str
    file: str
    match: tuple[str, ...] = ()
    pattern: str | None = None
    exclude: tuple[str, ...] = ()
    platforms: tuple[str, ...] = PLATFORMS
    priority: int = 500
    escape: tuple[EscapeRule, ...] = ()

    @property
    def in_app(self) -> bool:
        """True for an app's embedded browser or a WebView, False for browsers and bots."""
        return self.kind in ("in_app", "webview")

    def escape_on(self, platform: str) -> EscapeRule | None:
        """The escape rule for this platform, or None."""
        for rule in self.escape:
            if rule.platform == platform:
                return rule
        return None


def parse_browser(raw: Any, file: str, index: int, problems: Problems) -> Browser | None:
    """Turn one YAML entry into a Browser, or record why not and return None."""
    label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index}"
    entry = EntryReader(raw, f"{file}: browser {label!r}", problems, BROWSER_FIELDS)
    kind = entry.string("kind")
    if kind is not None and kind not in KINDS:
        entry._fail(entry._at("kind"), f"must be one of {', '.join(KINDS)}, got {kind!r}")
    platforms = entry.strings("platforms") or PLATFORMS
    for platform in platforms:
        if platform not in PLATFORMS:
            entry._fail(entry._at("platforms"), f"must be among {', '.join(PLATFORMS)}, got {platform!r}")
    browser = Browser(
        id=entry.string("id") or "",
        name=entry.string("name") or "",
        kind=kind or "",
        ios_return_scheme=entry.string("ios_return_scheme", required=False),
        sources=entry.strings("sources"),
        notes=entry.string("notes", required=False, default="") or "",
        file=file,
        match=tuple(token.lower() for token in entry.strings("match")),
        pattern=entry.string("pattern", required=False),
        exclude=tuple(token.lower() for token in entry.strings("exclude")),
        platforms=tuple(platforms),
        priority=entry.integer("priority", default=500),
        escape=_parse_escape(entry),
    )
    return browser if entry.ok else None


def _parse_escape(entry: EntryReader) -> tuple[EscapeRule, ...]:
    rules = []
    for platform, raw in sorted(entry.mapping("escape").items(), key=lambda item: str(item[0])):
        rule = EntryReader(raw, f"{entry.where}: field 'escape': {platform}", entry.problems, ESCAPE_FIELDS)
        rules.append(EscapeRule(
            platform=str(platform),
            mechanism=rule.string("mechanism") or "",
            sources=rule.strings("sources"),
            instruction=rule.string("instruction", required=False),
        ))
        entry.ok = entry.ok and rule.ok
    return tuple(rules)


def lint_recognition(registry: "Registry", problems: Problems) -> None:
    """Record every recognition rule (match, pattern, exclude, platforms, priority) that is unusable."""
    owners: dict[str, str] = {}
    for browser in registry.browsers:
        where = f"{browser.file}: browser {browser.id!r}"
        if not browser.match and browser.id not in STRUCTURAL_IDS:
            problems.add(f"{where}: field 'match'", "needs at least one token to recognise the browser by")
        for token in browser.match:
            previous = owners.setdefault(token, browser.id)
            if previous != browser.id:
                problems.add(f"{where}: field 'match'", f"token {token!r} is already claimed by browser {previous!r}")
        if set(browser.match) & set(browser.exclude):
            problems.add(f"{where}: field 'exclude'", "excludes one of its own match tokens")
        if browser.pattern is not None:
            try:
                re.compile(browser.pattern)
            except re.error as exc:
                problems.add(f"{where}: field 'pattern'", f"is not a valid regex: {exc}")
        if not 1 <= browser.priority <= 999:
            problems.add(f"{where}: field 'priority'", f"must be between 1 and 999, got {browser.priority}")
        if browser.ios_return_scheme is not None:
            _lint_return_scheme(browser, where, problems)


def _lint_return_scheme(browser: Browser, where: str, problems: Problems) -> None:
    at = f"{where}: field 'ios_return_scheme'"
    if browser.kind == "bot":
        problems.add(at, "a bot has no app to return to")
    elif browser.id == "safari":
        problems.add(at, "Safari is where ISP returns anyway; it must not have a return scheme")
    elif "ios" not in browser.platforms:
        problems.add(at, "given but the browser does not run on ios")
    if not browser.sources:
        problems.add(f"{where}: field 'sources'", "a return scheme needs a public source")
