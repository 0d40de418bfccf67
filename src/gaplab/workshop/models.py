"""A lesson file (`workshop/<name>.yaml`): strict pydantic model, loaded with file:line
errors through gaplab.scenario.loader like scenarios are. Reference: docs/workshop.md."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Lesson(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    order: int = Field(default=100, ge=0, description="position in the lesson list")
    title: str = Field(min_length=1)
    story: str = Field(min_length=1, description="the failure story, in a few lines")
    prediction: str = Field(min_length=1, description="the question the room answers first")
    scenario: str = Field(min_length=1, description="a bundled scenario name or a file")
    naive: str = Field(default="demo:naive", description="the target of the first run")
    hardened: str = Field(default="demo:hardened", description="the target of the second run")
    explain: str = Field(min_length=1, description="what the naive run's scorecard shows")
    defences: tuple[str, ...] = Field(
        default=(), description="the demo:hardened defences that answer this story"
    )
    defence: str = Field(min_length=1, description="what the defence does, in a few lines")
    watch: tuple[str, ...] = Field(
        default=(), description="check ids to point at on both scorecards"
    )
    seconds: float | None = Field(default=None, gt=0, description="override: not used to run")

    @field_validator("story", "prediction", "explain", "defence")
    @classmethod
    def _paragraphs(cls, value: str) -> str:
        """Prose, reflowed: the file's line breaks are joined (a screen or a projector
        wraps at its own width); a blank line starts a new paragraph."""
        paragraphs = (" ".join(p.split()) for p in value.strip().split("\n\n"))
        return "\n\n".join(p for p in paragraphs if p)
