"""Tests for /device-test and the QR code endpoints."""
import io

import pytest
import zxingcpp
from PIL import Image

from .service_helpers import UA


def test_device_test_shows_what_was_detected(client):
    html = client.get("/device-test", headers={"User-Agent": UA["kakaotalk_ios"]}).get_data(as_text=True)
    assert '<dd data-field="platform">ios (모바일)</dd>' in html
    assert '<dd data-field="app">kakaotalk</dd>' in html
    assert '<dd data-field="app_scheme" class="mono">kakaotalk://</dd>' in html
    assert 'href="ispmobile://"' in html, "iOS gets the registry's schemes as launch links"


def test_android_gets_intent_links(client):
    html = client.get("/device-test", headers={"User-Agent": UA["chrome_android"]}).get_data(as_text=True)
    assert "intent://launch#Intent;scheme=ispmobile;package=kvp.jjy.MispAndroid320;end" in html
    assert '<dd data-field="app_scheme" class="mono">-</dd>' in html


def test_qr_png_decodes_to_the_page_url(client):
    html = client.get("/device-test").get_data(as_text=True)
    assert "http://shop.test/device-test" in html
    response = client.get("/qr.png", query_string={"url": "http://shop.test/device-test"})
    assert response.status_code == 200 and response.mimetype == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.data)))
    assert [code.text for code in decoded] == ["http://shop.test/device-test"]


def test_qr_svg(client):
    response = client.get("/qr.svg", query_string={"url": "http://shop.test/checkout/x"})
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data(as_text=True).lstrip().startswith("<?xml")


@pytest.mark.parametrize("url", ["https://evil.example/phish", "javascript:alert(1)", "", "ftp://shop.test/x"])
def test_qr_only_for_this_service(client, url):
    response = client.get("/qr.png", query_string={"url": url})
    assert response.status_code == 400 and "url" in response.get_json()["fields"]


def test_start_a_sandbox_checkout(client):
    response = client.post("/device-test/checkout")
    assert response.status_code == 303 and response.headers["Location"].startswith("/checkout/")
    assert client.get(response.headers["Location"]).status_code == 200


def test_hostile_user_agent_is_escaped(client):
    html = client.get("/device-test", headers={"User-Agent": "<script>alert(1)</script>"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
