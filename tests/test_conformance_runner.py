"""The probes over loopback: the sandbox matches itself, an altered one is caught exactly, a firewall stops the run."""
from __future__ import annotations

import requests
from flask import Response, request

from webview_toolkit.conformance.compare import DIFFERS, MATCH, NOT_COMPARABLE
from webview_toolkit.conformance.exchange import Endpoint, Pacer, reference_sandbox
from webview_toolkit.conformance.probes import PROBES
from webview_toolkit.conformance.runner import Merchant, run_probes

from .conformance_helpers import (KEY, MID, altered, cancel_without_partcanflg, other_code_for_missing_partcanflg,
                                  sandbox_app)
from .loopback import served

MERCHANT = Merchant(MID, KEY)


def probe(base: str, merchant: Merchant = MERCHANT):
    target = Endpoint(base, requests.Session(), (2.0, 10.0), Pacer(0, len(PROBES)))
    _, reference = reference_sandbox(merchant.mid, merchant.key)
    return {result.id: result for result in run_probes(target, reference, merchant)}


def test_against_the_built_in_sandbox_every_probe_matches():
    with served(sandbox_app()) as base:
        results = probe(base)
    assert list(results) == [p.id for p in PROBES]
    assert {r.id: r.comparison.verdict for r in results.values()} == {p.id: MATCH for p in PROBES}
    assert all(r.target is not None and r.target.status in (200, 400, 415) for r in results.values())


def test_an_altered_sandbox_is_flagged_on_exactly_that_probe():
    app = altered(sandbox_app(), cancel_without_partcanflg, other_code_for_missing_partcanflg)
    with served(app) as base:
        results = probe(base)
    flagged = {r.id: r.comparison.differences for r in results.values() if r.comparison.verdict != MATCH}
    assert flagged == {"cancel_missing_partcanflg": ('resultCd: live "9001", sandbox "S100"',)}
    assert results["cancel_missing_partcanflg"].comparison.verdict == DIFFERS


def test_another_merchant_key_shows_on_every_signed_probe():
    # The live side knows a different key: what a merchant with a wrong KISPG_MERCHANT_KEY would see.
    with served(sandbox_app(key=KEY[::-1])) as base:
        results = probe(base)
    differing = {r.id for r in results.values() if r.comparison.verdict == DIFFERS}
    signed_ok = {p.id for p in PROBES if not (p.wrong_hash or p.body == "form" or p.omit or p.rename)}
    assert differing == signed_ok


def test_a_firewall_redirect_stops_the_run_after_one_request():
    seen = []

    def firewall():
        seen.append(request.path)
        return Response("", status=302, headers={"Location": "https://kispg.example/notice.html"})

    app = altered(sandbox_app(), lambda: True, firewall)
    with served(app) as base:
        results = list(probe(base).values())
    assert seen == [PROBES[0].path]
    first, rest = results[0], results[1:]
    assert first.comparison.verdict == DIFFERS
    assert first.comparison.differences[:2] == (
        "HTTP status: live 302, sandbox 200", "Location: live https://kispg.example/notice.html, sandbox (none)")
    assert {r.comparison.verdict for r in rest} == {NOT_COMPARABLE} and all(r.target is None for r in rest)
    assert all(r.reference.status in (200, 400, 415) for r in rest)


def test_the_same_fields_go_to_both_sides():
    received = []

    def spy():
        received.append(request.get_data())
        return None

    target_app = sandbox_app()
    target_app.before_request(spy)
    with served(target_app) as base:
        target = Endpoint(base, requests.Session(), (2.0, 10.0), Pacer(0, 1))
        reference_app, reference = reference_sandbox(MID, KEY)
        reference_app.before_request(spy)
        run_probes(target, reference, MERCHANT, PROBES[:1])
    assert len(received) == 2 and received[0] == received[1]
