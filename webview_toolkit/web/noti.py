"""`POST /kispg/noti`: KISPG's notifications (§2.2 "결제 결과 수신"), received safely.

Answers 200 with the body `OK` when the notice was taken (the order agrees with it after an
inquiry), and an error status with `FAIL <reason>` otherwise, so that the sender resends:
403 for a source outside KISPG_NOTI_ALLOW or a wrong hashStr, 400 for a body it cannot read,
404/409 for a notice naming no order or another payment, 503 while `/v2/order` does not (yet)
confirm it. See notifications.py for what is assumed and from where.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from .. import notifications
from ..notifications import NoticeRefused
from .extensions import payments

bp = Blueprint("noti", __name__)
log = logging.getLogger(__name__)


@bp.post("/kispg/noti")
def receive():
    """Take one KISPG notification: check where it came from and its hash, then confirm it by inquiry."""
    config = current_app.config
    # Behind a proxy listed in WEBVIEW_TRUSTED_PROXIES, ProxyFix has already put the real sender here
    # (web/edge.py); from anyone else X-Forwarded-For counts for nothing.
    source = request.remote_addr
    try:
        if not notifications.source_allowed(source, config["KISPG_NOTI_ALLOW"]):
            raise NoticeRefused(403, f"source {source} is not in KISPG_NOTI_ALLOW")
        fields = notifications.decode(request.get_data(cache=False), request.headers.get("Content-Type", ""))
        shown = {k: v for k, v in fields.items() if k != "hashStr"}
        log.info("kispg noti from %s: %s", source, shown)
        signed = notifications.check_hash(fields, config["KISPG_MID"], config["KISPG_MERCHANT_KEY"])
        taken = notifications.receive(payments(), fields, signed=signed)
    except NoticeRefused as refused:
        log.warning("kispg noti from %s refused (%s): %s", source, refused.status, refused)
        return Response(f"FAIL {refused}", status=refused.status, mimetype="text/plain")
    log.info("kispg noti taken: order %s is %s", taken.ord_no, taken.status)
    return Response(notifications.OK_BODY, status=200, mimetype="text/plain")
