"""`lab workshop`: the lesson list in the TUI; `--list` prints the lessons as plain text;
`--lessons DIR` uses a presenter's own folder of lesson files."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(name="workshop")
@click.option("--list", "list_only", is_flag=True, help="print the lessons and exit")
@click.option(
    "--lessons",
    "folder",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="a folder of lesson files (default: the bundled lessons)",
)
@click.option(
    "--runs-dir",
    type=click.Path(path_type=Path),
    default=Path("runs"),
    show_default=True,
    help="where the lessons' runs go",
)
def workshop_command(list_only: bool, folder: Path | None, runs_dir: Path) -> None:
    """The workshop: one lesson per failure story, run on demo:naive then demo:hardened."""
    from gaplab.workshop.library import load_lessons
    from gaplab.workshop.runner import list_text

    lessons = load_lessons(folder)
    if list_only:
        click.echo(list_text(lessons, folder))
        return
    from gaplab.output_paths import check_runs_dir
    from gaplab.tui.app import run_app
    from gaplab.tui.catalog import default_catalog

    check_runs_dir(runs_dir)
    sys.exit(run_app(catalog=default_catalog(runs_dir), workshop=lessons, workshop_folder=folder))
