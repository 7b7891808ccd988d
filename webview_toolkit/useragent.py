"""Classify a user agent into a client context: platform, in-app browser, app, and the iOS return scheme.

`classify(ua)` decides from rules compiled once from the registry's browsers
(schemes/browsers.yaml): bots first, then apps' embedded browsers and browsers by
priority, each a handful of case-insensitive substrings. Every substring of every rule
(and the platform's) is found in one Aho-Corasick pass over the lower-cased UA; the set
found decides the platform and the candidate rules (cached per set: real traffic repeats
a few hundred sets), and only rules with a `pattern` run a regex. Results are cached per
(UA, app token). `user_agents` is consulted only for what the rules cannot say: whether
an unrecognised platform is a phone or tablet.
"""
from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass

import ahocorasick_rs
import user_agents

from .registry import Browser, Registry, load_registry
from .registry.browsers import PLATFORMS

__all__ = ["ClientContext", "bounded", "classify", "compile_rules"]

WKWEBVIEW_IOS = "wkwebview_ios"
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


# The substrings the platform is read from; with every rule's tokens they make one vocabulary
# that a single Aho-Corasick pass finds in the UA (see `_classify`).
PLATFORM_TOKENS = ("iphone", "ipad", "ipod", "android", "macintosh", "like mac os x", "windows nt", "x11",
                   "cros ", "linux", "mobile", "tizen", "safari/", "applewebkit")
(_IPHONE, _IPAD, _IPOD, _ANDROID, _MACINTOSH, _LIKE_MAC, _WINDOWS_NT, _X11, _CROS, _LINUX, _MOBILE, _TIZEN,
 _SAFARI, _APPLEWEBKIT) = range(len(PLATFORM_TOKENS))
_IOS_DEVICES = frozenset({_IPHONE, _IPAD, _IPOD})
_DESKTOPS = frozenset({_WINDOWS_NT, _MACINTOSH, _X11, _CROS})
_NOT_LINUX_DESKTOP = frozenset({_MOBILE, _TIZEN})
_FIRST = operator.itemgetter(0)  # a match's token index, out of (index, start, end)
_UA_PARSER = user_agents.parsers.user_agent_parser  # the very module user_agents.parse reads


# eq=False: compared and hashed by identity, so the classify cache can key on it cheaply.
@dataclass(frozen=True, slots=True, eq=False)
class Rules:
    """The registry's recognition data, compiled: bots, then everything else in priority order."""

    bots: tuple[_Rule, ...]
    agents: tuple[_Rule, ...]
    # Tokens of iOS-only browsers; on a "Macintosh" UA they mean an iPad in desktop mode.
    ios_only_tokens: tuple[str, ...]
    wkwebview: _Rule | None
    # The vocabulary (PLATFORM_TOKENS first, then every match and exclude token) and its automaton.
    tokens: tuple[str, ...]
    matcher: ahocorasick_rs.BytesAhoCorasick
    ordered: tuple[_Rule, ...]  # bots, then agents (the order rules are tried in), then WKWebView if apart
    wkwebview_at: int  # position of `wkwebview` in `ordered`, -1 without one
    owners: tuple[tuple[int, ...], ...]  # per token: positions in `ordered` of the rules it names
    exclude_ids: tuple[frozenset[int], ...]  # per rule in `ordered`: its exclude tokens' indexes
    ios_only_ids: frozenset[int]
    # Every context a classification can end in, built once (and never written after): per
    # (platform, position in `ordered` or -1 for none), four contexts indexed by mobile + 2 * own_app.
    endings: dict[tuple[str, int], tuple[ClientContext, ...]]


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
    rules = [_rule(b) for b in sorted(browsers, key=lambda b: (b.priority, b.id))]
    bots = tuple(r for r in rules if r.kind == "bot")
    agents = tuple(r for r in rules if r.kind != "bot" and r.tokens)
    ios_only_tokens = tuple(t for r in rules if r.platforms == {"ios"} for t in r.tokens)
    wkwebview = next((r for r in rules if r.id == WKWEBVIEW_IOS), None)
    ordered = bots + agents
    if wkwebview is not None and not any(rule is wkwebview for rule in agents):
        ordered += (wkwebview,)
    index: dict[str, int] = {}
    for token in (*PLATFORM_TOKENS, *(t for r in ordered for t in (*r.tokens, *r.exclude)), *ios_only_tokens):
        index.setdefault(token, len(index))
    tokens = tuple(index)
    owners: list[list[int]] = [[] for _ in tokens]
    for position, rule in enumerate(ordered):
        for token in dict.fromkeys(rule.tokens):
            owners[index[token]].append(position)
    flags = [(mobile, own_app) for own_app in (False, True) for mobile in (False, True)]  # mobile + 2 * own_app
    endings = {}
    for platform in PLATFORMS:
        endings[platform, -1] = tuple(ClientContext(platform, m, own, None, None, False, own) for m, own in flags)
        for position, rule in enumerate(ordered):
            endings[platform, position] = tuple(_context(rule, platform, m, own) for m, own in flags)
    return Rules(
        bots=bots, agents=agents, ios_only_tokens=ios_only_tokens, wkwebview=wkwebview,
        tokens=tokens,
        # Tokens are never empty (the registry refuses them). The DFA is the fastest of the crate's
        # automata to run; for ~150 short tokens it builds in a few milliseconds, once.
        matcher=ahocorasick_rs.BytesAhoCorasick([t.encode() for t in tokens],
                                                implementation=ahocorasick_rs.Implementation.DFA),
        ordered=ordered,
        wkwebview_at=next((i for i, rule in enumerate(ordered) if rule is wkwebview), -1),
        owners=tuple(tuple(o) for o in owners),
        exclude_ids=tuple(frozenset(index[t] for t in r.exclude) for r in ordered),
        ios_only_ids=frozenset(index[t] for t in ios_only_tokens),
        endings=endings,
    )


def _context(found: _Rule, platform: str, mobile: bool, own_app: bool) -> ClientContext:
    if found.kind == "bot":
        return ClientContext(platform, platform in ("ios", "android"), False, None, None, True, False)
    in_app = own_app or found.kind in ("in_app", "webview")
    # The merchant's own app returns by its own scheme (appSchemeFlg / resultScheme), not this one.
    scheme = found.return_scheme if platform == "ios" and not own_app else None
    # The merchant's own app is never asked to leave; standalone browsers have nothing to leave.
    escape = found.escape_on(platform) if in_app and not own_app else None
    return ClientContext(platform, mobile, in_app, found.id, scheme, False, own_app, escape)


@functools.lru_cache(maxsize=1)
def _default_rules() -> Rules:
    return compile_rules(load_registry())


def classify(ua: str, *, app_token: str | None = None, registry: Registry | None = None) -> ClientContext:
    """Classify one user agent; `app_token` is the merchant app's UA token (WEBVIEW_APP_UA_TOKEN)."""
    rules = _default_rules() if registry is None else compile_rules(registry)
    # The common case (a str within MAX_UA) skips bounded()'s call: this runs once per page view.
    return _classify_cached(rules, ua if ua is not None and len(ua) <= MAX_UA else bounded(ua), app_token or None)


def bounded(ua: str | None) -> str:
    """The user agent cut to MAX_UA characters: its first and last halves, so memory and time stay bounded."""
    ua = ua or ""
    if len(ua) <= MAX_UA:
        return ua
    half = MAX_UA // 2
    return ua[:half] + " " + ua[-(MAX_UA - half - 1):]


def _classify(rules: Rules, ua: str, app_token: str | None) -> ClientContext:
    lower = ua.lower()
    # One pass finds every vocabulary token, overlapping ones too; on UTF-8 bytes a token's bytes occur
    # exactly where the token occurs in the text ("surrogatepass": any str a caller hands in encodes).
    found = rules.matcher.find_matches_as_indexes(lower.encode("utf-8", "surrogatepass"), overlapping=True)
    choices, ending = _decision(rules, frozenset(map(_FIRST, found)))
    for pattern, endings in choices:
        # A rule's regex (e.g. `Line/` only before a digit) is the one check the token set cannot settle.
        if pattern is None or pattern.search(lower) is not None:
            ending = endings
            break
    context = ending[0]
    if context.bot:
        return context
    mobile = _mobile(ua, context.platform)
    own_app = app_token is not None and _token_re(app_token).search(ua) is not None
    return ending[mobile + 2 * own_app]


_classify_cached = functools.lru_cache(maxsize=CACHE_SIZE)(_classify)


def _cache_clear() -> None:
    """Forget every cached answer: per UA, per set of tokens found, and user_agents' parses."""
    _classify_cached.cache_clear()
    _decision.cache_clear()
    _parse.cache_clear()


classify.cache_clear = _cache_clear  # type: ignore[attr-defined]
classify.cache_info = _classify_cached.cache_info  # type: ignore[attr-defined]


Ending = tuple[ClientContext, ...]  # four contexts, indexed by mobile + 2 * own_app
Choices = tuple[tuple[re.Pattern[str] | None, Ending], ...]  # per candidate rule: its pattern and its ending


# Keyed on the set of tokens found, which real traffic repeats: a few hundred sets cover the corpus.
@functools.lru_cache(maxsize=CACHE_SIZE)
def _decision(rules: Rules, present: frozenset[int]) -> tuple[Choices, Ending]:
    """The rules that apply, in the order they are tried, and the ending when none does."""
    platform = _platform(present, rules)
    positions = sorted({position for token in present for position in rules.owners[token]})
    choices = tuple((rules.ordered[position].pattern, rules.endings[platform, position]) for position in positions
                    if platform in rules.ordered[position].platforms
                    and rules.exclude_ids[position].isdisjoint(present))
    # WKWebView has no token of its own: an iOS WebKit UA that no rule claims and that lacks "Safari/".
    fallback = rules.wkwebview_at if platform == "ios" and _SAFARI not in present and _APPLEWEBKIT in present else -1
    return choices, rules.endings[platform, fallback]


def _platform(present: frozenset[int], rules: Rules) -> str:
    if not present.isdisjoint(_IOS_DEVICES):
        return "ios"
    if _ANDROID in present:
        return "android"
    if _MACINTOSH in present:
        # iPadOS "Request Desktop Site" sends a Mac UA; only iOS-only browsers' tokens give it away.
        return "ios" if not present.isdisjoint(rules.ios_only_ids) else "desktop"
    if _LIKE_MAC in present:
        return "ios"
    if not present.isdisjoint(_DESKTOPS):
        return "desktop"
    if _LINUX in present and present.isdisjoint(_NOT_LINUX_DESKTOP):
        return "desktop"
    return "other"


def _mobile(ua: str, platform: str) -> bool:
    if platform in ("ios", "android"):
        return True
    if platform == "desktop":
        return False
    # Feature phones, KaiOS, Tizen, Windows Phone…: the one place a full parse earns its cost.
    # A crawler is never mobile, and user_agents calls a UA a bot when its device family is "Spider":
    # the device parse alone (ua-parser's legacy API that user_agents reads, which caches it for the
    # full parse) settles most such UAs at half the cost.
    if _UA_PARSER.ParseDevice(ua)["family"] == "Spider":
        return False
    parsed = _parse(ua)
    return bool(parsed.is_mobile or parsed.is_tablet) and not parsed.is_bot


@functools.lru_cache(maxsize=64)
def _token_re(token: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.\-/]){re.escape(token)}(?![\w\-])")


@functools.lru_cache(maxsize=1024)
def _parse(ua: str) -> user_agents.parsers.UserAgent:
    return user_agents.parse(ua)

