"""Virtual accounts for a test: an account issued through the sandbox, the order's event kinds, a signed deposit notice."""
from __future__ import annotations

import hashlib

from webview_toolkit.kispg.signing import edi_date_now
from webview_toolkit.web.extensions import services

from .service_helpers import MERCHANT_KEY, MID, pay


def issue(client) -> dict:
    """A shopper pays by 가상계좌 through the sandbox: the order as the API shows it."""
    ord_no = pay(client, payMethod="VACNT")
    return client.get(f"/api/orders/{ord_no}").get_json()


def kinds(app, ord_no) -> list[str]:
    """The kinds of the order's events, oldest first."""
    return [e["kind"] for e in services(app).store.events(ord_no)]


def notice(order: dict, **changes) -> dict:
    """A deposit notice for the order, signed like the sandbox's (hashStr over mid + ediDate + amt + key)."""
    fields = {"mid": MID, "tid": order["tid"], "ordNo": order["attempts"][-1]["kispgOrdNo"],
              "amt": str(order["goodsAmt"]), "payMethod": "vacnt", "resultCd": "4110", "ediDate": edi_date_now()}
    fields.update(changes)
    amount = fields.get("amt", "")
    fields.setdefault("hashStr", hashlib.sha256(f"{MID}{fields['ediDate']}{amount}{MERCHANT_KEY}".encode()).hexdigest())
    return {k: v for k, v in fields.items() if v is not None}
