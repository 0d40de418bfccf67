"""Widgets of the live run screen; each has `show(snapshot)`, called once per UI tick."""
