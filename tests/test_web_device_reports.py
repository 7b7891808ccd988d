"""Tests for /device-test/reports: JSON-only bounded writes, the matrix, CSV and JSON exports."""
import csv
import io

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from .service_helpers import UA
from .hostile_helpers import CONTENT_TYPES, HOSTILE_UA, SETTINGS, clear_4xx, json_body, no_raw_markup

pytestmark = pytest.mark.postgres


def start(client, ua=UA["kakaotalk_ios"], **body):
    response = client.post("/device-test/reports", json=body, headers={"User-Agent": ua})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def tap(client, report, app, outcome, **extra):
    return client.post(f"/device-test/reports/{report['id']}/results",
                       json={"token": report["token"], "app": app, "outcome": outcome, **extra})


def test_taps_fill_the_matrix_and_the_exports(client):
    report = start(client, tester="민수")
    assert tap(client, report, "isp", "opened").status_code == 200
    assert tap(client, report, "kb_pay", "nothing").status_code == 200
    html = client.get("/device-test/reports").get_data(as_text=True)
    assert f'<tr data-report="{report["id"]}">' in html and "민수" in html
    assert 'data-app="isp" data-outcome="opened"' in html and "앱 열림" in html
    rows = list(csv.DictReader(io.StringIO(client.get("/device-test/reports.csv").get_data(as_text=True))))
    assert [(r["app"], r["app_id"], r["outcome"]) for r in rows] == [("kakaotalk", "isp", "opened"),
                                                                     ("kakaotalk", "kb_pay", "nothing")]
    [exported] = client.get("/device-test/reports.json").get_json()["reports"]
    assert exported["results"] == {"isp": "opened", "kb_pay": "nothing"} and exported["userAgent"] == UA["kakaotalk_ios"]
    assert "token" not in str(exported).lower()


def test_a_cross_site_form_post_is_refused(client):
    response = client.post("/device-test/reports", data={"tester": "x"})
    assert response.status_code == 415 and "body" in response.get_json()["fields"]
    report = start(client)
    response = client.post(f"/device-test/reports/{report['id']}/results",
                           data={"token": report["token"], "app": "isp", "outcome": "opened"})
    assert response.status_code == 415


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"outcome": "exploded"}, 400, "outcome"),
    ({"app": "<script>"}, 400, "app"),
    ({"token": "forged"}, 403, "token"),
    ({"app": "x" * 100}, 400, "app"),
])
def test_bad_taps_are_named(client, change, status, field):
    report = start(client)
    response = tap(client, report, **{"app": "isp", "outcome": "opened", **change})
    assert response.status_code == status and field in response.get_json()["fields"]
    assert client.get("/device-test/reports.json").get_json()["reports"][0]["results"] == {}


def test_large_bodies_and_long_names_are_refused(client):
    response = client.post("/device-test/reports", json={"tester": "x" * 3000})
    assert response.status_code == 413
    response = client.post("/device-test/reports", json={"tester": "가" * 41})
    assert response.status_code == 400 and "tester" in response.get_json()["fields"]


def test_hostile_user_agent_is_escaped_in_the_matrix(client):
    start(client, ua="<script>alert(1)</script>")
    html = client.get("/device-test/reports").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_device_test_has_one_tap_buttons_and_shows_the_escape(client):
    html = client.get("/device-test", headers={"User-Agent": UA["kakaotalk_ios"]}).get_data(as_text=True)
    assert '<dd data-field="escape" class="mono">kakaotalk_open_external</dd>' in html
    assert '<li data-report-app="isp">' in html and 'data-outcome="store"' in html
    assert 'data-report-url="/device-test/reports"' in html


def test_hostile_writes_are_clear_refusals_that_change_nothing(client):
    report = start(client)
    paths = {"create": "/device-test/reports", "known": f"/device-test/reports/{report['id']}/results",
             "forged-id": "/device-test/reports/" + "0" * 24 + "/results", "nul-id": "/device-test/reports/%00/results"}

    @SETTINGS
    @given(body=json_body(("tester", "token", "app", "outcome")), content_type=CONTENT_TYPES, ua=HOSTILE_UA,
           target=st.sampled_from(sorted(paths)))
    @example(body=b'{"tester": "a\\u0000b"}', content_type="application/json", ua="x", target="create")
    @example(body=b'{"token": "\\ud800", "app": "isp", "outcome": "opened"}', content_type="application/json",
             ua="x", target="known")
    @example(body=b'{"token": "t", "app": "isp", "outcome": "opened"}', content_type="application/json",
             ua="x", target="nul-id")
    def hostile(body, content_type, ua, target):
        before = client.get("/device-test/reports.json").get_json()
        response = client.post(paths[target], data=body, headers={"Content-Type": content_type, "User-Agent": ua})
        if response.status_code == 201:
            return  # a valid new report (any tester name within bounds is fine)
        clear_4xx(response, json_error=True)
        assert client.get("/device-test/reports.json").get_json() == before
        no_raw_markup(client.get("/device-test/reports"))

    hostile()
