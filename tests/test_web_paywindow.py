"""Which pay window each client gets under WEBVIEW_CHECKOUT_MODE, and whose messages the checkout accepts."""
import pytest

from webview_toolkit.useragent import classify
from webview_toolkit.web.paywindow import IFRAME, PAGE, message_origin, pay_window

from .service_helpers import KAKAOTALK_PC, UA


@pytest.mark.parametrize("ua, auto", [
    (UA["desktop_chrome"], IFRAME), (UA["safari_ios"], PAGE), (UA["chrome_android"], PAGE),
    (UA["kakaotalk_android"], PAGE), (KAKAOTALK_PC, PAGE), (UA["own_app"], PAGE),
], ids=["desktop", "safari_ios", "chrome_android", "kakaotalk_android", "kakaotalk_pc", "own_app"])
def test_auto_frames_only_desktop_browsers_and_the_forced_modes_frame_all_or_none(ua, auto):
    client = classify(ua, app_token="MyShopApp")
    assert pay_window(client, "auto") == auto
    assert pay_window(client, "page") == PAGE and pay_window(client, "iframe") == IFRAME


def test_the_model_and_channel_follow_the_pattern():
    assert (IFRAME.framed, IFRAME.model, IFRAME.channel) == (True, "WEB", "0001")
    assert (PAGE.framed, PAGE.model, PAGE.channel) == (False, "MOB", "0002")


@pytest.mark.parametrize("action, origin", [
    ("https://testapi.kispg.co.kr/v2/auth", "https://testapi.kispg.co.kr"),
    ("https://api.kispg.co.kr/v2/auth", "https://api.kispg.co.kr"),
    ("http://127.0.0.1:8765/v2/auth", "http://127.0.0.1:8765"),
    ("/sandbox/kispg/v2/auth", ""),
    ("/shop/sandbox/kispg/v2/auth", ""),
])
def test_message_origin_is_the_auth_actions_or_this_pages_own(action, origin):
    assert message_origin(action) == origin
