"""Workshop mode: lessons (one failure story each) as data files, and the runner that turns
a lesson into its two runs (naive, then hardened) and their comparison. No Textual here:
the TUI's lesson screens and `lab workshop --list` both use it."""
