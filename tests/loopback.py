"""Servers on loopback for the length of a `with` block: a WSGI app in a thread, or gunicorn; a free port."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import requests
from werkzeug.serving import make_server


@contextmanager
def served(app: Callable) -> Iterator[str]:
    """Serve a WSGI app on a free 127.0.0.1 port (threaded) for the block; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (nothing listens on it: a post to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(tmp_path, port: int, env: dict, workers: int, *extra: str):
    """gunicorn serving create_app() on a loopback port, once /healthz answers; yields its log file; stopped after."""
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
             "--chdir", str(tmp_path), *extra, "webview_toolkit.web:create_app()"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=2).json()["status"] == "ok":
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and server.poll() is None, log.read_text()[-2000:]
            time.sleep(0.1)  # waiting for gunicorn's workers to boot, bounded by the deadline
        yield log
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass  # the test stopped it already
        server.wait(timeout=30)
