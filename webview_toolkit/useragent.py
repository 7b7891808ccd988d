"""Classify a user agent into a client context: platform, in-app browser, app, and the iOS return scheme.

`classify(ua)` decides from rules compiled once from the registry's browsers
(schemes/browsers.yaml): bots first, then apps' embedded browsers and browsers by
priority, each a handful of substring checks on the lower-cased UA. Results are
cached per (UA, app token). `user_agents` is consulted only for what the rules
cannot say: whether an unrecognised platform is a phone or tablet.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import user_agents

from .registry import Browser, Registry, load_registry

__all__ = ["ClientContext", "bounded", "classify", "compile_rules"]

WKWEBVIEW_IOS = "wkwebview_ios"
IOS_DEVICE_TOKENS = ("iphone", "ipad", "ipod")
DESKTOP_TOKENS = ("windows nt", "macintosh", "x11", "cros ")
CACHE_SIZE = 8192
# Real user agents stay well under 512 characters (the corpus's longest is far shorter); anything
# longer is cut before it is classified or cached: its head (platform, engine) and its tail (the
# tokens apps append, e.g. KAKAOTALK or the merchant's own) are what the rules read.
MAX_UA = 1024


@dataclass(frozen=True, slots=True)
class ClientContext:
    """What the checkout needs to know about the client that sent a user agent."""

    platform: str  # ios, android, desktop or other
    mobile: bool
    in_app: bool  # an app's embedded browser or WebView, not a standalone browser
    app: str | None  # a registry browser id; None for bots and unrecognised clients
    app_scheme: str | None  # e.g. "kakaotalk://"; only on iOS, only from the registry
    bot: bool
    own_app: bool  # the merchant's own hybrid app, recognised by its UA token
    # How this app's browser hands a page to the system browser on this platform (a registry
    # escape mechanism, e.g. "kakaotalk_open_external"); None outside apps and in the merchant's own.
    escape: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The fields the CLI prints as JSON."""
        return {"platform": self.platform, "mobile": self.mobile, "in_app": self.in_app, "app": self.app,
                "app_scheme": self.app_scheme, "bot": self.bot, "escape": self.escape}


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    kind: str
    tokens: tuple[str, ...]
    exclude: tuple[str, ...]
    pattern: re.Pattern[str] | None
    platforms: frozenset[str]
    return_scheme: str | None
    escapes: tuple[tuple[str, str], ...]  # (platform, mechanism)

    def escape_on(self, platform: str) -> str | None:
        for where, mechanism in self.escapes:
            if where == platform:
                return mechanism
        return None

    def matches(self, lower: str, platform: str) -> bool:
        if platform not in self.platforms:
            return False
        for token in self.tokens:
            if token in lower:
                break
        else:
            return False
        for token in self.exclude:
            if token in lower:
                return False
        return self.pattern is None or self.pattern.search(lower) is not None


# eq=False: compared and hashed by identity, so the classify cache can key on it cheaply.
@dataclass(frozen=True, slots=True, eq=False)
class Rules:
    """The registry's recognition data, compiled: bots, then everything else in priority order."""

    bots: tuple[_Rule, ...]
    agents: tuple[_Rule, ...]
    # Tokens of iOS-only browsers; on a "Macintosh" UA they mean an iPad in desktop mode.
    ios_only_tokens: tuple[str, ...]
    wkwebview: _Rule | None


def _rule(browser: Browser) -> _Rule:
    pattern = re.compile(browser.pattern, re.IGNORECASE) if browser.pattern else None
    scheme = f"{browser.ios_return_scheme}://" if browser.ios_return_scheme and browser.id != "safari" else None
    return _Rule(browser.id, browser.kind, browser.match, browser.exclude, pattern,
                 frozenset(browser.platforms), scheme, tuple((r.platform, r.mechanism) for r in browser.escape))


def compile_rules(registry: Registry) -> Rules:
    """Compile the registry's browsers into the rules `classify` runs (once per set of browsers)."""
    return _compile(registry.browsers)


@functools.lru_cache(maxsize=4)
def _compile(browsers: tuple[Browser, ...]) -> Rules:
    ordered = sorted(browsers, key=lambda b: (b.priority, b.id))
    rules = [_rule(b) for b in ordered]
    return Rules(
        bots=tuple(r for r in rules if r.kind == "bot"),
        agents=tuple(r for r in rules if r.kind != "bot" and r.tokens),
        ios_only_tokens=tuple(t for r in rules if r.platforms == {"ios"} for t in r.tokens),
        wkwebview=next((r for r in rules if r.id == WKWEBVIEW_IOS), None),
    )


@functools.lru_cache(maxsize=1)
def _default_rules() -> Rules:
    return compile_rules(load_registry())


def classify(ua: str, *, app_token: str | None = None, registry: Registry | None = None) -> ClientContext:
    """Classify one user agent; `app_token` is the merchant app's UA token (WEBVIEW_APP_UA_TOKEN)."""
    rules = _default_rules() if registry is None else compile_rules(registry)
    return _classify_cached(rules, bounded(ua), app_token or None)


def bounded(ua: str | None) -> str:
    """The user agent cut to MAX_UA characters: its first and last halves, so memory and time stay bounded."""
    ua = ua or ""
    if len(ua) <= MAX_UA:
        return ua
    half = MAX_UA // 2
    return ua[:half] + " " + ua[-(MAX_UA - half - 1):]


def _classify(rules: Rules, ua: str, app_token: str | None) -> ClientContext:
    lower = ua.lower()
    platform = _platform(lower, rules)
    for rule in rules.bots:
        if rule.matches(lower, platform):
            return ClientContext(platform, platform in ("ios", "android"), False, None, None, True, False)
    mobile = _mobile(ua, platform)
    own_app = app_token is not None and _token_re(app_token).search(ua) is not None
    found = _find(rules, lower, platform)
    if found is None:
        return ClientContext(platform, mobile, own_app, None, None, False, own_app)
    in_app = own_app or found.kind in ("in_app", "webview")
    # The merchant's own app returns by its own scheme (appSchemeFlg / resultScheme), not this one.
    scheme = found.return_scheme if platform == "ios" and not own_app else None
    # The merchant's own app is never asked to leave; standalone browsers have nothing to leave.
    escape = found.escape_on(platform) if in_app and not own_app else None
    return ClientContext(platform, mobile, in_app, found.id, scheme, False, own_app, escape)


_classify_cached = functools.lru_cache(maxsize=CACHE_SIZE)(_classify)
classify.cache_clear = _classify_cached.cache_clear  # type: ignore[attr-defined]
classify.cache_info = _classify_cached.cache_info  # type: ignore[attr-defined]


def _find(rules: Rules, lower: str, platform: str) -> _Rule | None:
    for rule in rules.agents:
        if rule.matches(lower, platform):
            return rule
    if platform == "ios" and rules.wkwebview is not None and "safari/" not in lower and "applewebkit" in lower:
        return rules.wkwebview
    return None


def _platform(lower: str, rules: Rules) -> str:
    if any(token in lower for token in IOS_DEVICE_TOKENS):
        return "ios"
    if "android" in lower:
        return "android"
    if "macintosh" in lower:
        # iPadOS "Request Desktop Site" sends a Mac UA; only iOS-only browsers' tokens give it away.
        return "ios" if any(token in lower for token in rules.ios_only_tokens) else "desktop"
    if "like mac os x" in lower:
        return "ios"
    if any(token in lower for token in DESKTOP_TOKENS):
        return "desktop"
    if "linux" in lower and "mobile" not in lower and "tizen" not in lower:
        return "desktop"
    return "other"


def _mobile(ua: str, platform: str) -> bool:
    if platform in ("ios", "android"):
        return True
    if platform == "desktop":
        return False
    # Feature phones, KaiOS, Tizen, Windows Phone…: the one place a full parse earns its cost.
    parsed = _parse(ua)
    return bool(parsed.is_mobile or parsed.is_tablet) and not parsed.is_bot


@functools.lru_cache(maxsize=64)
def _token_re(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.\-/]){re.escape(token)}(?![\w\-])")


@functools.lru_cache(maxsize=1024)
def _parse(ua: str) -> user_agents.parsers.UserAgent:
    return user_agents.parse(ua)

