"""The report: stable keys, counts, a bilingual summary, and never the merchant key."""
from __future__ import annotations

import json

from webview_toolkit.conformance.compare import Comparison
from webview_toolkit.conformance.exchange import Answer
from webview_toolkit.conformance.report import REDACTED, build_report, render_json, render_summary, scrub
from webview_toolkit.conformance.runner import Merchant, ProbeResult

from .conformance_helpers import KEY, MID

MERCHANT = Merchant(MID, KEY)


def result(id: str, live: Answer | None, verdict: str = "match", differences: tuple[str, ...] = ()) -> ProbeResult:
    return ProbeResult(id=id, endpoint="order", path="/v2/order", body="json", title_en="inquiry", title_ko="조회",
                       expect="", request={"mid": MID}, target=live,
                       reference=Answer(status=200, content_type="application/json",
                                        json={"resultCd": "S104", "resultMsg": "거래 내역이 없습니다."}),
                       comparison=Comparison(verdict, differences))


def test_the_report_has_stable_keys_and_counts():
    live = Answer(status=302, content_type="text/html", location="https://kispg.example/fw")
    report = build_report(env="test", base_url="http://127.0.0.1:1", merchant=MERCHANT, payment=None, probes=[
        result("a", live, "differs", ("HTTP status: live 302, sandbox 200",)),
        result("b", None, "not_comparable", ("not sent",))])
    assert list(report) == ["report_version", "tool", "started_at", "environment", "base_url", "mid",
                            "public_test_merchant", "counts", "redirected", "probes", "payment"]
    assert report["counts"] == {"match": 0, "differs": 1, "not_comparable": 1}
    assert report["redirected"] == ["a"]
    assert list(report["probes"][0]) == ["id", "endpoint", "path", "body", "title_en", "title_ko", "expect",
                                         "request", "live", "sandbox", "verdict", "differences"]
    assert report["probes"][1]["live"] is None


def test_the_summary_is_one_line_per_probe_with_its_differences_and_the_firewall_hint():
    live = Answer(status=302, content_type="text/html", location="https://kispg.example/fw")
    report = build_report(env="test", base_url="http://127.0.0.1:1", merchant=MERCHANT, payment=None,
                          probes=[result("a", live, "differs", ("HTTP status: live 302, sandbox 200",))])
    lines = render_summary(report, [KEY]).splitlines()
    assert lines[0] == f"KISPG conformance / 적합성 점검: http://127.0.0.1:1 (test, MID {MID})"
    assert lines[1] == "  match 0 · differs 1 · not compared 0  (일치 0 · 다름 1 · 비교 불가 0)"
    assert "register this server's IP with KISPG" in lines[2]
    assert lines[3:] == [
        "probes / 자동 점검:",
        "  DIFFERS      a: inquiry / 조회 — live 302 → https://kispg.example/fw; sandbox 200 S104 거래 내역이 없습니다.",
        "      HTTP status: live 302, sandbox 200"]


def test_a_key_echoed_by_the_server_is_removed_from_json_and_summary():
    echo = Answer(status=200, content_type="application/json", json={"resultCd": "9999", "resultMsg": f"bad {KEY}"},
                  text="")
    report = build_report(env="test", base_url="http://x", merchant=MERCHANT, payment=None,
                          probes=[result("a", echo, "differs", (f"resultMsg: live \"bad {KEY}\"",))])
    for text in (render_json(report, [KEY]), render_summary(report, [KEY])):
        assert KEY not in text and REDACTED in text
    assert json.loads(render_json(report, [KEY]))["probes"][0]["live"]["json"]["resultMsg"] == f"bad {REDACTED}"


def test_scrub_removes_the_longer_secret_first():
    assert scrub("ab abc", ["ab", "abc"]) == f"{REDACTED} {REDACTED}"
