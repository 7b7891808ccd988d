"""Tests for `webview-toolkit detect` (webview_toolkit/cli/detect_cmd.py)."""
import json

import pytest
from click.testing import CliRunner

from webview_toolkit.cli import main

KAKAO_IOS = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 Safari/604.1 KAKAOTALK/11.2.2 (INAPP)")
NAVER_ANDROID = ("Mozilla/5.0 (Linux; Android 4.4.2; SM-G900S Build/KOT49H) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Version/4.0 Chrome/28.0.1500.94 Mobile Safari/537.36 NAVER(inapp; search; 340; 6.0.5)")
SCRAP = "facebookexternalhit/1.1; kakaotalk-scrap/1.0; +https://devtalk.kakao.com/t/scrap/33984"
MAC_CHROME = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/141.0.0.0 Safari/537.36")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.mark.parametrize(("ua", "line"), [
    (KAKAO_IOS, "ios, mobile, in-app browser: kakaotalk, app_scheme=kakaotalk://"),
    (NAVER_ANDROID, "android, mobile, in-app browser: naver"),
    (SCRAP, "other, not mobile, bot (link preview or crawler)"),
    (MAC_CHROME, "desktop, not mobile, browser: chrome"),
])
def test_readable_verdict(runner, ua, line):
    result = runner.invoke(main, ["detect", ua])
    assert result.exit_code == 0
    assert result.output == line + "\n"


def test_json_from_stdin_one_object_per_line(runner):
    result = runner.invoke(main, ["detect", "--json"], input=f"{KAKAO_IOS}\n\n{SCRAP}\r\n")
    assert result.exit_code == 0
    assert [json.loads(line) for line in result.output.splitlines()] == [
        {"platform": "ios", "mobile": True, "in_app": True, "app": "kakaotalk", "app_scheme": "kakaotalk://", "bot": False,
         "escape": "kakaotalk_open_external"},
        {"platform": "other", "mobile": False, "in_app": False, "app": None, "app_scheme": None, "bot": True,
         "escape": None},
    ]


def test_json_from_arguments(runner):
    result = runner.invoke(main, ["detect", "--json", NAVER_ANDROID])
    assert result.exit_code == 0
    assert result.output == ('{"platform": "android", "mobile": true, "in_app": true, "app": "naver", '
                             '"app_scheme": null, "bot": false, "escape": "android_intent"}\n')


def test_app_token_marks_the_merchant_app(runner):
    ua = f"{KAKAO_IOS} MyShop/3.0"
    result = runner.invoke(main, ["detect", "--app-token", "MyShop", ua])
    assert result.exit_code == 0
    assert result.output == "ios, mobile, the merchant's own app (kakaotalk)\n"


def test_app_token_from_the_environment(runner):
    result = runner.invoke(main, ["detect", f"{KAKAO_IOS} MyShop/3.0"], env={"WEBVIEW_APP_UA_TOKEN": "MyShop"})
    assert result.exit_code == 0
    assert "own app" in result.output


def test_no_input_prints_nothing(runner):
    result = runner.invoke(main, ["detect"], input="")
    assert result.exit_code == 0
    assert result.output == ""
