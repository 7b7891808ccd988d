"""Tests for webview_toolkit.useragent (and the recognition rules in registry/browsers.py)."""
import re

import pytest
import user_agents
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from webview_toolkit.registry import check_registry, load_registry
from webview_toolkit.useragent import ClientContext, classify, compile_rules

from .useragent_helpers import CORPUS

FIELDS = ("platform", "mobile", "in_app", "app", "app_scheme", "bot")

IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
ANDROID_WV = ("Mozilla/5.0 (Linux; Android 14; SM-S921N Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
              "(KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36")


TRAPS = [row for row in CORPUS if row["trap"] != "-"]


def _expected(row: dict[str, str]) -> dict[str, object]:
    def none(value: str) -> str | None:
        return None if value == "-" else value
    return {"platform": row["platform"], "mobile": row["mobile"] == "true", "in_app": row["in_app"] == "true",
            "app": none(row["app"]), "app_scheme": none(row["app_scheme"]), "bot": row["bot"] == "true"}


def _actual(context: ClientContext) -> dict[str, object]:
    return {field: getattr(context, field) for field in FIELDS}


def test_corpus_is_large_sourced_and_korean_heavy():
    assert len(CORPUS) >= 150
    assert all(row["source"].strip() for row in CORPUS)
    korean = {"kakaotalk", "kakaostory", "naver", "daum", "band", "whale", "samsung", "nateon"}
    assert sum(row["app"] in korean for row in CORPUS) >= 60
    assert len({row["ua"] for row in CORPUS}) == len(CORPUS)


def _row_id(index: int, row: dict[str, str]) -> str:
    label = row["app"] if row["app"] != "-" else ("bot" if row["bot"] == "true" else "none")
    return f"{index + 1:03d}-{label}-{row['platform']}" + (f"-{row['trap']}" if row["trap"] != "-" else "")


@pytest.mark.parametrize("row", CORPUS, ids=[_row_id(i, row) for i, row in enumerate(CORPUS)])
def test_every_corpus_row_exactly_right(row):
    assert _actual(classify(row["ua"])) == _expected(row), row["source"]


NEW_APPS = {"naver_blog", "naver_cafe", "everytime", "toss", "discord", "pinterest", "slack", "teams", "bing", "brave"}


def test_every_new_recognition_has_sourced_rows():
    apps = {row["app"] for row in CORPUS}
    assert NEW_APPS <= apps
    shipped = {browser.id for browser in load_registry().browsers}
    assert NEW_APPS <= shipped


def test_every_named_trap_has_rows():
    assert {row["trap"] for row in TRAPS} == {
        "kakaotalk_10_7_safari", "kakaotalk_scrap_bot", "naver_bots", "naver_whale_ipad", "daum_ios_safari_first",
        "naver_android_no_wv", "ipad_desktop_mode", "vivaldi_ios", "facebook_twitter_bots", "messenger_not_facebook",
    }


@pytest.mark.parametrize(("suffix", "app", "scheme"), [
    ("Safari/604.1 KAKAOTALK/11.2.2 (INAPP)", "kakaotalk", "kakaotalk://"),
    ("Safari/605.1 NAVER(inapp; search; 2000; 12.9.3; 15PRO)", "naver", "naversearchapp://"),
    ("DaumApps/7.5.1 DaumDevice/mobile", "daum", "daumapps://"),
    ("[FBAN/FBIOS;FBAV/482.2.0.68.110;FBDV/iPhone12,8]", "facebook", "fb://"),
    ("[FBAN/MessengerForiOS;FBAV/117.0.0.36.70]", "messenger", None),
    ("Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1)", "instagram", None),
    ("Version/18.2 Safari/604.1", "safari", None),
    ("", "wkwebview_ios", None),
])
def test_ios_app_scheme_comes_from_the_registry(suffix, app, scheme):
    context = classify(f"{IPHONE} {suffix}".strip())
    assert (context.app, context.app_scheme) == (app, scheme)


@pytest.mark.parametrize("suffix", ["KAKAOTALK/11.2.2 (INAPP)", "NAVER(inapp; search; 2000; 12.9.2)",
                                    "DaumApps/7.5.0 DaumDevice/mobile", "[FB_IAB/FB4A;FBAV/488.0.0.62.79;]"])
def test_never_an_app_scheme_on_android(suffix):
    context = classify(f"{ANDROID_WV} {suffix}")
    assert context.platform == "android" and context.in_app and context.app_scheme is None


@pytest.mark.parametrize(("ua", "token", "own"), [
    (f"{ANDROID_WV} MyShop/2.1.0", "MyShop", True),
    (f"{IPHONE} MyShop/2.1.0 (iOS)", "MyShop", True),
    (f"{IPHONE} MyShopping/2.1.0", "MyShop", False),
    (f"{IPHONE} NotMyShop/1.0", "MyShop", False),
    (f"{IPHONE} MyShop/2.1.0", None, False),
])
def test_own_app_is_a_whole_token(ua, token, own):
    context = classify(ua, app_token=token)
    assert context.own_app is own
    assert context.in_app is True
    if own:
        assert context.app_scheme is None  # the merchant app returns by its own scheme


def test_results_are_cached():
    ua = f"{IPHONE} KAKAOTALK 10.3.1"
    assert classify(ua) is classify(ua)
    assert classify.cache_info().hits >= 1


def test_empty_and_garbage_user_agents():
    assert classify("") == ClientContext("other", False, False, None, None, False, False)
    assert classify("Dillo/2.2").app is None


SCHEMES = {f"{b.ios_return_scheme}://" for b in load_registry().browsers if b.ios_return_scheme}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["", IPHONE, ANDROID_WV, "Mozilla/5.0 (Windows NT 10.0)"]))
def test_app_scheme_only_on_ios_and_only_from_the_registry(text, prefix):
    context = classify(prefix + text)
    assert context.app_scheme is None or (context.platform == "ios" and context.app_scheme in SCHEMES)
    assert context.app != "safari" or context.app_scheme is None
    assert not (context.bot and context.in_app)


def test_rules_put_bots_first_and_follow_priority():
    rules = compile_rules(load_registry())
    assert all(rule.kind == "bot" for rule in rules.bots)
    assert [rule.id for rule in rules.agents].index("messenger") < [rule.id for rule in rules.agents].index("facebook")
    assert "crios/" in rules.ios_only_tokens


BASE_BROWSER = {"id": "x", "name": "X", "kind": "in_app", "match": ["xapp/"], "sources": ["s"]}


@pytest.mark.parametrize(("change", "message"), [
    ({"match": []}, "needs at least one token"),
    ({"pattern": "(unclosed"}, "is not a valid regex"),
    ({"platforms": ["ios", "windows"]}, "must be among ios, android, desktop, other"),
    ({"priority": 0}, "must be between 1 and 999"),
    ({"kind": "bot", "ios_return_scheme": "xapp"}, "a bot has no app to return to"),
    ({"id": "safari", "ios_return_scheme": "xapp"}, "Safari is where ISP returns anyway"),
    ({"platforms": ["android"], "ios_return_scheme": "xapp"}, "does not run on ios"),
    ({"ios_return_scheme": "xapp", "sources": []}, "a return scheme needs a public source"),
    ({"exclude": ["xapp/"]}, "excludes one of its own match tokens"),
    ({"kind": "robot"}, "must be one of in_app, browser, webview, bot"),
], ids=lambda value: str(value)[:30])
def test_recognition_lint(tmp_path, change, message):
    other = {"id": "y", "name": "Y", "kind": "browser", "match": ["yapp/"], "sources": ["s"]}
    document = {"browsers": [{**BASE_BROWSER, **change}, other]}
    (tmp_path / "browsers.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    _, problems = check_registry(tmp_path)
    assert any(message in line for line in problems), problems


def test_recognition_lint_catches_a_token_claimed_twice(tmp_path):
    document = {"browsers": [BASE_BROWSER, {**BASE_BROWSER, "id": "z"}]}
    (tmp_path / "browsers.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    _, problems = check_registry(tmp_path)
    assert "schemes/browsers.yaml: browser 'z': field 'match': token 'xapp/' is already claimed by browser 'x'" in problems


def test_shipped_browsers_are_clean():
    _, problems = check_registry()
    assert [line for line in problems if "browsers.yaml" in line] == []


@pytest.mark.parametrize(("ua", "escape"), [
    (f"{IPHONE} KAKAOTALK 10.3.1", "kakaotalk_open_external"),
    (f"{ANDROID_WV} KAKAOTALK/10.7.0 (INAPP)", "kakaotalk_open_external"),
    (f"{IPHONE} Safari/604.1 Line/13.20.0", "line_open_external_browser"),
    (f"{IPHONE} Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1)", "menu"),
    (f"{ANDROID_WV} Instagram 354.0.0.29.90 Android", "android_intent"),
    (f"{IPHONE} Version/18.2 Safari/604.1", None),  # a browser: nothing to leave
    (ANDROID_WV, None),  # an unknown app's WebView: no known way out
    ("facebookexternalhit/1.1;kakaotalk-scrap/1.0", None),
], ids=["kakao-ios", "kakao-android", "line-ios", "instagram-ios", "instagram-android", "safari", "unknown-wv", "bot"])
def test_classify_reports_the_escape(ua, escape):
    assert classify(ua).escape == escape


def test_own_app_is_never_given_an_escape():
    ua = f"{IPHONE} Instagram 354.0.0.29.90 (iPhone12,8; iOS 18_1) MyShop/2.1.0"
    assert classify(ua).escape == "menu"
    assert classify(ua, app_token="MyShop").escape is None


# -- one pass over every token (issue 18): the same labels as the rules read one by one -------------

REGISTRY = load_registry()


def _reference(ua: str, app_token: str | None = None) -> ClientContext:
    """The recognition rules of registry/browsers.py read literally, one substring at a time."""
    lower = ua.lower()
    browsers = sorted(REGISTRY.browsers, key=lambda b: (b.priority, b.id))
    ios_only = [t for b in browsers if set(b.platforms) == {"ios"} for t in b.match]
    if any(t in lower for t in ("iphone", "ipad", "ipod")):
        platform = "ios"
    elif "android" in lower:
        platform = "android"
    elif "macintosh" in lower:
        platform = "ios" if any(t in lower for t in ios_only) else "desktop"
    elif "like mac os x" in lower:
        platform = "ios"
    elif any(t in lower for t in ("windows nt", "x11", "cros ")) or (
            "linux" in lower and "mobile" not in lower and "tizen" not in lower):
        platform = "desktop"
    else:
        platform = "other"

    def applies(b) -> bool:
        return (platform in b.platforms and any(t in lower for t in b.match)
                and not any(t in lower for t in b.exclude)
                and (b.pattern is None or re.search(b.pattern, lower, re.IGNORECASE) is not None))

    if any(applies(b) for b in browsers if b.kind == "bot"):
        return ClientContext(platform, platform in ("ios", "android"), False, None, None, True, False)
    found = next((b for b in browsers if b.kind != "bot" and b.match and applies(b)), None)
    if found is None and platform == "ios" and "safari/" not in lower and "applewebkit" in lower:
        found = next(b for b in browsers if b.id == "wkwebview_ios")
    parsed = user_agents.parse(ua) if platform == "other" else None
    mobile = platform in ("ios", "android") or (
        parsed is not None and bool(parsed.is_mobile or parsed.is_tablet) and not parsed.is_bot)
    own = app_token is not None and re.search(rf"(?<![\w.\-/]){re.escape(app_token)}(?![\w\-])", ua) is not None
    if found is None:
        return ClientContext(platform, mobile, own, None, None, False, own)
    in_app = own or found.in_app
    scheme = f"{found.ios_return_scheme}://" if platform == "ios" and not own and found.ios_return_scheme \
        and found.id != "safari" else None
    escape = found.escape_on(platform) if in_app and not own else None
    return ClientContext(platform, mobile, in_app, found.id, scheme, False, own, escape and escape.mechanism)


# Registry tokens in any case, pieces of real UAs, and text that is not ASCII (İ lowers to two
# characters; a lone surrogate cannot be UTF-8 encoded without surrogatepass).
FRAGMENTS = sorted({t for b in REGISTRY.browsers for t in (*b.match, *b.exclude)}) + [
    "iPhone", "iPad", "Android", "Macintosh", "like Mac OS X", "Windows NT", "X11", "CrOS ", "Linux", "Mobile",
    "Tizen", "Safari/604.1", "AppleWebKit/605.1.15", "Line/13", "band/5", "GSA/3", "Teams/1", "TeamsMobile-",
    "MyShop/2.1", " ", ";", ")", "(", "İ", "\udcff", "é",
]
fragment = st.sampled_from(FRAGMENTS).flatmap(
    lambda f: st.sampled_from([f, f.upper(), f.title()]))


PREFIXES = ["", IPHONE, ANDROID_WV, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"]


@settings(max_examples=2000, deadline=None)
@given(st.tuples(st.sampled_from(PREFIXES), st.lists(fragment | st.text(max_size=4), max_size=8).map("".join))
       .map("".join), st.sampled_from([None, "MyShop"]))
@example(f"{IPHONE} Safari/604.1 Chrome/131.0", None)  # WebKit on iOS with "Safari/" is no WKWebView
def test_classify_gives_what_the_rules_read_one_by_one_give(ua, app_token):
    assert classify(ua, app_token=app_token) == _reference(ua, app_token)


def test_the_corpus_reads_the_same_one_rule_at_a_time():
    # Every field, escape and own_app included (the corpus rows above label six of them).
    differ = [row["ua"] for row in CORPUS for token in (None, "MyShop")
              if classify(row["ua"], app_token=token) != _reference(row["ua"], token)]
    assert differ == []


@pytest.mark.parametrize(("ua", "mobile"), [
    ("Nokia6300/2.0 (05.00) Profile/MIDP-2.0 Configuration/CLDC-1.1", True),  # a feature phone
    ("Mozilla/5.0 (Mobile; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5", True),
    ("Daum/1.2", False),  # ua-parser's "Spider": settled by the device parse alone
    ("Dillo/2.2", False),
])
def test_a_client_with_no_platform_token_is_mobile_as_user_agents_says(ua, mobile):
    context = classify(ua)
    assert (context.platform, context.mobile, context.bot) == ("other", mobile, False)


def test_cache_clear_forgets_every_cached_answer():
    # The bench's "uncached" figure relies on it: no table warmed by an earlier pass may help.
    from webview_toolkit import useragent
    classify("Dillo/2.2")
    classify.cache_clear()
    assert classify.cache_info().currsize == 0
    assert useragent._decision.cache_info().currsize == 0 and useragent._parse.cache_info().currsize == 0
