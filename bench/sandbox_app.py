"""The sandbox as the benchmarks serve it: `gunicorn --workers 1 --threads 16 bench.sandbox_app:create()`.

The sandbox stands in for KISPG, whose servers are not the merchant's: served by gunicorn's
threads rather than `webview-toolkit sandbox`'s development server (which logs every request
line), it takes less of the two cores the service is measured on. One worker, because the
sandbox keeps its payments in its process's memory. KISPG_MID, KISPG_MERCHANT_KEY and
KISPG_SANDBOX_DELAY come from the environment, as for `webview-toolkit sandbox`.
"""
from __future__ import annotations

import os

from webview_toolkit.kispg.sandbox import create_sandbox_app
from webview_toolkit.kispg.sandbox.delays import CONFIG_KEY as DELAY_KEY


def create():
    config = {name: os.environ[name] for name in ("KISPG_MID", "KISPG_MERCHANT_KEY", DELAY_KEY) if os.environ.get(name)}
    return create_sandbox_app(config)
