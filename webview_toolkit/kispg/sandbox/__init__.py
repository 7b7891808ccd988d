"""A faithful KISPG simulator as a Flask blueprint: the pay window and the three JSON endpoints.

Mount it with `app.register_blueprint(create_sandbox_blueprint(), url_prefix="/sandbox/kispg")`;
`create_sandbox_app()` serves it at the root for `webview-toolkit sandbox`. It knows one
merchant, from the config keys KISPG_MID and KISPG_MERCHANT_KEY (generated when absent).
"""
from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any, Mapping

import requests
from flask import Blueprint, Flask
from flask.blueprints import BlueprintSetupState
from jinja2 import StrictUndefined

from ... import csp, guards
from ...frame import frame_blueprint
from ...registry import Registry
from . import admin, api, vacnt, window
from .delays import CONFIG_KEY as DELAY_KEY, parse_delays
from .notify import Notifier
from .state import EXTENSION, SandboxState

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def generate_merchant() -> tuple[str, str]:
    """A fresh sandbox merchant: a 10-character MID and an 88-character key like KISPG's."""
    return f"sbx{secrets.randbelow(10**6):06d}m", base64.b64encode(secrets.token_bytes(64)).decode("ascii")


def init_sandbox(app: Flask, registry: Registry | None = None) -> SandboxState:
    """Give the app a sandbox state (once) and a merchant when its config has none."""
    if not (app.config.get("KISPG_MID") and app.config.get("KISPG_MERCHANT_KEY")):
        app.config["KISPG_MID"], app.config["KISPG_MERCHANT_KEY"] = generate_merchant()
    # KISPG_SANDBOX_DELAY ("payment=3"): read once here, so a bad one stops the start, not a payment.
    app.config[DELAY_KEY] = parse_delays(app.config.get(DELAY_KEY))
    if EXTENSION not in app.extensions:
        sandbox = SandboxState(registry_override=registry)
        if app.config.get("KISPG_SANDBOX_CLOCK"):
            sandbox.clock = app.config["KISPG_SANDBOX_CLOCK"]
        # Where deposits are notified: KISPG_SANDBOX_NOTI_URL, over KISPG_SANDBOX_SESSION_FACTORY's
        # session (tests route it in-process), resent by a timer unless KISPG_SANDBOX_AUTO_RESEND is off.
        sandbox.noti_url = app.config.get("KISPG_SANDBOX_NOTI_URL")
        factory = app.config.get("KISPG_SANDBOX_SESSION_FACTORY")
        sessions = (lambda: factory(app)) if factory else requests.Session
        sandbox.notifier = Notifier(clock=sandbox.now, session_factory=sessions,
                                    auto_resend=app.config.get("KISPG_SANDBOX_AUTO_RESEND", True))
        app.extensions[EXTENSION] = sandbox
    return app.extensions[EXTENSION]


def create_sandbox_blueprint(registry: Registry | None = None) -> Blueprint:
    """The sandbox blueprint; registry overrides load_registry() (tests pass a small one)."""
    bp = Blueprint("kispg_sandbox", __name__, template_folder=str(TEMPLATES))
    # The pages' frame and stylesheet (frame.py), served under the sandbox's own prefix wherever it is mounted.
    bp.register_blueprint(frame_blueprint())
    bp.add_url_rule("/v2/auth", view_func=window.auth, methods=["POST"])
    bp.add_url_rule("/v2/auth/choose", view_func=window.choose, methods=["POST"])
    bp.add_url_rule("/v2/auth/finish", view_func=window.finish, methods=["POST"])
    bp.add_url_rule("/v2/payment", view_func=api.payment, methods=["POST"])
    bp.add_url_rule("/v2/cancel", view_func=api.cancel, methods=["POST"])
    bp.add_url_rule("/v2/order", view_func=api.order, methods=["POST"])
    bp.add_url_rule("/firewall.html", view_func=api.firewall_notice, methods=["GET"])
    bp.add_url_rule("/_calls", view_func=admin.calls, methods=["GET"])
    bp.add_url_rule("/_deposit", view_func=vacnt.deposit, methods=["POST"])
    bp.add_url_rule("/_vacnt/<tid>", view_func=vacnt.account_page, methods=["GET"])
    bp.add_url_rule("/_vacnt/<tid>/deadline", view_func=vacnt.move_deadline, methods=["POST"])
    bp.add_url_rule("/_notices", view_func=vacnt.notices, methods=["GET"])
    bp.add_url_rule("/_notices/deliver", view_func=vacnt.deliver_notices, methods=["POST"])
    bp.add_url_rule("/_faults", view_func=admin.list_faults, methods=["GET"])
    bp.add_url_rule("/_faults", view_func=admin.add_fault, methods=["POST"])
    bp.add_url_rule("/_faults", view_func=admin.clear_faults, methods=["DELETE"])
    # Every `/_…` route (calls, faults, deposits, and any added later) is for this machine or the admin.
    bp.before_request(admin.guard_admin_routes)
    # The pay window may be framed by the service it is mounted on (the desktop checkout's overlay).
    bp.before_request(lambda: csp.relax("frame-ancestors", "'self'"))

    def setup(state: BlueprintSetupState) -> None:
        init_sandbox(state.app, registry)
        # Its templates put this response's nonce on their scripts, whatever app mounts them.
        state.app.jinja_env.globals.setdefault("csp_nonce", csp.nonce)

    bp.record_once(setup)
    return bp


def create_sandbox_app(config: Mapping[str, Any] | None = None, registry: Registry | None = None) -> Flask:
    """A standalone app serving the sandbox at the root."""
    app = Flask(__name__)
    app.jinja_env.undefined = StrictUndefined
    app.config.update(config or {})
    guards.install_limits(app, app.config.get("WEBVIEW_MAX_CONTENT_LENGTH", guards.DEFAULT_MAX_CONTENT_LENGTH))
    csp.install(app)
    app.register_blueprint(create_sandbox_blueprint(registry))
    return app


__all__ = ["create_sandbox_app", "create_sandbox_blueprint", "generate_merchant", "init_sandbox"]
