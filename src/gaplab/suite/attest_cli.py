"""`lab attest init [FILE]`: write a commented attestation template listing every attested
item with its question, and `lab attest check FILE`: validate one (file:line errors).

The template is valid as written (every answer is commented out, so every item is
`not_run` until someone answers it); uncommenting an item's block and filling it in is the
whole job. The file format is gaplab.scenario.attest_models.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from gaplab.checks.attested import ATTESTED_CHECKS
from gaplab.scenario.attest_models import DEFAULT_MAX_AGE_DAYS

DEFAULT_FILE = Path("readiness.attest.yaml")
AREAS = ("observability", "cost", "governance", "testing")


def attestation_template(today: datetime.date | None = None) -> str:
    """The template's text: a header, then per area each item's title, why and question,
    with an answer block to uncomment."""
    day = (today or datetime.date.today()).isoformat()
    lines = [
        "# Readiness attestation: a person's answers to the items no run can measure.",
        "# `lab run readiness --attest THIS_FILE` scores them in their own (attested) column.",
        "# For each item: uncomment its block, answer yes | no | partial, say who answers for",
        "# it, when it was last confirmed, and give a link to the evidence or a note.",
        "# `no` fails, `partial` warns, an answer older than max_age warns, and an item left",
        "# commented out is not_run. Check the file with `lab attest check THIS_FILE`.",
        "version: 1",
        f"max_age: {DEFAULT_MAX_AGE_DAYS}d  # older answers are `warn` (e.g. 90d, 26w, 1y)",
        "items:",
    ]
    by_area = {area: [c for c in ATTESTED_CHECKS if c.area == area] for area in AREAS}
    for area, checks in by_area.items():
        if not checks:
            continue
        lines += ["", f"  # --- {area} " + "-" * (70 - len(area))]
        for check in checks:
            lines += [
                "",
                f"  # {check.id}: {check.title}.",
                f"  # Q: {check.question}",
                f"  # {check.id}:",
                "  #   answer: yes          # yes | no | partial",
                "  #   who: Name (role)",
                f"  #   when: {day}",
                "  #   link: https://...    # or note: what the evidence is",
            ]
    return "\n".join(lines) + "\n"


@click.group("attest")
def attest_group() -> None:
    """The attestation file: answers to the attested readiness items."""


@attest_group.command("init")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--force", is_flag=True, help="overwrite FILE if it exists")
def init_command(file: Path | None, force: bool) -> None:
    """Write a commented template to FILE (default readiness.attest.yaml)."""
    from gaplab.errors import InputError

    path = file or DEFAULT_FILE
    if path.exists() and not force:
        raise InputError(f"{path}: already exists (use --force to overwrite it)")
    if not path.parent.is_dir():
        raise InputError(f"{path}: folder {path.parent} does not exist")
    path.write_text(attestation_template())
    click.echo(f"wrote {path}: {len(ATTESTED_CHECKS)} attested items to answer")


@attest_group.command("check")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def check_command(file: Path) -> None:
    """Validate FILE and print each item's verdict as the suite would score it."""
    from gaplab.checks.attested.answers import attested_results, load_attestation

    attestation = load_attestation(file)
    for result in attested_results(attestation, source=str(file)):
        click.echo(f"{result.verdict.value:<8} {result.id:<32} {result.summary}")
