"""`webview-toolkit gen …`: print one generated snippet, or write / check them all."""
from __future__ import annotations

import difflib
from pathlib import Path

import click

from ..generate import (
    DEFAULT_PACKAGE, IOS_QUERY_LIMIT, KINDS, OUTPUTS, GenerateError, Options, ios_query_schemes, render, render_all,
)
from ..registry import CATEGORIES, Registry
from .registry_cmd import registry_or_exit

_registry_option = click.option(
    "--registry", "registry_dir", type=click.Path(file_okay=False, path_type=Path),
    help="Registry directory (default: the shipped schemes/).")


def _shop_options(command: click.Command) -> click.Command:
    """--package, --app-scheme and --ua-token: the shop's own values (defaults: the committed snippets)."""
    for option in reversed((
        click.option("--package", "package", default=DEFAULT_PACKAGE, show_default=True,
                     help="Android package / namespace of the Java and Kotlin code."),
        click.option("--app-scheme", default=None,
                     help="The shop app's own return scheme (the pay server's resultScheme), registered too."),
        click.option("--ua-token", default=None,
                     help="Appended to the user agent by default (guide §6.2), e.g. MyShopApp/1.0."),
    )):
        command = option(command)
    return command


def _options(package: str, app_scheme: str | None, ua_token: str | None) -> Options:
    try:
        return Options(package=package, app_scheme=app_scheme, ua_token=ua_token)
    except GenerateError as exc:
        raise click.ClickException(str(exc))


def default_out_dir() -> Path:
    """The checkout holding schemes/ and the committed snippet folders, else the current directory."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "schemes").is_dir() else Path.cwd()


def _report_ios_cut(registry: Registry, categories: tuple[str, ...], limit: int | None) -> None:
    cut = ios_query_schemes(registry.select(categories, "ios"), limit)
    for entry in cut.left_out:
        click.echo(f"ios-plist: left out {entry.scheme!r} ({entry.app.id}, {entry.app.category}, "
                   f"priority {entry.app.priority}): iOS reads only the first {limit} "
                   f"LSApplicationQueriesSchemes entries", err=True)
    if limit is None and len(cut.kept) > IOS_QUERY_LIMIT:
        click.echo(f"WARNING: --allow-over-50 wrote {len(cut.kept)} schemes; iOS IGNORES every entry past the "
                   f"{IOS_QUERY_LIMIT}th, so canOpenURL answers false for the last "
                   f"{len(cut.kept) - IOS_QUERY_LIMIT}", err=True)


@click.group()
def gen() -> None:
    """Generate AndroidManifest <queries>, Info.plist and WebView code from the registry."""


def _single(kind: str) -> click.Command:
    @click.option("--category", type=click.Choice(CATEGORIES), multiple=True,
                  help="Only apps in these categories (repeatable; default all).")
    @_registry_option
    @_shop_options
    def command(category: tuple[str, ...], registry_dir: Path | None, package: str, app_scheme: str | None,
                ua_token: str | None, allow_over_50: bool = False) -> None:
        options = _options(package, app_scheme, ua_token)
        registry = registry_or_exit(registry_dir)
        limit = None if allow_over_50 else IOS_QUERY_LIMIT
        try:
            text = render(kind, registry, category, limit, options)
        except GenerateError as exc:
            raise click.ClickException(str(exc))
        if kind == "ios-plist":
            _report_ios_cut(registry, category, limit)
        click.echo(text, nl=False)

    output = next(o for o in OUTPUTS if o.kind == kind)
    if kind == "ios-plist":
        command = click.option("--allow-over-50", is_flag=True,
                               help="Emit every scheme, past the 50 iOS reads (warns on stderr).")(command)
    command.__doc__ = f"Print {Path(output.path).name} for the registry's apps to stdout."
    return click.command(kind)(command)


for _kind in KINDS:
    gen.add_command(_single(_kind))


@gen.command("all")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write android_snippets/ and ios_snippets/ under this directory (default: the checkout).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each file that differs from the generator.")
@_registry_option
@_shop_options
def gen_all(out_dir: Path | None, check: bool, registry_dir: Path | None, package: str, app_scheme: str | None,
            ua_token: str | None) -> None:
    """Write every snippet for the full registry (or --check the committed ones)."""
    options = _options(package, app_scheme, ua_token)
    registry = registry_or_exit(registry_dir)
    out_dir = out_dir if out_dir is not None else default_out_dir()
    try:
        files = render_all(registry, options)
    except GenerateError as exc:
        raise click.ClickException(str(exc))
    if check:
        stale = [path for path, text in files.items() if _read(out_dir / path) != text]
        for path in stale:
            current = _read(out_dir / path)
            diff = difflib.unified_diff((current or "").splitlines(keepends=True), files[path].splitlines(keepends=True),
                                        f"committed/{path}", f"generated/{path}")
            click.echo("".join(diff), err=True, nl=False)
        if stale:
            raise click.ClickException(f"out of date: {', '.join(stale)} — run `webview-toolkit gen all`")
        click.echo(f"ok: {len(files)} files match the registry")
        return
    _report_ios_cut(registry, (), IOS_QUERY_LIMIT)
    for path, text in files.items():
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
        click.echo(f"wrote {path}")


def _read(path: Path) -> str | None:
    return path.read_bytes().decode("utf-8") if path.is_file() else None
