"""One conformance run, wired: pacing and budget, the in-process sandbox, probes, the optional payment, the report."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

import requests

from ..kispg.signing import KST
from .exchange import DEFAULT_TIMEOUT, Endpoint, Pacer, reference_sandbox
from .guided import GuidedPayment
from .probes import PROBES
from .report import build_report
from .runner import Merchant, run_probes

# Requests the guided payment may send to the target: approval, inquiry, cancel.
PAYMENT_REQUESTS = 3
DEFAULT_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class PaymentOptions:
    """How the guided payment is served and how long it waits for the tester."""

    wait_seconds: float = 600.0
    host: str = "127.0.0.1"
    port: int = 0
    public_base: str | None = None


def audit(env: str, base_url: str, merchant: Merchant, *, session: requests.Session | None = None,
          interval: float = DEFAULT_INTERVAL, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
          payment: PaymentOptions | None = None, on_ready: Callable[[str, str], None] = lambda url, ord_no: None,
          sleep: Callable[[float], None] = time.sleep, now: datetime | None = None) -> dict[str, Any]:
    """Run every probe (and the guided payment when asked) against base_url; the report dict."""
    budget = len(PROBES) + (PAYMENT_REQUESTS if payment else 0)
    target = Endpoint(base_url, session or requests.Session(), timeout, Pacer(interval, budget, sleep=sleep))
    _, reference = reference_sandbox(merchant.mid, merchant.key)
    guided = catcher = None
    if payment is not None:
        guided = GuidedPayment(target, reference, merchant, payment.wait_seconds, payment.host, payment.port,
                               payment.public_base)
        # Bound before any request goes out: a taken port stops the run before it spends its budget.
        catcher = guided.catcher()
    try:
        probes = run_probes(target, reference, merchant, PROBES, now or datetime.now(KST))
    except BaseException:
        if catcher is not None:
            catcher.close()
        raise
    steps = guided.run(on_ready, catcher) if guided is not None else None
    return build_report(env=env, base_url=base_url, merchant=merchant, probes=probes, payment=steps)
