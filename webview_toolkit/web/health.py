"""`GET /healthz`: the service answers and its database does."""
from __future__ import annotations

from flask import Blueprint, current_app

from .extensions import store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 with the environment when the database answers."""
    store().ping()
    return {"status": "ok", "kispgEnv": current_app.config["KISPG_ENV"]}
