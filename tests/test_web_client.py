"""Tests for webview_toolkit.web.client: the one place a view turns its request's User-Agent into a ClientContext."""
import re
from pathlib import Path

from webview_toolkit.useragent import classify
from webview_toolkit.web.client import request_client, user_agent

WEB = Path(__file__).resolve().parent.parent / "webview_toolkit" / "web"
ANDROID_APP = ("Mozilla/5.0 (Linux; Android 14; SM-S918N; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 ShopToken/3.2")


def test_the_request_user_agent_with_the_configured_app_token(app):
    app.config["WEBVIEW_APP_UA_TOKEN"] = "ShopToken"
    with app.test_request_context(headers={"User-Agent": ANDROID_APP}):
        assert user_agent() == ANDROID_APP
        client = request_client()
    assert client == classify(ANDROID_APP, app_token="ShopToken")
    assert client.own_app and client.platform == "android"
    app.config["WEBVIEW_APP_UA_TOKEN"] = None
    with app.test_request_context(headers={"User-Agent": ANDROID_APP}):
        assert not request_client().own_app


def test_no_header_is_the_empty_user_agent(app):
    with app.test_request_context():
        assert user_agent() == ""
        assert request_client() == classify("")


def test_a_config_or_ua_the_view_already_read_is_used(app):
    app.config["WEBVIEW_APP_UA_TOKEN"] = None
    with app.test_request_context(headers={"User-Agent": "Dillo/2.2"}):
        assert request_client({"WEBVIEW_APP_UA_TOKEN": "ShopToken"}, ua=ANDROID_APP).own_app
        assert request_client(ua=ANDROID_APP).app == "webview_android"


def test_no_view_classifies_a_user_agent_on_its_own():
    others = {path.name: path.read_text(encoding="utf-8") for path in WEB.glob("*.py") if path.name != "client.py"}
    assert {name for name, source in others.items() if re.search(r"\bclassify\(|[\"']User-Agent[\"']|HTTP_USER_AGENT", source)} == set()
