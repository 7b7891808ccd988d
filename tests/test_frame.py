"""Tests for the one HTML frame: every page's head comes from templates/frame.html, styled by one stylesheet
that each mount point serves itself (the service, the sandbox wherever it is mounted, the conformance catcher)."""
import re

import pytest
import requests
from flask import Flask

from webview_toolkit.conformance.catcher import ResultCatcher
from webview_toolkit.frame import frame_blueprint
from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.testing import wsgi_session
from webview_toolkit.web import create_app, init_app
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, PUBLIC, UA, checkout_form, create_order, service_config

STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)">')
# What frame.html puts before the title, on every page of every app.
HEAD = ('<!doctype html>\n<html lang="ko">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">\n'
        '<meta name="robots" content="noindex">\n<title>')


def framed(client, response) -> str:
    """The page's HTML, after checking it is in the frame and its stylesheet is served from where it links it."""
    html = response.get_data(as_text=True)
    assert html.startswith(HEAD), html[:300]
    assert "<style" not in html and " style=" not in html  # a stylesheet, so no 'unsafe-inline' in the policy
    [href] = STYLESHEET.findall(html)
    sheet = client.get(href)
    assert sheet.status_code == 200 and sheet.mimetype == "text/css", href
    assert ".sandbox .card" in sheet.get_data(as_text=True)  # the one stylesheet, the sandbox's rules included
    return href


def sandbox_error_page(client, prefix: str):
    """A sandbox page reachable without a signed form: the window's answer to an unknown token."""
    return client.post(f"{prefix}/v2/auth/finish", data={"token": "gone", "action": "approve"})


@pytest.fixture
def service(tmp_path):
    app = create_app(service_config(tmp_path))
    yield app
    services(app).store.dispose()


def test_the_service_and_its_sandbox_share_the_frame_each_under_its_own_prefix(service):
    client = service.test_client()
    ord_no = create_order(client)
    checkout = client.get(f"/checkout/{ord_no}", headers={"User-Agent": UA["kakaotalk_ios"]})
    assert framed(client, checkout) == "/frame/site.css"
    assert framed(client, client.get(f"/orders/{ord_no}")) == "/frame/site.css"
    assert framed(client, client.get("/no-such-page")) == "/frame/site.css"
    form = checkout_form(client, ord_no, UA["kakaotalk_ios"])
    window = client.post(form.action, data=form.fields, headers={"User-Agent": UA["kakaotalk_ios"]})
    assert framed(client, window) == "/sandbox/kispg/frame/site.css"
    assert '<main class="sandbox">' in window.get_data(as_text=True)
    assert framed(client, sandbox_error_page(client, "/sandbox/kispg")) == "/sandbox/kispg/frame/site.css"


def test_a_sandbox_mounted_with_the_service_in_a_shop_app_serves_its_stylesheet_there(tmp_path):
    host = Flask("shop_backend", instance_path=str(tmp_path / "shop-instance"))
    host.config.update(TESTING=True, KISPG_ENV="sandbox", KISPG_MID=MID, KISPG_MERCHANT_KEY=MERCHANT_KEY,
                       WEBVIEW_PUBLIC_URL=PUBLIC, WEBVIEW_DATABASE_URL=f"sqlite:///{tmp_path / 'orders.sqlite3'}",
                       KISPG_SESSION_FACTORY=lambda app: wsgi_session(app, PUBLIC))
    init_app(host, url_prefix="/pay")
    client = host.test_client()
    assert framed(client, sandbox_error_page(client, "/pay/sandbox/kispg")) == "/pay/sandbox/kispg/frame/site.css"
    services(host).store.dispose()


def test_the_standalone_sandbox_serves_its_stylesheet_at_its_root():
    client = create_sandbox_app({"KISPG_MID": MID, "KISPG_MERCHANT_KEY": MERCHANT_KEY}).test_client()
    assert framed(client, sandbox_error_page(client, "")) == "/frame/site.css"


def test_a_blueprint_of_its_own_serves_the_stylesheet_under_any_prefix():
    app = Flask("anything")
    app.register_blueprint(frame_blueprint(), url_prefix="/deep/mount")
    response = app.test_client().get("/deep/mount/frame/site.css")
    assert response.status_code == 200 and response.mimetype == "text/css"


def test_the_conformance_catcher_pages_are_in_the_frame():
    with ResultCatcher("http://127.0.0.1:9/v2/auth", lambda return_url: {"ordNo": "O1", "goodsAmt": "1004"}) as catcher:
        page = requests.get(catcher.base_url + "/", timeout=5)
        received = requests.get(catcher.return_url, params={"resultCd": "0000"}, timeout=5)
        for response in (page, received):
            assert response.text.startswith(HEAD) and " style=" not in response.text
            [href] = STYLESHEET.findall(response.text)
            assert requests.get(catcher.base_url + href, timeout=5).headers["Content-Type"].startswith("text/css")
