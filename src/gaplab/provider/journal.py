"""The provider journal: one immutable record per call the mock provider received.

Records are the provider half of the lab's evidence (what the target sent to the model, how
often, with which retry count and timeout), so they carry the raw facts and no verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class ProviderCall:
    call_id: str
    dialect: str  # "openai" | "anthropic"
    path: str
    t_arrival: float  # seconds on the run clock
    t_first_byte: float | None
    t_end: float
    status: int  # HTTP status sent, 0 when nothing was sent (hang, client gone)
    outcome: str  # "completed" | "error" | "client_disconnected" | "hung" | "stream_cut"
    model_requested: str | None = None
    model_served: str | None = None
    stream: bool = False
    max_tokens: int | None = None
    system_prompt: str | None = None
    messages: tuple[dict[str, Any], ...] = ()
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    retry_count: int | None = None
    read_timeout: float | None = None
    user_agent: str | None = None
    correlation: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    # Added with the full catalogue (all optional, so older journals still load):
    tools: tuple[dict[str, Any], ...] = ()  # tool definitions the caller offered
    finish_reason: str | None = None  # as the dialect spelled it (stop, length, end_turn...)
    planted: dict[str, str] = field(default_factory=dict)  # what the lab put in the answer:
    # canary, system_prompt, exfil_url, pii.name/email/phone, bad_output (ground truth)
    tokens_cached: int = 0  # of tokens_in, read from the prompt cache (billed at its price)
    retry_after: float | None = None  # an error's wait: the later of retry-after(-ms) sent

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: fields hold JSON-ready values, and asdict's deep copy of the
        # messages made journaling a million calls several times slower.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["messages"] = list(self.messages)
        data["correlation"] = dict(self.correlation)
        data["planted"] = dict(self.planted)
        data["tools"] = list(self.tools)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderCall:
        data = dict(data)
        data["messages"] = tuple(data.get("messages", ()))
        data["tools"] = tuple(data.get("tools", ()))
        return cls(**data)
