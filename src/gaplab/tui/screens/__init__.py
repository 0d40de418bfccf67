"""Screens of the TUI: the picker (home), the live run, and the scorecard."""
