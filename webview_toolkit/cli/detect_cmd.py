"""`webview-toolkit detect`: classify user agents the way the checkout page does."""
from __future__ import annotations

import json
import sys

import click

from ..registry import RegistryError
from .registry_cmd import invalid_registry
from ..useragent import ClientContext, classify


def verdict(context: ClientContext) -> str:
    """One readable line for a classified user agent."""
    if context.bot:
        what = "bot (link preview or crawler)"
    elif context.own_app:
        what = f"the merchant's own app ({context.app or 'unrecognised WebView'})"
    elif context.in_app:
        what = f"in-app browser: {context.app or 'unknown app'}"
    else:
        what = f"browser: {context.app or 'unknown'}"
    device = "mobile" if context.mobile else "not mobile"
    scheme = f", app_scheme={context.app_scheme}" if context.app_scheme else ""
    return f"{context.platform}, {device}, {what}{scheme}"


@click.command()
@click.argument("user_agents", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per user agent, one per line.")
@click.option("--app-token", envvar="WEBVIEW_APP_UA_TOKEN", help="The merchant app's UA token (WEBVIEW_APP_UA_TOKEN).")
def detect(user_agents: tuple[str, ...], as_json: bool, app_token: str | None) -> None:
    """Classify user agents given as arguments, or read one per line from stdin."""
    lines = list(user_agents) or [line.rstrip("\r\n") for line in sys.stdin]
    try:
        for ua in (line for line in lines if line.strip()):
            context = classify(ua, app_token=app_token)
            click.echo(json.dumps(context.as_dict()) if as_json else verdict(context))
    except RegistryError as exc:
        raise invalid_registry(exc)
