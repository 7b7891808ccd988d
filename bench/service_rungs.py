"""The rungs between bench_checkout_wrk's two endpoints: this service's app with two bench-only routes.

    gunicorn --workers 2 'bench.service_rungs:create_app()'

`/rung/bare/<ordNo>` returns bare_app's page from inside this app, so it costs this app's hooks
(request id, body guard, security headers) and nothing else; `/rung/read/<ordNo>` first reads
the order as the checkout page does (`store.checkout_order`). Between them and the checkout
page, the rates say which part of the page's work the ratio to a bare Flask endpoint goes to.
"""
from __future__ import annotations

from flask import Flask, abort

from bare_app import PAGE


def create_app() -> Flask:
    """The service's app (configured from the environment, as `serve` makes it) with the two rungs."""
    from webview_toolkit.web import create_app as service_app
    from webview_toolkit.web.extensions import store

    app = service_app()

    @app.get("/rung/bare/<ord_no>")
    def rung_bare(ord_no: str):
        return PAGE

    @app.get("/rung/read/<ord_no>")
    def rung_read(ord_no: str):
        if store().checkout_order(ord_no) is None:
            abort(404)  # a rung that read nothing would measure less than the page's read
        return PAGE

    return app
