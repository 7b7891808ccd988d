"""The guided payment's tiny local server: it serves the auth form at / and catches the result at /return.

It binds to 127.0.0.1 unless told otherwise, answers only those two paths (and the pages'
stylesheet, frame.py), keeps the first result posted to /return, and lets the caller wait
for it with a bound.
"""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Callable, Mapping

from flask import Flask, render_template, request
from jinja2 import StrictUndefined
from werkzeug.serving import WSGIRequestHandler, make_server

from ..frame import frame_blueprint

TEMPLATES = Path(__file__).resolve().parent / "templates"
RETURN_PATH = "/return"


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its per-request access line, which would break into the command's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing for a served request (errors are still logged)."""


class ResultCatcher:
    """A loopback web server for one guided payment; use as a context manager."""

    def __init__(self, auth_url: str, make_form: Callable[[str], Mapping[str, str]], *,
                 host: str = "127.0.0.1", port: int = 0, public_base: str | None = None):
        self.auth_url = auth_url
        self._make_form = make_form
        self._received = threading.Event()
        self._lock = threading.Lock()
        self.result: dict[str, str] | None = None
        self.form: dict[str, str] | None = None
        # Bound here so a taken port raises OSError (werkzeug would print and exit instead).
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, port), family=family) as listening:
            self._server = make_server(host, port, self._app(), threaded=True, fd=listening.fileno(),
                                       request_handler=QuietHandler)
            self._port = listening.getsockname()[1]
        self.base_url = (public_base or f"http://{host}:{self._port}").rstrip("/")
        self._thread = threading.Thread(target=self._server.serve_forever, name="conformance-catcher", daemon=True)

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._port

    @property
    def return_url(self) -> str:
        """The absolute returnUrl the auth form names."""
        return self.base_url + RETURN_PATH

    def __enter__(self) -> ResultCatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()

    def close(self) -> None:
        """Release the port of a catcher that was never entered (entered ones close on exit)."""
        if not self._thread.is_alive():
            self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The fields posted to returnUrl, or None if nothing arrived within timeout seconds."""
        return dict(self.result) if self._received.wait(timeout) and self.result is not None else None

    def _app(self) -> Flask:
        app = Flask(__name__, template_folder=str(TEMPLATES))
        app.jinja_env.undefined = StrictUndefined
        app.register_blueprint(frame_blueprint())  # the pages' frame and its stylesheet (frame.py)

        @app.get("/")
        def pay_page():
            # Signed when the tester opens it: ediDate is valid for 10 minutes from here.
            form = dict(self._make_form(self.return_url))
            with self._lock:
                self.form = form
            return render_template("conformance/pay.html", auth_url=self.auth_url, fields=form)

        @app.route(RETURN_PATH, methods=["GET", "POST"])
        def receive():
            fields = (request.form if request.method == "POST" else request.args).to_dict()
            with self._lock:
                first = self.result is None
                if first:
                    self.result = fields
            self._received.set()
            return render_template("conformance/received.html", first=first,
                                   result_cd=fields.get("resultCd", ""))

        return app
