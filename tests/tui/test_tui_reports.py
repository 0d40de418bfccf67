"""`lab run --tui --markdown F --html F`: the TUI's finish path writes the same report files
as a headless run, from the same report document (a real ~2 s run)."""

from __future__ import annotations

from pathlib import Path

from gaplab.report.html import render_html
from gaplab.report.markdown import render_markdown
from gaplab.tui.app import GaplabApp
from gaplab.tui.catalog import Catalog

from .conftest import SIZE, wait_for


async def test_markdown_and_html_are_written_after_a_tui_run(
    catalog: Catalog, tmp_path: Path
) -> None:
    run = catalog.build_run("blip")
    markdown_path, html_path = tmp_path / "out" / "r.md", tmp_path / "out" / "r.html"
    app = GaplabApp(run=run, markdown_path=markdown_path, html_path=html_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.finished is not None, "the run to finish")
        await pilot.press("q")
    assert app.finished is not None and app.finished.problem is None
    report = app.finished.report
    assert markdown_path.read_text(encoding="utf-8") == render_markdown([report])
    assert html_path.read_text(encoding="utf-8") == render_html([report])
    assert "NOT READY" in markdown_path.read_text(encoding="utf-8")
