"""The merchant service: `create_app()` wires settings, the store, KISPG and the blueprints."""
from __future__ import annotations

import os

from flask import Flask

from ..config import DEFAULTS, from_environment, resolve
from . import api, checkout, device, extensions, health, noti, results, returns


def create_app(test_config: dict | None = None) -> Flask:
    """The Flask app: defaults, then the environment, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment(os.environ))
    if test_config:
        app.config.update(test_config)
    resolve(app.config, app.instance_path)
    app.json.ensure_ascii = False
    extensions.init_app(app)
    for blueprint in (health.bp, api.bp, checkout.bp, returns.bp, results.bp, device.bp, noti.bp):
        app.register_blueprint(blueprint)
    if app.config["KISPG_ENV"] == "sandbox":
        from ..kispg.sandbox import create_sandbox_blueprint
        # The sandbox notifies this service's own receiver, over the session the client uses.
        public = (app.config.get("WEBVIEW_PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
        app.config.setdefault("KISPG_SANDBOX_NOTI_URL", public + "/kispg/noti")
        app.config.setdefault("KISPG_SANDBOX_SESSION_FACTORY", app.config.get("KISPG_SESSION_FACTORY"))
        app.register_blueprint(create_sandbox_blueprint(), url_prefix=checkout.SANDBOX_PREFIX)
    return app
