"""`webview-toolkit registry …`: validate and list the app registry."""
from __future__ import annotations

import json
from pathlib import Path

import click

from ..registry import CATEGORIES, Registry, RegistryError, check_registry, load_registry


def invalid_registry(exc: RegistryError, directory: Path | None = None) -> click.ClickException:
    """The one-line error for an invalid registry, naming the command that lists every problem."""
    where = f" --registry {directory}" if directory is not None else ""
    return click.ClickException(f"registry is invalid: {exc} — run `webview-toolkit registry validate{where}`")


def registry_or_exit(directory: Path | None = None) -> Registry:
    """The validated registry, or a one-line error and exit 1."""
    try:
        return load_registry(directory)
    except RegistryError as exc:
        raise invalid_registry(exc, directory)


REGISTRY_OPTION = click.option("--registry", "registry_dir", type=click.Path(file_okay=False, path_type=Path),
                               help="Another registry directory (default: the packaged schemes/).")


@click.group()
def registry() -> None:
    """Validate and list the app registry in schemes/."""


@registry.command()
@REGISTRY_OPTION
def validate(registry_dir: Path | None) -> None:
    """Check every file in schemes/ (or --registry); print each problem on a line, exit 1 if any."""
    loaded, problems = check_registry(registry_dir)
    for line in problems:
        click.echo(line)
    if problems:
        raise SystemExit(1)
    click.echo(f"ok: {len(loaded.apps)} apps, {len(loaded.browsers)} browsers, "
               f"{len(loaded.codes.tables)} code tables")


@registry.command("list")
@click.option("--category", type=click.Choice(CATEGORIES), multiple=True, help="Only these categories (repeatable).")
@click.option("--platform", type=click.Choice(["android", "ios"]), help="Only apps that exist on this platform.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def list_apps(category: tuple[str, ...], platform: str | None, fmt: str) -> None:
    """List the registry's apps."""
    apps = registry_or_exit().select(category, platform)
    if fmt == "json":
        click.echo(json.dumps([app.as_dict() for app in apps], ensure_ascii=False, indent=2))
        return
    rows = [(a.id, a.category, a.android_package or "-", ",".join(a.ios_schemes) or "-", a.name_ko) for a in apps]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("id", "category", "android", "ios"))]
    header = ("id", "category", "android", "ios", "name")
    for row in [header] + rows:
        click.echo("  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip())
    click.echo(f"{len(apps)} apps")
