"""The service's gunicorn settings: `gunicorn -c python:webview_toolkit.web.gunicorn_conf 'webview_toolkit.web:create_app()'`.

Threads, not processes, wait for KISPG. An approval holds whatever serves its returnUrl post for
as long as KISPG takes (up to KISPG_TIMEOUT); a sync worker is a whole process, so four slow
approvals stopped every page of a four-worker service. A gthread worker waits in one thread and
keeps serving pages from the others, with the approval code unchanged: one request, one
conditional claim, one /v2/payment call, the answer stored before the shopper sees a page.
THREADS is sized so that the approvals that may wait at once (bench/bench_slow_kispg.py: 30
shoppers, 3 s each) fit in one worker with threads to spare for pages. `--workers`/`--threads`
on gunicorn's command line override these, and so does gunicorn's own WEB_CONCURRENCY for workers.

On a restart or stop (SIGTERM, SIGHUP) a worker finishes the requests it holds before it exits,
for up to graceful_timeout; past that gunicorn kills it. An approval cut there leaves its order
`approving` for `reconcile`, and its shopper without an answer, so the grace covers the longest
a request may wait on KISPG (config.longest_kispg_wait, 52 s at the defaults) and a margin;
gunicorn's own is 30 s.
"""
from __future__ import annotations

import math
import os

from webview_toolkit.config import longest_kispg_wait

WORKERS = 4
THREADS = 32

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or WORKERS)
threads = THREADS
# With threads the timeout is the worker's heartbeat, not a request's: a slow KISPG kills no worker.
timeout = 30
GRACE_MARGIN = 10  # seconds for the database writes and the page after KISPG's last answer
graceful_timeout = max(30, math.ceil(longest_kispg_wait(os.environ)) + GRACE_MARGIN)  # whole seconds
