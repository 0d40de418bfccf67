"""`lab provider serve`: run the mock provider as its own process for runs and for users'
own test suites. Prints the base URLs and the control URL, then serves until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal

import click

from gaplab import runtime
from gaplab.errors import InputError
from gaplab.exit_codes import ExitCode
from gaplab.provider import pacer_pool
from gaplab.provider.profiles import bundled_profile_names, load_profile
from gaplab.provider.server import MockProvider


class _LabFailure(click.ClickException):
    exit_code = ExitCode.LAB_ERROR


@click.group(name="provider", help="The mock LLM provider (OpenAI and Anthropic wire formats).")
def provider_group() -> None:
    pass


@provider_group.command(name="serve")
@click.option(
    "--profile",
    default="openai",
    show_default=True,
    help="a bundled profile name or a path to a profile YAML file",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="0 picks a free port",
)
@click.option("--seed", default=1, show_default=True, type=int, help="run seed for answers")
@click.option(
    "--stream-workers",
    default="auto",
    show_default=True,
    help="processes that write streamed chunks on schedule: a number (0: all in this "
    "process) or auto (two per core, up to 8, on machines with 2 or more cores)",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="a Host name the control API accepts besides loopback ones and --host (repeatable)",
)
@click.option("--json", "as_json", is_flag=True, help="print the addresses as one JSON line")
def serve(
    profile: str,
    host: str,
    port: int,
    seed: int,
    stream_workers: str,
    allow_hosts: tuple[str, ...],
    as_json: bool,
) -> None:
    """Serve the mock provider until Ctrl-C (or SIGTERM)."""
    try:
        loaded = load_profile(profile)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--profile") from None
    workers = _stream_workers(stream_workers)
    runtime.raise_open_file_limit()
    provider = MockProvider(
        loaded,
        seed=seed,
        host=host,
        port=port,
        stream_workers=workers,
        allowed_hosts=allow_hosts,
    )
    runtime.run(_serve(provider, as_json))


def _stream_workers(value: str) -> int:
    if value.strip().lower() == "auto":
        return pacer_pool.auto_workers()
    try:
        workers = int(value)
    except ValueError:
        workers = -1
    if workers < 0:
        raise click.BadParameter(
            f"{value!r} is not a number of workers (0, 1, 2, ...) or 'auto'",
            param_hint="--stream-workers",
        )
    if workers and not pacer_pool.available():
        raise click.BadParameter(
            "stream workers need Unix sockets, not available on this system; use 0",
            param_hint="--stream-workers",
        )
    return workers


async def _serve(provider: MockProvider, as_json: bool) -> None:
    try:
        await provider.start()
    except OSError as exc:
        raise _LabFailure(f"cannot listen on {provider.host}: {exc}") from None
    except RuntimeError as exc:  # a stream worker that would not start
        raise _LabFailure(str(exc)) from None
    runtime.freeze_startup_objects()
    addresses = {
        "openai_base_url": provider.openai_base_url,
        "anthropic_base_url": provider.anthropic_base_url,
        "control_url": provider.control_url,
        "profile": provider.profile.name,
        "port": provider.port,
        "stream_workers": provider.stream_workers,
    }
    if as_json:
        click.echo(json.dumps(addresses))
    else:
        for key, value in addresses.items():
            click.echo(f"{key}: {value}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await provider.stop()


@provider_group.command(name="profiles")
def profiles() -> None:
    """List the bundled provider profiles."""
    for name in bundled_profile_names():
        click.echo(name)
