"""Tests for webview_toolkit.registry: loading, every lint rule, and the shipped registry."""
from pathlib import Path

import pytest
import yaml

from webview_toolkit.registry import (
    App, RegistryError, check_registry, default_registry_dir, load_registry,
)

from .registry_helpers import GUIDE, guide_section, write_registry

LINT_CASES = yaml.safe_load((Path(__file__).parent / "data" / "lint_cases.yaml").read_text(encoding="utf-8"))


def test_base_fixture_is_clean(tmp_path):
    registry, problems = check_registry(write_registry(tmp_path))
    assert problems == []
    assert [app.id for app in registry.apps] == ["base"]
    assert registry.codes.name("card_company", "01") == "비씨"


@pytest.mark.parametrize("case", LINT_CASES, ids=[case["rule"] for case in LINT_CASES])
def test_each_lint_rule_fails_its_fixture(tmp_path, case):
    _, problems = check_registry(write_registry(tmp_path, extra_apps=case.get("apps", []),
                                                 extra_browsers=case.get("browsers")))
    matching = [line for line in problems if case["expect"] in line]
    assert len(matching) == 1, f"expected one problem containing {case['expect']!r}, got {problems}"
    assert matching[0].startswith("schemes/"), "a problem names its file first"


def test_invalid_yaml_names_the_file(tmp_path):
    _, problems = check_registry(write_registry(tmp_path, extra_text="apps: [unclosed"))
    assert len(problems) == 1 and problems[0].startswith("schemes/extra.yaml: is not valid YAML")


def test_unknown_top_level_key(tmp_path):
    _, problems = check_registry(write_registry(tmp_path, extra_text="aps: []\n"))
    assert problems == ["schemes/extra.yaml: unknown top-level key 'aps'; known: apps, browsers, codes"]


def test_unquoted_code_is_refused(tmp_path):
    _, problems = check_registry(write_registry(tmp_path, extra_text="codes:\n  bank:\n    81: 하나\n"))
    assert problems == ["schemes/extra.yaml: codes table 'bank': code 81: must be a quoted string (leading zeros matter)"]


def test_empty_directory(tmp_path):
    _, problems = check_registry(tmp_path)
    assert len(problems) == 1 and "no *.yaml files" in problems[0]


def test_load_registry_raises_with_every_problem(tmp_path):
    directory = write_registry(tmp_path, extra_apps=[
        {"id": "a", "name_ko": "가", "name_en": "A", "category": "card", "android_package": "bad"},
        {"id": "b", "name_ko": "나", "name_en": "B", "category": "card", "ios_schemes": ["x://"]},
    ])
    with pytest.raises(RegistryError, match=r"malformed package name 'bad' \(and 1 more\)") as info:
        load_registry(directory)
    assert len(info.value.problems) == 2


def test_apps_are_frozen_and_sorted(tmp_path):
    directory = write_registry(tmp_path, extra_apps=[
        {"id": "aaa", "name_ko": "가", "name_en": "A", "category": "vaccine", "android_package": "com.example.aaa"},
    ])
    registry = load_registry(directory)
    assert [app.id for app in registry.apps] == ["aaa", "base"]
    with pytest.raises(AttributeError):
        registry.apps[0].id = "changed"  # type: ignore[misc]
    assert registry.select(["vaccine"]) == (registry.app("aaa"),)
    assert registry.select(platform="ios") == (registry.app("base"),)


# The shipped registry ------------------------------------------------------

# Loaded without raising so that one bad entry fails its own test, not the collection.
SHIPPED, SHIPPED_PROBLEMS = check_registry(default_registry_dir())


def test_shipped_registry_is_clean():
    assert SHIPPED_PROBLEMS == []


@pytest.mark.parametrize("app", SHIPPED.apps, ids=[app.id for app in SHIPPED.apps])
def test_every_shipped_app_is_complete(app: App):
    assert app.sources, "every app names its sources"
    assert app.name_ko and app.name_en
    if app.ios_schemes:
        assert app.app_store_id or app.notes, "an iOS app without a store id explains why in notes"


def test_registry_size_and_categories():
    assert len(SHIPPED.apps) >= 55
    assert {app.category for app in SHIPPED.apps} >= {"card", "transfer", "easypay", "pass", "cert", "vaccine", "bank"}


@pytest.mark.skipif(not GUIDE.exists(), reason="the KISPG guide lives in ../shared")
def test_every_guide_package_and_scheme_is_registered():
    import re
    packages = set(re.findall(r"\b(?:[a-zA-Z]\w*\.)+[a-zA-Z]\w*\b", guide_section("4.4\t참고사항", "5.\t앱 환경의 적용(iOS)")))
    schemes = set(re.findall(r"([A-Za-z][\w.+-]*)://", guide_section("5.4\t참고사항", "6.\t모바일 환경")))
    registered_packages = {app.android_package for app in SHIPPED.apps}
    registered_schemes = {s.lower() for app in SHIPPED.apps for s in app.ios_schemes}
    assert packages and schemes
    assert sorted(packages - registered_packages) == []
    assert sorted(s for s in schemes if s.lower() not in registered_schemes) == []


def test_guide_browsers_have_their_return_schemes():
    expected = {"daum": "daumapps", "naver": "naversearchapp", "chrome_ios": "googlechromes",
                "facebook": "fb", "kakaotalk": "kakaotalk"}
    actual = {b.id: b.ios_return_scheme for b in SHIPPED.browsers if b.id in expected}
    assert actual == expected


def test_code_tables_from_the_guide():
    codes = SHIPPED.codes
    assert codes.name("card_company", "04") == "삼성"
    assert codes.name("vbank", "088") == "신한"
    assert codes.name("telco", "LGT") == "LGU+"
    assert codes.name("easypay", "02") == "카카오페이"
    assert codes.name("card_company", "99") is None


def test_launch_url_for_each_platform(tmp_path):
    from webview_toolkit.registry import launch_url
    directory = write_registry(tmp_path, extra_apps=[
        {"id": "x", "name_ko": "가", "name_en": "X", "category": "card", "android_package": "com.example.x"},
    ])
    registry = load_registry(directory)
    base, bare = registry.app("base"), registry.app("x")
    assert launch_url(base, "android") == "intent://launch#Intent;scheme=basescheme;package=com.example.base;end"
    assert launch_url(base, "ios") == "basescheme://"
    assert launch_url(bare, "android") == "intent://launch#Intent;action=android.intent.action.MAIN;package=com.example.x;end"
    assert launch_url(bare, "ios") is None and launch_url(base, "other") is None
