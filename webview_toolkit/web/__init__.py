"""The merchant service: `create_app()` builds it; `init_app(app, url_prefix=…)` mounts it into an existing app."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Blueprint, Flask

from ..config import DEFAULTS, from_environment, resolve
from . import api, checkout, device, extensions, health, results, returns

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """The Flask app: defaults, then the environment, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment(os.environ))
    if test_config:
        app.config.update(test_config)
    app.json.ensure_ascii = False
    init_app(app)
    return app


def init_app(app: Flask, url_prefix: str = "") -> None:
    """Mount the service's blueprints and services on `app` under `url_prefix` ("/pay"), with its config.

    Settings the app's config lacks come from the environment, then the defaults; its own routes,
    SECRET_KEY and error pages outside the prefix are left alone.
    """
    prefix = url_prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"url_prefix must start with '/', got {url_prefix!r}")
    for key, value in {**DEFAULTS, **from_environment(os.environ)}.items():
        app.config.setdefault(key, value)
    app.config["WEBVIEW_URL_PREFIX"] = prefix
    resolve(app.config, app.instance_path)
    extensions.init_app(app)
    # A host app has its own templates and static files: ours come with a blueprint of their own.
    own = Path(app.root_path).resolve() == HERE
    app.register_blueprint(Blueprint("webview_toolkit_assets", __name__, template_folder="templates",
                                     static_folder=None if own else "static", static_url_path="/static"),
                           url_prefix=prefix or None)
    app.jinja_env.globals["webview_static_path"] = prefix + "/static"
    for blueprint in (health.bp, checkout.bp, returns.bp, results.bp, device.bp):
        app.register_blueprint(blueprint, url_prefix=prefix or None)
    app.register_blueprint(api.bp, url_prefix=prefix + api.PREFIX)
    api.init_errors(app, prefix + api.PREFIX)
    if app.config["KISPG_ENV"] == "sandbox":
        from ..kispg.sandbox import create_sandbox_blueprint
        app.register_blueprint(create_sandbox_blueprint(), url_prefix=prefix + checkout.SANDBOX_PREFIX)
