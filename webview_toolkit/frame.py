"""The one HTML frame every page shares: templates/layout.html, styled by static/site.css.

The service's pages, the sandbox's and the conformance catcher's extend layout.html. Each app,
or blueprint, that shows them registers `frame_blueprint()` under its own mount point; it
serves the stylesheet at `<mount point>/frame/site.css`. The sandbox registers its own under
its prefix, so its pages are styled wherever it is mounted: in the service, under a shop's
`init_app(app, url_prefix)`, or as an app of its own. A stylesheet file keeps the pages'
Content-Security-Policy strict: no inline styles, so no 'unsafe-inline'.
"""
from __future__ import annotations

from flask import Blueprint

NAME = "webview_toolkit_frame"
STATIC_PATH = "/frame"
STYLESHEET = "site.css"


def frame_blueprint() -> Blueprint:
    """A blueprint with the frame's template and, under `/frame`, its stylesheet."""
    return Blueprint(NAME, __name__, template_folder="templates", static_folder="static",
                     static_url_path=STATIC_PATH)
