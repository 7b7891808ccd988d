"""Render each output kind from its one Jinja template; byte-stable for a given registry."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jinja2

from ..registry import App, Registry
from .tables import IOS_QUERY_LIMIT, android_scheme_packages, by_category, ios_app_store_ids, ios_query_schemes

# Values embedded in code as string literals: the registry lint admits only these characters,
# so no language needs escapes; anything else is refused rather than escaped differently per language.
_LITERAL_RE = re.compile(r"^[A-Za-z0-9_.+\-]+$")
# The shop's own options: a Java package name, a URL scheme (RFC 3986, lower-case so it matches
# the scheme Android and iOS hand back), and a user-agent product token such as "MyShopApp/1.0".
_PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.\-]*$")
_UA_TOKEN_RE = re.compile(r"^[A-Za-z0-9_.+\-/]+$")
DEFAULT_PACKAGE = "com.example.payment"
# Schemes the WebView loads itself or that belong to the system: never the shop's return scheme.
_RESERVED_SCHEMES = frozenset({"http", "https", "about", "data", "blob", "javascript", "file", "intent", "market"})


class GenerateError(Exception):
    """A registry value cannot be embedded in generated code; `value` is the offending text."""

    def __init__(self, message: str, *, value: str):
        self.value = value
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Options:
    """The shop's own values for the generated code; the defaults give the committed snippets."""

    package: str = DEFAULT_PACKAGE  # Android package / namespace of PaymentWebView.java / .kt
    app_scheme: str | None = None  # the shop app's own return scheme (the server's resultScheme)
    ua_token: str | None = None  # appended to the user agent (guide §6.2), e.g. "MyShopApp/1.0"

    def __post_init__(self) -> None:
        if not _PACKAGE_RE.match(self.package):
            raise GenerateError(f"--package {self.package!r} is not a Java package name like com.example.shop",
                                value=self.package)
        if self.app_scheme is not None and (not _SCHEME_RE.match(self.app_scheme)
                                            or self.app_scheme in _RESERVED_SCHEMES):
            raise GenerateError(f"--app-scheme {self.app_scheme!r} is not a lower-case custom URL scheme "
                                "like myshop", value=self.app_scheme)
        if self.ua_token is not None and not _UA_TOKEN_RE.match(self.ua_token):
            raise GenerateError(f"--ua-token {self.ua_token!r} may hold only letters, digits and _.+-/",
                                value=self.ua_token)

    def words(self) -> list[str]:
        """The command-line flags that give these options (none for the defaults)."""
        words = [] if self.package == DEFAULT_PACKAGE else ["--package", self.package]
        if self.app_scheme is not None:
            words += ["--app-scheme", self.app_scheme]
        if self.ua_token is not None:
            words += ["--ua-token", self.ua_token]
        return words


@dataclass(frozen=True, slots=True)
class Output:
    """One output kind: its `gen` subcommand, template, and path under `gen all --out`."""

    kind: str
    template: str
    path: str
    platform: str | None  # which apps it needs: "android", "ios", or None for both


OUTPUTS: tuple[Output, ...] = (
    Output("android-manifest", "AndroidManifest.xml.j2", "android_snippets/AndroidManifest.xml", "android"),
    Output("android-kotlin", "PaymentWebView.kt.j2", "android_snippets/PaymentWebView.kt", "android"),
    Output("android-java", "PaymentWebView.java.j2", "android_snippets/PaymentWebView.java", "android"),
    Output("ios-plist", "Info.plist.j2", "ios_snippets/Info.plist", "ios"),
    Output("ios-swift", "PaymentWebViewDelegate.swift.j2", "ios_snippets/PaymentWebViewDelegate.swift", "ios"),
    # Cross-platform code sits with the Android snippets: most of it is Android's intent: handling.
    Output("react-native", "PaymentWebView.tsx.j2", "android_snippets/react-native/PaymentWebView.tsx", None),
    Output("flutter", "payment_web_view.dart.j2", "android_snippets/flutter/payment_web_view.dart", None),
    Output("expo-plugin", "withPaymentWebView.js.j2", "android_snippets/react-native/withPaymentWebView.js", None),
)
KINDS: tuple[str, ...] = tuple(output.kind for output in OUTPUTS)


def _literal(value: str) -> str:
    if not _LITERAL_RE.match(value):
        raise GenerateError(f"cannot embed {value!r} in generated code", value=value)
    return value


def _comment(value: str) -> str:
    """Text safe inside any comment: one line, no comment terminators."""
    text = " ".join(str(value).split()).replace("*/", "* /")
    while "--" in text:  # XML comments may not contain "--"
        text = text.replace("--", "- -")
    return text


def _label(app: App) -> str:
    return _comment(f"{app.name_ko} ({app.id})")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("webview_toolkit.generate", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(literal=_literal, comment=_comment, label=_label)
    return env


def _output(kind: str) -> Output:
    for output in OUTPUTS:
        if output.kind == kind:
            return output
    raise ValueError(f"unknown output kind {kind!r}; known: {', '.join(KINDS)}")


def _command(kind: str, categories: tuple[str, ...], limit: int | None, options: Options) -> str:
    words = ["webview-toolkit", "gen", kind]
    for category in categories:
        words += ["--category", category]
    if kind == "ios-plist" and limit is None:
        words.append("--allow-over-50")
    return " ".join(words + options.words())


def _xml_command(kind: str, categories: tuple[str, ...], limit: int | None, options: Options) -> str:
    words = f"`webview-toolkit gen {kind}`"
    if categories:
        words += f" for categories {', '.join(categories)}"
    if kind == "ios-plist" and limit is None:
        words += " allowing over 50 schemes"
    flags = options.words()
    if flags:
        words += " with " + ", ".join(f"{flag[2:]} {value}" for flag, value in zip(flags[::2], flags[1::2]))
    return words


def render(kind: str, registry: Registry, categories: tuple[str, ...] = (),
           limit: int | None = IOS_QUERY_LIMIT, options: Options = Options()) -> str:
    """The text of one output kind for the registry's apps in these categories (all when empty)."""
    output = _output(kind)
    categories = tuple(categories)
    apps = registry.select(categories, output.platform)
    context: dict[str, Any] = {
        "command": _command(kind, categories, limit, options),
        # XML comments may not contain "--", so XML banners spell the options out.
        "xml_command": _xml_command(kind, categories, limit, options),
        "package": options.package,
        "app_scheme": options.app_scheme,
        "ua_token": options.ua_token,
        "android_packages": sorted({app.android_package for app in registry.select(categories, "android")}),
        "groups": by_category(apps),
        "scheme_packages": android_scheme_packages(apps),
        "app_store_ids": ios_app_store_ids(apps),
        "query_schemes": ios_query_schemes(apps, limit),
    }
    return _environment().get_template(output.template).render(context)


def render_manifest(registry: Registry, categories: tuple[str, ...] = ()) -> str:
    """AndroidManifest.xml with INTERNET and a `<queries>` package entry per app."""
    return render("android-manifest", registry, categories)


def render_plist(registry: Registry, categories: tuple[str, ...] = (), limit: int | None = IOS_QUERY_LIMIT) -> str:
    """Info.plist with LSApplicationQueriesSchemes: the `limit` most important schemes (None: all)."""
    return render("ios-plist", registry, categories, limit)


def render_all(registry: Registry, options: Options = Options()) -> dict[str, str]:
    """Every output for the full registry, keyed by its path under `gen all --out`."""
    return {output.path: render(output.kind, registry, options=options) for output in OUTPUTS}
