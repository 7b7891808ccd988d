"""Generators: AndroidManifest `<queries>`, Info.plist and WebView code, from the registry.

Each output kind is one Jinja template in templates/ (the table OUTPUTS); `render(kind, registry)`
returns its text (`render_manifest` and `render_plist` for the two XML files), and
`render_all(registry)` maps every committed snippet path to its text. Nothing here prints: the CLI reports
`ios_query_schemes(...).left_out` itself.
"""
from __future__ import annotations

from .render import (
    DEFAULT_PACKAGE, KINDS, OUTPUTS, GenerateError, Options, Output, render, render_all, render_manifest,
    render_plist,
)
from .tables import IOS_QUERY_LIMIT, QueryScheme, SchemeCut, android_scheme_packages, ios_app_store_ids, ios_query_schemes

__all__ = [
    "DEFAULT_PACKAGE", "GenerateError", "IOS_QUERY_LIMIT", "KINDS", "OUTPUTS", "Options", "Output", "QueryScheme", "SchemeCut",
    "android_scheme_packages", "ios_app_store_ids", "ios_query_schemes", "render", "render_all", "render_manifest",
    "render_plist",
]
