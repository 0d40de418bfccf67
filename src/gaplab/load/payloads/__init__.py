"""The lab's own prompt-injection payload library: a versioned data file (`library-v1.yaml`)
of attacks written by us, each tagged with its technique, OWASP LLM ids, what an obeying
model does and which inputs may carry it. docs/security.md describes the file."""

from gaplab.load.payloads.library import (
    BUNDLED,
    PayloadLibrary,
    expand_techniques,
    load_library,
    render,
)
from gaplab.load.payloads.model import FAMILIES, OWASP, TECHNIQUES, Payload

__all__ = [
    "BUNDLED",
    "FAMILIES",
    "OWASP",
    "TECHNIQUES",
    "Payload",
    "PayloadLibrary",
    "expand_techniques",
    "load_library",
    "render",
]
