"""The payload library: loading the versioned data file, choosing payloads, rendering them.

`load_library()` reads the bundled `library-v1.yaml` once per process (errors name the
file, line and field, as for scenario files); `select` filters by technique (or family),
OWASP id, input kind and document goal; `render` fills one payload with a canary and an
attacker URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gaplab.errors import InputError
from gaplab.load.payloads.encodings import encode, fill
from gaplab.load.payloads.model import FAMILIES, OWASP, TECHNIQUES, LibraryFile, Payload
from gaplab.scenario.loader import load_model

BUNDLED = Path(__file__).with_name("library-v1.yaml")


@dataclass(frozen=True)
class PayloadLibrary:
    version: str
    payloads: tuple[Payload, ...]
    path: Path

    def __len__(self) -> int:
        return len(self.payloads)

    def get(self, payload_id: str) -> Payload:
        for payload in self.payloads:
            if payload.id == payload_id:
                return payload
        raise InputError(f"no payload {payload_id!r} in the payload library v{self.version}")

    def select(
        self,
        techniques: Iterable[str] = (),
        owasp: Iterable[str] = (),
        kinds: Iterable[str] = (),
        goal: str | None = None,
    ) -> tuple[Payload, ...]:
        """Payloads matching every filter given (each filter: any of its values).
        A technique filter also takes family names (`obfuscation` = every encoding and
        translation). Unknown names are an `InputError` listing the known ones."""
        wanted_techniques = expand_techniques(techniques)
        wanted_owasp = set(owasp)
        unknown = sorted(wanted_owasp - set(OWASP))
        if unknown:
            raise InputError(f"unknown OWASP id(s) {', '.join(unknown)}; known: {', '.join(OWASP)}")
        wanted_kinds = set(kinds)
        return tuple(
            payload
            for payload in self.payloads
            if (not wanted_techniques or payload.technique in wanted_techniques)
            and (not wanted_owasp or wanted_owasp & set(payload.owasp))
            and (not wanted_kinds or wanted_kinds & set(payload.kinds))
            and (goal is None or payload.goal == goal)
        )


def expand_techniques(names: Iterable[str]) -> set[str]:
    """Technique names, with family names expanded to their techniques."""
    found: set[str] = set()
    for name in names:
        if name in TECHNIQUES:
            found.add(name)
        elif name in FAMILIES:
            found |= {t for t, info in TECHNIQUES.items() if info.family == name}
        else:
            known = ", ".join([*TECHNIQUES, *FAMILIES])
            raise InputError(f"unknown payload technique {name!r}; known: {known}")
    return found


def load_library(path: Path | None = None) -> PayloadLibrary:
    """The library at `path` (default: the bundled one, read once per process)."""
    if path is None:
        return _bundled()
    return _read(path)


@lru_cache(maxsize=1)
def _bundled() -> PayloadLibrary:
    return _read(BUNDLED)


def _read(path: Path) -> PayloadLibrary:
    data = load_model(path, LibraryFile)
    return PayloadLibrary(data.version, data.payloads, path)


def render(payload: Payload, canary: str, url: str) -> str:
    """The payload's text with `canary` and `url` in place, its `encode` part obfuscated."""
    text = fill(payload.text, canary, url)
    if payload.encoding != "none":
        text = text.replace("{encoded}", encode(payload.encoding, payload.encode, canary, url))
    return text.strip()
