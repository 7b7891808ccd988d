"""GET /_calls (what the sandbox received) and /_faults (failures armed for the next API calls).

They reveal every ordNo and can break the next payments: only this machine (loopback) or a
caller with the admin token (WEBVIEW_ADMIN_TOKEN) may use them. Our own rule; KISPG has no such routes.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from ...guards import loopback_client, token_matches

from .checks import state
from .state import FAULT_ENDPOINTS, FAULT_MODES, Fault

MAX_DELAY = 120.0


def guard_admin_routes() -> tuple[Response, int] | None:
    """Refuse a `/_…` route to anyone but loopback clients and the admin token (403); other routes pass."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    if not any(part.startswith("_") for part in rule.split("/")):
        return None
    if loopback_client() or token_matches(request.headers.get("Authorization"),
                                          current_app.config.get("WEBVIEW_ADMIN_TOKEN")):
        return None
    return jsonify(error="the sandbox's /_ routes answer only this machine or the admin token "
                         "(Authorization: Bearer WEBVIEW_ADMIN_TOKEN)", fields={}), 403


def calls() -> Response:
    """The API calls received, oldest first: endpoint, tid, ordNo, resultCd, status."""
    sandbox = state()
    with sandbox.lock:
        return jsonify([call.as_dict() for call in sandbox.calls])


def list_faults() -> Response:
    """The faults still armed."""
    sandbox = state()
    with sandbox.lock:
        return jsonify([fault.as_dict() for fault in sandbox.faults])


def add_fault() -> tuple[Response, int]:
    """Arm a fault: {endpoint: payment|cancel|order, mode, count=1, delay=0}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object"), 400
    endpoint, mode = body.get("endpoint"), body.get("mode")
    count, delay = body.get("count", 1), body.get("delay", 0)
    if endpoint not in FAULT_ENDPOINTS:
        return jsonify(error=f"endpoint must be one of {', '.join(FAULT_ENDPOINTS)}"), 400
    if mode not in FAULT_MODES:
        return jsonify(error=f"mode must be one of {', '.join(FAULT_MODES)}"), 400
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return jsonify(error="count must be a positive integer"), 400
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY:
        return jsonify(error=f"delay must be seconds between 0 and {MAX_DELAY:g}"), 400
    fault = Fault(endpoint, mode, count, float(delay))
    state().add_fault(fault)
    return jsonify(fault.as_dict()), 201


def clear_faults() -> tuple[str, int]:
    """Disarm every fault."""
    sandbox = state()
    with sandbox.lock:
        sandbox.faults.clear()
    return "", 204
