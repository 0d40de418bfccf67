"""The provider journal: one immutable record per call the mock provider received.

Records are the provider half of the lab's evidence (what the target sent to the model, how
often, with which retry count and timeout), so they carry the raw facts and no verdicts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["messages"] = list(self.messages)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProviderCall:
        data = dict(data)
        data["messages"] = tuple(data.get("messages", ()))
        return cls(**data)
