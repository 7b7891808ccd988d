"""The sandbox on its own, for a test: its merchant and clock, a small registry, and signed calls to each endpoint.

The fixtures `clock`, `sandbox` and `web` (its test client) are in conftest.py.
"""
from __future__ import annotations

import re
from datetime import datetime
from itertools import count

from webview_toolkit.kispg.signing import KST, edi_date_now, sign
from webview_toolkit.kispg.testing import auth_form, sandbox_authenticate
from webview_toolkit.registry import App, Registry
from webview_toolkit.registry.code_tables import freeze_codes

MID = "webview01m"
KEY = "sandbox-test-key+/" + "K" * 40
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=KST)
ANDROID = "Mozilla/5.0 (Linux; Android 14; SM-S918N; wv) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36"


def app_entry(app_id, category, package, scheme, card_codes=(), easypay_codes=(), priority=10):
    """An App of the small registry, with one scheme on both platforms."""
    return App(id=app_id, name_ko=app_id.upper(), name_en=app_id, category=category, android_package=package,
               android_schemes=(scheme,), ios_schemes=(scheme,), app_store_id=None, priority=priority,
               card_codes=tuple(card_codes), easypay_codes=tuple(easypay_codes), in_guide=True, sources=(),
               notes="", file="test")


REGISTRY = Registry(
    apps=(app_entry("samsungcard", "card", "kr.co.samsungcard.mpocket", "mpocket.online.ansimclick", ["04"]),
          app_entry("isp", "card", "kvp.jjy.MispAndroid320", "ispmobile", ["01"], priority=1),
          app_entry("kakaopay", "easypay", "com.kakao.talk", "kakaotalk", easypay_codes=["02"], priority=50)),
    browsers=(),
    codes=freeze_codes({"card_company": {"01": "비씨", "04": "삼성"}, "easypay": {"02": "카카오페이"}}),
)


class Clock:
    """A clock the test sets: calling it answers `.now`."""

    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now


_orders = count(1)


def form(**extra):
    """A signed auth form for a new ordNo (3,000 won and NOW unless goods_amt or now is given)."""
    return auth_form(MID, KEY, ord_no=f"ord-{next(_orders)}", goods_amt=extra.pop("goods_amt", 3000),
                     now=extra.pop("now", NOW), **extra)


def signed(endpoint_amount: str, when: datetime = NOW, key: str = KEY, **fields) -> dict:
    """The fields with mid, ediDate and encData over the named amount field."""
    edi_date = edi_date_now(when)
    return {"mid": MID, "ediDate": edi_date, "encData": sign(MID, edi_date, fields[endpoint_amount], key), **fields}


def approve(web, tid, amount=3000, **extra):
    """POST /v2/payment for tid; the JSON answer."""
    return web.post("/v2/payment", json=signed("goodsAmt", tid=tid, goodsAmt=str(amount), **extra)).get_json()


def cancel(web, tid, amount, partial="1", when=NOW, **extra):
    """POST /v2/cancel of a card payment; the JSON answer."""
    body = signed("canAmt", when=when, payMethod="card", tid=tid, canAmt=str(amount), canMsg="고객요청",
                  partCanFlg=partial)
    body.update(extra)
    return web.post("/v2/cancel", json=body).get_json()


def inquire(web, amount=3000, **which):
    """POST /v2/order by tid or ordNo; the JSON answer."""
    return web.post("/v2/order", json=signed("goodsAmt", goodsAmt=str(amount), **which)).get_json()


def paid(web, amount=3000, **extra) -> str:
    """Authenticate and approve a payment; its tid."""
    tid = sandbox_authenticate(web, "/v2/auth", form(goods_amt=amount, **extra))["tid"]
    assert approve(web, tid, amount)["resultCd"] in ("3001", "4000", "4100")
    return tid


def error_code(response) -> tuple[str, str]:
    """(resultCd, resultMsg) of the sandbox's error page."""
    html = response.get_data(as_text=True)
    code = re.search(r'id="result-cd">([^<]+)<', html).group(1)
    message = re.search(r'id="result-msg">([^<]+)<', html).group(1)
    return code, message


def open_window(web, ua=ANDROID, **extra):
    """POST /v2/auth as this browser: the pay window's token and HTML."""
    html = web.post("/v2/auth", data=form(**extra), headers={"User-Agent": ua}).get_data(as_text=True)
    return re.search(r'name="token" value="([^"]+)"', html).group(1), html
