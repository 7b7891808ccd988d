"""The `webview-toolkit` command line. Only this package prints or exits.

Each command group lives in its own module and is added here.
"""
from __future__ import annotations

import click

from .. import __version__
from .db_cmd import db
from .conformance_cmd import conformance
from .detect_cmd import detect
from .device_report_cmd import device_report
from .gen_cmd import gen
from .registry_cmd import registry
from .sandbox_cmd import sandbox
from .serve_cmd import reconcile, serve
from .webhooks_cmd import webhooks, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="webview-toolkit")
def main() -> None:
    """KISPG checkout in hybrid apps and Korean in-app browsers: registry, generators, service."""


main.add_command(registry)
main.add_command(sandbox)
main.add_command(gen)
main.add_command(serve)
main.add_command(reconcile)
main.add_command(detect)
main.add_command(db)
main.add_command(conformance)
main.add_command(device_report)
main.add_command(worker)
main.add_command(webhooks)
