"""The terminal UI (Textual): a thin front end over the same engine `lab run` uses.

Only this package imports Textual; `tests/unit/test_import_hygiene.py` proves the rest of
gaplab never loads it. Entry point: `gaplab.tui.app.run_app`.
"""
