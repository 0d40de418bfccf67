"""What the TUI remembers between sessions: the theme and the last choice in the picker.

A small JSON file in the user's state folder (platformdirs; `GAPLAB_STATE_DIR` overrides
it, which the tests use). Reading never fails: a missing or broken file is an empty state;
writing failures are reported to the caller, which shows them and goes on.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "tui.json"


def state_dir() -> Path:
    override = os.environ.get("GAPLAB_STATE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_state_path

    return user_state_path("gaplab", appauthor=False)


@dataclass
class LastChoice:
    scenario: str = ""
    target: str = ""
    seed: int | None = None
    without: list[str] = field(default_factory=list)  # defences removed from demo:hardened
    file: str = ""  # a local scenario or target file


@dataclass
class TuiState:
    theme: str = ""
    last: LastChoice = field(default_factory=LastChoice)

    @classmethod
    def load(cls, folder: Path | None = None) -> TuiState:
        path = (folder or state_dir()) / STATE_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        return cls.from_dict(data) if isinstance(data, dict) else cls()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TuiState:
        last = data.get("last") if isinstance(data.get("last"), dict) else {}
        assert isinstance(last, dict)
        seed = last.get("seed")
        without = last.get("without")
        return cls(
            theme=str(data.get("theme") or ""),
            last=LastChoice(
                scenario=str(last.get("scenario") or ""),
                target=str(last.get("target") or ""),
                seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                without=[str(w) for w in without] if isinstance(without, list) else [],
                file=str(last.get("file") or ""),
            ),
        )

    def save(self, folder: Path | None = None) -> Path:
        """Write the state; raises OSError when the folder cannot be written."""
        folder = folder or state_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        return path
