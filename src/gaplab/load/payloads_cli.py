"""`lab payloads`: list the payload library, filtered by technique, OWASP id or input kind,
or show one payload in full, rendered with a sample canary and attacker URL."""

from __future__ import annotations

import random

import click

from gaplab.errors import InputError
from gaplab.load.inputs.attacks import fill
from gaplab.load.payloads import OWASP, TECHNIQUES, Payload, load_library


@click.command(name="payloads")
@click.option("--technique", "techniques", multiple=True, help="a technique or family (repeat)")
@click.option("--owasp", "owasp", multiple=True, help="an OWASP LLM id, e.g. LLM07 (repeat)")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["direct", "extraction", "document"]),
    help="inputs that may carry it (repeat)",
)
@click.option("--show", "show", metavar="ID", help="print one payload in full")
@click.option("--seed", default=1, show_default=True, help="seed of the sample canary and URL")
def payloads_command(
    techniques: tuple[str, ...],
    owasp: tuple[str, ...],
    kinds: tuple[str, ...],
    show: str | None,
    seed: int,
) -> None:
    """The prompt-injection payload library (docs/security.md)."""
    library = load_library()
    try:
        if show is not None:
            _show(library.get(show), seed)
            return
        chosen = library.select(techniques, owasp, kinds)
    except InputError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"payload library v{library.version}: {len(chosen)} of {len(library)} payloads")
    for payload in chosen:
        click.echo(
            f"{payload.id:16} {payload.technique:19} {','.join(payload.owasp):17} "
            f"{','.join(payload.kinds):26} {payload.preview(60)}"
        )


def _show(payload: Payload, seed: int) -> None:
    rendered, planted = fill(random.Random(seed), payload)
    technique = TECHNIQUES[payload.technique]
    click.echo(f"id:        {payload.id}")
    click.echo(f"technique: {payload.technique} ({technique.family}: {technique.title})")
    click.echo("owasp:     " + ", ".join(f"{o} {OWASP[o]}" for o in payload.owasp))
    click.echo(f"wants:     {', '.join(payload.wants)}")
    click.echo(f"kinds:     {', '.join(payload.kinds)}")
    click.echo(f"language:  {payload.language}")
    if payload.encoding != "none":
        click.echo(f"encoding:  {payload.encoding}")
        click.echo(f"encode:    {payload.encode}")
    click.echo(f"text:      {payload.text}")
    for value in planted:
        click.echo(f"sample {value.kind}: {value.value}")
    click.echo("rendered:")
    click.echo(rendered.encode("unicode_escape").decode() if _invisible(rendered) else rendered)


def _invisible(text: str) -> bool:
    """Rendered text with characters a terminal does not show (zero-width, tags)."""
    return any(0x200B <= ord(c) <= 0x206F or ord(c) >= 0xE0000 for c in text)
