"""The baseline for bench_checkout_wrk.py: a bare Flask endpoint, served the same way as the service.

    gunicorn --workers 2 'bench.bare_app:create_app()'
"""
from __future__ import annotations

from flask import Flask

PAGE = "<!doctype html><html lang=ko><meta charset=utf-8><title>bare</title><p>안녕하세요</p></html>"


def create_app() -> Flask:
    """A Flask app with one route that returns a fixed small HTML page."""
    app = Flask(__name__)

    @app.get("/bare/<ord_no>")
    def bare(ord_no: str):
        return PAGE

    return app
