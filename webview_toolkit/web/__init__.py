"""The merchant service: `create_app()` wires settings, the store, KISPG and the blueprints."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from flask import Flask
from jinja2 import StrictUndefined

from .. import csp, guards
from ..config import DEFAULTS, from_environment, instance_path, resolve
from ..kispg.client import base_url_for
from . import api, checkout, device, device_reports, edge, errors, escape_offer, extensions, health, results, returns


def create_app(test_config: dict | None = None) -> Flask:
    """The Flask app: defaults, then the environment, then `test_config`."""
    test_config = test_config or {}
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path(os.environ, test_config.get("WEBVIEW_INSTANCE_PATH")))
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment(os.environ))
    app.config.update(test_config)
    resolve(app.config, app.instance_path)
    app.jinja_env.undefined = StrictUndefined
    edge.init_app(app)
    guards.install_limits(app, app.config["WEBVIEW_MAX_CONTENT_LENGTH"])
    app.json.ensure_ascii = False
    escape_offer.init_app(app)
    csp.install(app, form_origins=kispg_origins(app.config), frame_origins=frame_origins(app.config))
    errors.init_app(app)
    extensions.init_app(app)
    for blueprint in (health.bp, api.bp, checkout.bp, returns.bp, results.bp, device.bp, device_reports.bp):
        app.register_blueprint(blueprint)
    if app.config["KISPG_ENV"] == "sandbox":
        from ..kispg.sandbox import create_sandbox_blueprint
        app.register_blueprint(create_sandbox_blueprint(), url_prefix=checkout.SANDBOX_PREFIX)
    return app


def kispg_origins(config) -> tuple[str, ...]:
    """Where this service's pages may post forms besides itself: KISPG's hosts (none in the sandbox)."""
    if config["KISPG_ENV"] == "sandbox":
        return ()  # the auth form posts to this service's own sandbox
    base = urlsplit(base_url_for(config["KISPG_ENV"], config.get("KISPG_BASE_URL")))
    # KISPG's auth host may hand the pay window to another of its hosts, and a form's redirects
    # are held to form-action too. Our own choice: the whole kispg.co.kr family, nothing else.
    return tuple(dict.fromkeys([f"{base.scheme}://{base.netloc}", "https://*.kispg.co.kr"]))


def frame_origins(config) -> tuple[str, ...]:
    """What the checkout page may frame: KISPG's pay window, and in the sandbox this service's own."""
    return (("'self'",) if config["KISPG_ENV"] == "sandbox" else ()) + kispg_origins(config)
