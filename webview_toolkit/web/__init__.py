"""The merchant service: `create_app()` builds it; `init_app(app, url_prefix=…)` mounts it into an existing app."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask
from jinja2 import StrictUndefined

from .. import csp, guards
from ..config import DEFAULTS, from_environment, instance_path, resolve
from ..frame import STATIC_PATH, STYLESHEET, frame_blueprint
from ..kispg.client import base_url_for
from . import (api, checkout, device, device_reports, edge, errors, escape_offer, extensions, health, noti,
               results, returns)

HERE = Path(__file__).resolve().parent


def create_app(test_config: dict | None = None) -> Flask:
    """The Flask app: defaults, then the environment, then `test_config`."""
    test_config = test_config or {}
    app = Flask(__name__, instance_relative_config=True,
                instance_path=instance_path(os.environ, test_config.get("WEBVIEW_INSTANCE_PATH")))
    app.config.from_mapping(DEFAULTS)
    app.config.update(from_environment(os.environ))
    app.config.update(test_config)
    # App-wide rules of our own app; a host app that mounts the service keeps its own (init_app).
    app.jinja_env.undefined = StrictUndefined
    app.json.ensure_ascii = False
    init_app(app)
    # After init_app: these Korean pages (and the API's JSON) answer every error of our own app.
    errors.init_app(app)
    guards.install_limits(app, app.config["WEBVIEW_MAX_CONTENT_LENGTH"])
    return app


def init_app(app: Flask, url_prefix: str = "") -> None:
    """Mount the service's blueprints and services on `app` under `url_prefix` ("/pay"), with its config.

    Settings the app's config lacks come from the environment, then the defaults; its own routes,
    SECRET_KEY, error pages and body limit outside the prefix are left alone, and the page
    security headers go only on the service's own pages.
    """
    prefix = url_prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"url_prefix must start with '/', got {url_prefix!r}")
    for key, value in {**DEFAULTS, **from_environment(os.environ)}.items():
        app.config.setdefault(key, value)
    app.config["WEBVIEW_URL_PREFIX"] = prefix
    resolve(app.config, app.instance_path)
    edge.init_app(app)
    escape_offer.init_app(app)
    csp.install(app, form_origins=kispg_origins(app.config), frame_origins=frame_origins(app.config),
                only_under=prefix)
    extensions.init_app(app)
    # A host app has its own templates and static files: ours come with a blueprint of their own.
    own = Path(app.root_path).resolve() == HERE
    app.register_blueprint(Blueprint("webview_toolkit_assets", __name__, template_folder="templates",
                                     static_folder=None if own else "static", static_url_path="/static"),
                           url_prefix=prefix or None)
    app.jinja_env.globals["webview_static_path"] = prefix + "/static"
    # The frame all pages share (frame.py) and its stylesheet, under the service's own mount point.
    app.register_blueprint(frame_blueprint(), url_prefix=prefix or None)
    app.jinja_env.globals["webview_stylesheet_path"] = prefix + STATIC_PATH + "/" + STYLESHEET
    for blueprint in (health.bp, checkout.bp, returns.bp, results.bp, device.bp, device_reports.bp, noti.bp):
        app.register_blueprint(blueprint, url_prefix=prefix or None)
    app.register_blueprint(api.bp, url_prefix=prefix + api.PREFIX)
    api.init_errors(app, prefix + api.PREFIX)
    if app.config["KISPG_ENV"] == "sandbox":
        from ..kispg.sandbox import create_sandbox_blueprint
        # The sandbox notifies this service's own receiver, in-process like the client's calls to it.
        app.config.setdefault("KISPG_SANDBOX_NOTI_URL", extensions.SANDBOX_INTERNAL + prefix + "/kispg/noti")
        factory = app.config.get("KISPG_SESSION_FACTORY")
        app.config.setdefault("KISPG_SANDBOX_SESSION_FACTORY",
                              lambda app: extensions.sandbox_session(app, factory(app) if factory else None))
        app.register_blueprint(create_sandbox_blueprint(), url_prefix=prefix + checkout.SANDBOX_PREFIX)


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
