"""`lab proxy serve`: the embedded Toxiproxy-compatible server as its own process.

It speaks Toxiproxy's HTTP API (default port 8474, like `toxiproxy-server`), so
`toxiproxy-cli`, toxiproxy-python or any other client can drive it. Serves until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from pathlib import Path

import click

from gaplab import runtime
from gaplab.netfault.api import TOXIPROXY_API_VERSION
from gaplab.netfault.server import ToxiproxyServer
from gaplab.netfault.toxics import ApiError


@click.group(name="proxy", help="Network faults: a Toxiproxy-compatible TCP proxy.")
def proxy_group() -> None:
    pass


@proxy_group.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="API address")
@click.option(
    "--port",
    default=8474,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="API port (0: free)",
)
@click.option(
    "--seed",
    default=1,
    show_default=True,
    type=int,
    help="seed for toxicity, jitter and slicer draws (Toxiproxy's -seed)",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False),
    help="a JSON array of proxies to create at start (Toxiproxy's -config)",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="a Host name the API accepts besides loopback ones and --host (repeatable)",
)
@click.option("--json", "as_json", is_flag=True, help="print the API address as one JSON line")
def serve(
    host: str,
    port: int,
    seed: int,
    config: str | None,
    allow_hosts: tuple[str, ...],
    as_json: bool,
) -> None:
    """Serve the Toxiproxy API and its proxies until Ctrl-C (or SIGTERM)."""
    server = ToxiproxyServer(host, port, seed, allowed_hosts=allow_hosts)
    runtime.run(_serve(server, config, as_json))


async def _serve(server: ToxiproxyServer, config: str | None, as_json: bool) -> None:
    await server.start()  # a busy port is a LabError: the main CLI exits with code 3
    try:
        if config is not None:
            try:
                body = json.loads(Path(config).read_text(encoding="utf-8"))  # noqa: ASYNC240
            except ValueError as exc:
                raise click.ClickException(f"{config}: not JSON: {exc}") from None
            try:
                _, error = await server.registry.populate(body)
            except ApiError as exc:
                error = exc
            if error is not None:
                raise click.ClickException(f"{config}: {error.message}")
        if as_json:
            click.echo(json.dumps({"api_url": server.url, "seed": server.registry.seed}))
        else:
            click.echo(f"Toxiproxy API {TOXIPROXY_API_VERSION} (gaplab) on {server.url}")
            for proxy in server.registry.proxies.values():
                click.echo(f"  proxy {proxy.name}: {proxy.listen} -> {proxy.upstream}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await server.stop()
