"""The `contract` defence: a JSON answer is used only when it has the shape we promised.

`read_triage(text)` parses the model's text and validates it with the pydantic model
`Triage` (category and urgency from fixed lists, a one-sentence summary); it returns the
validated object or says what was wrong, in words the model can be told on its second
try (`correction`). Extra fields the model adds are dropped, not an error: the contract is
what we hand on, and that is exactly the three fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gaplab.demo.service import TRIAGE_CATEGORIES, TRIAGE_URGENCIES

Category = Literal["order", "delivery", "repair", "return", "billing", "other"]
Urgency = Literal["low", "medium", "high"]
# The prompt lists the values this model accepts: one source of truth, checked at import.
assert get_args(Category) == TRIAGE_CATEGORIES and get_args(Urgency) == TRIAGE_URGENCIES


class Triage(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    category: Category
    urgency: Urgency
    summary: str = Field(min_length=3, max_length=400)


@dataclass(frozen=True)
class TriageReading:
    triage: Triage | None
    problem: str = ""

    def correction(self) -> str:
        """What to tell the model on the second try."""
        return (
            f"Your previous answer could not be used: {self.problem}. Reply again with only "
            'a JSON object with exactly the keys "category", "urgency" and "summary", using '
            f"one of the allowed values for category ({', '.join(TRIAGE_CATEGORIES)}) and "
            f"urgency ({', '.join(TRIAGE_URGENCIES)}), and no other text."
        )


def read_triage(text: str) -> TriageReading:
    try:
        data = json.loads(text)
    except ValueError as exc:
        return TriageReading(None, f"it is not valid JSON ({exc.args[0] if exc.args else exc})")
    if not isinstance(data, dict):
        return TriageReading(None, "it is not a JSON object")
    try:
        return TriageReading(Triage.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'object'}: {error['msg']}"
            for error in exc.errors()
        )
        return TriageReading(None, f"it does not match the format ({problems})")
