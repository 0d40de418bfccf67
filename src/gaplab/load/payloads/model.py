"""The shape of the payload library file: strict models, the techniques and what each payload
wants when the model obeys it.

A payload is our own attack text with placeholders: `{canary}` (a fresh canary per request),
`{url}` (an attacker URL on a host outside any allow-list) and, for obfuscated payloads,
`{encoded}` (where the obfuscated `encode` text goes, see `gaplab.load.payloads.encodings`).
Its `wants` is the ground truth of what an obeying model does; the library tests check the
mock provider does exactly that for every payload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


@dataclass(frozen=True)
class Technique:
    family: str  # injection | obfuscation | indirect | exfiltration | output | extraction
    title: str


TECHNIQUES: dict[str, Technique] = {
    "override": Technique("injection", "direct override of the instructions"),
    "role_play": Technique("injection", "role play: a persona without rules"),
    "delimiter": Technique("injection", "delimiter and format tricks: fake system turns"),
    "translation": Technique("obfuscation", "the order in another language"),
    "base64": Technique("obfuscation", "the order encoded in base64"),
    "rot13": Technique("obfuscation", "the order in ROT13"),
    "leetspeak": Technique("obfuscation", "the order in leetspeak"),
    "zero_width": Technique("obfuscation", "zero-width characters inside the words"),
    "homoglyph": Technique("obfuscation", "Cyrillic look-alike letters"),
    "fullwidth": Technique("obfuscation", "full-width Unicode forms"),
    "unicode_tags": Technique("obfuscation", "invisible Unicode tag characters"),
    "reversed": Technique("obfuscation", "the order written backwards"),
    "hidden_in_document": Technique("indirect", "an instruction hidden in a pasted document"),
    "markdown_exfil": Technique("exfiltration", "markdown image link carrying data out"),
    "html_script": Technique("output", "active HTML or script in the answer"),
    "prompt_extraction": Technique("extraction", "asks for the system prompt"),
}
FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(t.family for t in TECHNIQUES.values()))

TechniqueName = Literal[
    "override",
    "role_play",
    "delimiter",
    "translation",
    "base64",
    "rot13",
    "leetspeak",
    "zero_width",
    "homoglyph",
    "fullwidth",
    "unicode_tags",
    "reversed",
    "hidden_in_document",
    "markdown_exfil",
    "html_script",
    "prompt_extraction",
]
Encoding = Literal[
    "none",
    "base64",
    "rot13",
    "leetspeak",
    "zero_width",
    "homoglyph",
    "fullwidth",
    "unicode_tags",
    "reversed",
]
Want = Literal["canary", "system_prompt", "exfil_link", "script"]
Kind = Literal["direct", "extraction", "document"]
# OWASP Top 10 for LLM applications, 2025 edition.
OWASP: dict[str, str] = {
    "LLM01": "Prompt Injection",
    "LLM02": "Sensitive Information Disclosure",
    "LLM03": "Supply Chain",
    "LLM04": "Data and Model Poisoning",
    "LLM05": "Improper Output Handling",
    "LLM06": "Excessive Agency",
    "LLM07": "System Prompt Leakage",
    "LLM08": "Vector and Embedding Weaknesses",
    "LLM09": "Misinformation",
    "LLM10": "Unbounded Consumption",
}
OwaspId = Literal[
    "LLM01", "LLM02", "LLM03", "LLM04", "LLM05", "LLM06", "LLM07", "LLM08", "LLM09", "LLM10"
]
Goal = Literal["injection", "extraction", "exfiltration"]  # DocumentsOptions.hidden
LANGUAGES = ("en", "fr", "de", "es", "it")

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_KNOWN_PLACEHOLDERS = {"canary", "url", "encoded"}
_ACTIVE_MARKUP = re.compile(r"<script\b|\bon[a-z]+\s*=|javascript:", re.IGNORECASE)


class Payload(BaseModel):
    """One attack of the library."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*-\d{3}$", description="stable id")
    technique: TechniqueName
    owasp: tuple[OwaspId, ...] = Field(min_length=1)
    wants: tuple[Want, ...] = Field(min_length=1, description="what an obeying model does")
    kinds: tuple[Kind, ...] = Field(min_length=1, description="which inputs may carry it")
    language: Literal["en", "fr", "de", "es", "it"] = "en"
    text: str = Field(min_length=3, description="the attack, with {canary} {url} {encoded}")
    encoding: Encoding = "none"
    encode: str = Field(default="", description="the part obfuscated by `encoding`")

    @field_validator("owasp", "wants", "kinds")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a value is listed twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Payload:
        everything = self.text + self.encode
        unknown = set(_PLACEHOLDER.findall(everything)) - _KNOWN_PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{canary}} {{url}}")
        if (self.encoding == "none") != (self.encode == ""):
            raise ValueError("`encode` (the obfuscated part) goes with an `encoding`, and back")
        if self.encode and "{encoded}" not in self.text:
            raise ValueError("an encoded payload puts {encoded} in its `text`")
        if self.technique in _ENCODING_TECHNIQUES and self.encoding != self.technique:
            raise ValueError(f"technique {self.technique} needs `encoding: {self.technique}`")
        if self.encoding == "unicode_tags" and not self.encode.isascii():
            raise ValueError("unicode_tags can only carry ASCII text")
        if ("canary" in self.wants) != ("{canary}" in everything):
            raise ValueError("a payload that wants a canary has {canary}, and back")
        if "exfil_link" in self.wants and "{url}" not in everything:
            raise ValueError("an exfil_link payload names the attacker's {url}")
        if ("script" in self.wants) != bool(_ACTIVE_MARKUP.search(everything)):
            raise ValueError("a script payload carries active markup (<script>, on...=), and back")
        if "extraction" in self.kinds and "system_prompt" not in self.wants:
            raise ValueError("an extraction payload wants the system_prompt")
        if self.technique == "prompt_extraction" and "LLM07" not in self.owasp:
            raise ValueError("prompt extraction is OWASP LLM07 (system prompt leakage)")
        return self

    @property
    def goal(self) -> Goal:
        """What a hidden instruction of a document is after (`DocumentsOptions.hidden`)."""
        if "exfil_link" in self.wants:
            return "exfiltration"
        if "system_prompt" in self.wants:
            return "extraction"
        return "injection"

    @property
    def family(self) -> str:
        return TECHNIQUES[self.technique].family

    def preview(self, width: int = 60) -> str:
        """One line of the text, for listings."""
        line = " ".join((self.encode or self.text).split())
        return line if len(line) <= width else line[: width - 1] + "…"


_ENCODING_TECHNIQUES = {
    "base64",
    "rot13",
    "leetspeak",
    "zero_width",
    "homoglyph",
    "fullwidth",
    "unicode_tags",
    "reversed",
}


class LibraryFile(BaseModel):
    """`library-v1.yaml`: a version string and the payloads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(pattern=r"^\d+\.\d+$", description="library version, e.g. 1.0")
    payloads: tuple[Payload, ...] = Field(min_length=1)

    @field_validator("payloads")
    @classmethod
    def _unique_ids(cls, payloads: tuple[Payload, ...]) -> tuple[Payload, ...]:
        seen: dict[str, int] = {}
        for index, payload in enumerate(payloads):
            if payload.id in seen:
                raise ValueError(
                    f"payload id {payload.id} is used twice (items {seen[payload.id]} and {index})"
                )
            seen[payload.id] = index
        return payloads
