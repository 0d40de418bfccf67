"""`lab demo serve naive|hardened --port N ...` and `python -m gaplab.demo ...`.

Both run the same click command. The demos talk to whatever `OPENAI_BASE_URL` (or
`--provider-url`) names, normally the lab's mock provider; without either they refuse to
start rather than reach the real OpenAI by accident. The hardened demo's numeric flags are
the ones in `options.NUMBER_OPTIONS`, so the spec string and the command line never drift.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click

from gaplab.demo.options import DEFENCES, DEMO_NAMES, NUMBER_OPTIONS, hardened_config
from gaplab.errors import InputError


@click.group(name="demo", help="Run the bundled demo targets (for workshops and tests).")
def demo_group() -> None:
    pass


def _number_flags(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(NUMBER_OPTIONS):
        metavar = "DURATION" if option.kind == "duration" else "N"
        command = click.option(
            option.flag, option.spec, metavar=metavar, help=f"hardened only: {option.help}"
        )(command)
    return command


@click.command(name="serve")
@click.argument("name", type=click.Choice(DEMO_NAMES))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="0 picks a free port (printed on stdout).",
)
@click.option(
    "--provider-url",
    metavar="URL",
    help="OpenAI-compatible base URL ending in /v1 (default: $OPENAI_BASE_URL).",
)
@click.option(
    "--without",
    "without",
    multiple=True,
    metavar="DEFENCES",
    help="hardened only: defences to switch off, comma-separated: " + ", ".join(DEFENCES),
)
@_number_flags
def serve_command(
    name: str,
    host: str,
    port: int,
    provider_url: str | None,
    without: tuple[str, ...],
    **numbers: str | None,
) -> None:
    """Serve demo NAME (naive or hardened) until SIGTERM or Ctrl-C."""
    options = {key: value for key, value in numbers.items() if value}
    if without:
        options["without"] = ",".join(without)
    if provider_url:
        os.environ["OPENAI_BASE_URL"] = provider_url
    if not os.environ.get("OPENAI_BASE_URL"):
        raise click.UsageError(
            "no provider: set OPENAI_BASE_URL (e.g. http://127.0.0.1:PORT/v1 from "
            "`lab provider serve`) or pass --provider-url"
        )
    os.environ.setdefault("OPENAI_API_KEY", "lab-key")
    try:
        if name == "naive":
            if options:
                raise InputError("demo naive takes no defence options (they are for hardened)")
            from gaplab.demo.naive import create_naive_app

            app = create_naive_app()
        else:
            from gaplab.demo.hardened import create_hardened_app

            config = hardened_config(options)
            click.echo(f"demo:hardened: {config.describe()}", err=True)
            app = create_hardened_app(config)
    except InputError as exc:
        raise click.UsageError(str(exc)) from None

    from gaplab.demo.server import serve

    raise SystemExit(serve(app, host=host, port=port))


demo_group.add_command(serve_command)
