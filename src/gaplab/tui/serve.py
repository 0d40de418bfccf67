"""`lab serve`: the TUI in a browser (textual-serve), so a room can follow on a projector
or on their own laptops. Each browser tab gets its own `lab` process; the server listens
on the loopback address unless told otherwise, since anyone who reaches it can start runs.
"""

from __future__ import annotations

import shlex
import sys
from ipaddress import ip_address

import click

LOOPBACK = "127.0.0.1"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def serve_command_line(args: tuple[str, ...]) -> str:
    """The command each browser session runs: this Python's `lab` with `args`."""
    return shlex.join([sys.executable, "-m", "gaplab", *args])


@click.command(name="serve", context_settings={"ignore_unknown_options": True})
@click.option("--host", default=LOOPBACK, show_default=True, help="address to listen on")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--public-url", help="the URL browsers use, when it differs (a proxy, another host name)"
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="listen on a non-loopback address (anyone who reaches it can start runs)",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def serve_command(
    host: str, port: int, public_url: str | None, allow_remote: bool, args: tuple[str, ...]
) -> None:
    """Serve the TUI in a browser: `lab serve` (the picker), `lab serve workshop` (the
    lessons), `lab serve run outage --tui` (one run)."""
    if not _is_loopback(host) and not allow_remote:
        raise click.UsageError(
            f"--host {host} is not a loopback address: add --allow-remote to serve it there"
        )
    from textual_serve.server import Server

    command = serve_command_line(args)
    click.echo(f"serving `{command}` on http://{host}:{port} (Ctrl-C stops it)")
    Server(command, host=host, port=port, title="gaplab", public_url=public_url).serve()
